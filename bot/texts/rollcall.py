"""The evacuation roll call (/darurat): the message every staff member gets, kept up to date."""

from __future__ import annotations

from datetime import datetime, tzinfo
from html import escape

from bot.core.rollcall import MarkOutcome, RollCall
from bot.core.visits import Visit
from bot.texts.common import clock, when

TITLE = "🚨 <b>APEL DARURAT — evakuasi ruang server</b>"
NOBODY = "Tidak ada pengunjung di dalam ruang server saat apel dimulai. Apel selesai."
HOW_TO_MARK = (
    "Pendamping: tekan tombol <b>Aman</b> untuk setiap pengunjung yang sudah berada di luar "
    "dengan selamat. Pesan ini diperbarui untuk semua staf."
)
BUTTON_NAME_MAX = 28  # a button shows one short line; the message above names them in full
ERASED = "(data dihapus)"
CLOSED = "Apel darurat ini sudah selesai."
# MASUK while a roll call runs: refused, since the roll call counts only who was inside when
# it began. The scan view says it where its MASUK button would be; a tap on an earlier
# view's button gets it as an alert (at most 200 characters: answerCallbackQuery's text).
NO_ENTRY = (
    "🚨 <b>Apel darurat sedang berjalan: MASUK tidak dapat dicatat.</b> Jangan izinkan "
    "pengunjung masuk ruang server sampai apel selesai (semua pengunjung aman), lalu pindai "
    "badge lagi."
)
NO_ENTRY_TAP = (
    "🚨 Apel darurat sedang berjalan: MASUK tidak dicatat. Jangan izinkan pengunjung masuk "
    "sampai apel selesai, lalu tekan Catat MASUK lagi atau pindai badge lagi."
)


def safe_button(visit: Visit | None) -> str:
    name = visit.name if visit is not None else ERASED
    if len(name) > BUTTON_NAME_MAX:
        name = name[: BUTTON_NAME_MAX - 1] + "…"
    return f"✅ Aman: {name}"


def message(
    roll: RollCall,
    visits: dict[int, Visit],
    names: dict[int, str],
    tz: tzinfo,
) -> str:
    """The roll call as every staff member reads it: who was inside, who is safe, who not."""
    lines = [
        TITLE,
        f"Dimulai {when(roll.started_at, tz)} oleh {escape(names.get(roll.started_by, '-'))}",
    ]
    if not roll.entries:
        return "\n".join([*lines, "", NOBODY])
    total, left = len(roll.entries), len(roll.remaining)
    lines.append(f"Di dalam saat apel dimulai: <b>{total}</b> — belum aman: <b>{left}</b>")
    entries = _entries(roll, visits, names, tz)
    if len("\n".join([*lines, *entries])) > MESSAGE_ROOM:
        entries = _entries(roll, visits, names, tz, short=True)
    lines += entries
    if roll.ended_at is not None:
        lines.append(f"\n✅ <b>Semua pengunjung aman</b> pukul {clock(roll.ended_at, tz)}.")
    else:
        lines.append(f"\n{HOW_TO_MARK}")
    return "\n".join(lines)


# Telegram takes at most 4096 characters (https://core.telegram.org/bots/api#sendmessage);
# with many visitors inside, each gets one short line instead of three, so the roll call is
# never refused for its length (the markup counted too: this only errs on the safe side).
MESSAGE_ROOM = 3600


def _entries(
    roll: RollCall,
    visits: dict[int, Visit],
    names: dict[int, str],
    tz: tzinfo,
    short: bool = False,
) -> list[str]:
    lines = []
    for entry in roll.by_escort():
        visit = visits.get(entry.visit_id)
        escort = escape(names.get(entry.escort_id or 0, "-"))
        if short:
            name = escape(visit.name[:40]) if visit is not None else ERASED
            done = f" aman {clock(entry.safe_at, tz)}" if entry.safe else ""
            lines.append(f"{'✅' if entry.safe else '⬜'} {name} ({escort}){done}")
            continue
        who = (
            f"<b>{escape(visit.name)}</b> ({escape(visit.organisation)}) — {visit.reference}"
            if visit is not None
            else ERASED
        )
        marker = escape(names.get(entry.marked_by or 0, "-"))
        state = (
            f"aman {clock(entry.safe_at, tz)}, ditandai oleh {marker}"
            if entry.safe
            else "<b>belum aman</b>"
        )
        lines.append(
            f"\n{'✅' if entry.safe else '⬜'} {who}\n"
            f"   pendamping: {escort}, masuk {clock(entry.entered_at, tz)}\n   {state}"
        )
    return lines


def already_running(roll: RollCall, starter: str, tz: tzinfo) -> str:
    """/darurat while a roll call is on: the one in progress goes on."""
    return (
        f"Apel darurat sedang berjalan sejak {clock(roll.started_at, tz)} (dimulai oleh "
        f"{escape(starter)}), belum aman: {len(roll.remaining)}. Tandai pengunjung pada pesan "
        "apel darurat."
    )


def marked(outcome: MarkOutcome, visit: Visit | None) -> str:
    """The answer to the tap that marked someone safe."""
    name = visit.name if visit is not None else ERASED
    if outcome is MarkOutcome.ENDED:
        return f"{name} aman. Semua pengunjung aman."
    return f"{name} ditandai aman."


def already_marked(visit: Visit | None, by: str, at: datetime | None, tz: tzinfo) -> str:
    """A second tap (a double tap, or someone else was quicker): nothing changes."""
    name = visit.name if visit is not None else ERASED
    return f"{name} sudah ditandai aman oleh {by} pukul {clock(at, tz)}."


# The reports: the XLSX sheet and the PDF section (bot/reports/rollcalls.py).
REPORT_SECTION = "Apel darurat"
REPORT_COLUMNS = (
    "Mulai",
    "Dimulai oleh",
    "Selesai",
    "No. Ref",
    "Pengunjung",
    "Pendamping",
    "Masuk",
    "Aman",
    "Ditandai oleh",
)
REPORT_NOBODY = "Tidak ada pengunjung di dalam"
