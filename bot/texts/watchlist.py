"""The watchlist (/blokir, /buka_blokir, /daftar_blokir): the commands' answers, the mark on
a request whose NIK is barred, the approvers' alert, the second confirmation, the daily
review's section and the access log's note."""

from __future__ import annotations

from datetime import tzinfo
from html import escape

from bot.core.fields import REASON_MAX
from bot.core.nik import NIK_LENGTH, NikProblem, mask_nik
from bot.core.visits import Visit
from bot.core.watchlist import Problem, WatchEntry
from bot.texts.common import pages, when
from bot.texts.form import NIK_PROBLEMS

# On every approver's card ("blokir" is the word people look for).
CARD_FLAG = (
    "⛔ <b>NIK dalam daftar blokir.</b> Periksa alasannya (/daftar_blokir) sebelum memutuskan; "
    "menyetujui perlu konfirmasi kedua."
)
# Under the officer's receipt.
OFFICER_FLAG = (
    "⛔ <b>NIK pengunjung ini ada dalam daftar blokir.</b> Kepala Seksi sudah diberi tahu. "
    "Jangan izinkan masuk sebelum ada keputusan."
)
# After a request in /menunggu.
LIST_MARK = " ⛔ <b>blokir</b>"
# The access log's note on a flagged visit (bot/reports/log.py).
LOG_NOTE = "⛔ NIK dalam daftar blokir"

BTN_APPROVE_BARRED = "⛔ Ya, setujui meski diblokir"
CONFIRM_FIRST = (
    "NIK pengunjung ini dalam daftar blokir. Untuk tetap menyetujui, tekan "
    "«Ya, setujui meski diblokir» pada kartu."
)

ASK_BLOCK = (
    f"⛔ <b>Blokir NIK</b>\n\nKetik NIK ({NIK_LENGTH} angka) lalu alasannya, mis.\n"
    "<code>3508xxxxxxxxxxxx merusak perangkat pada kunjungan sebelumnya</code>\n\n"
    "/batal untuk batal."
)
ASK_UNBLOCK = (
    f"✅ <b>Buka blokir NIK</b>\n\nKetik NIK ({NIK_LENGTH} angka) yang dikeluarkan dari "
    "daftar blokir.\n\n"
    "/batal untuk batal."
)
_PROBLEMS = {
    Problem.NO_NIK: f"Ketik NIK-nya ({NIK_LENGTH} angka).",
    Problem.NO_REASON: (
        "Alasan wajib diisi. Ketik NIK lalu alasannya dalam satu pesan, mis. "
        "<code>/blokir 3508xxxxxxxxxxxx alasan</code>."
    ),
    Problem.LONG_REASON: f"Alasan terlalu panjang (maksimal {REASON_MAX} karakter).",
}
EMPTY = "Daftar blokir kosong."


def refused(problem: Problem | NikProblem) -> str:
    """Why /blokir or /buka_blokir changed nothing."""
    if isinstance(problem, NikProblem):
        return f"❗ {NIK_PROBLEMS[problem]} Tidak ada yang diubah."
    return f"❗ {_PROBLEMS[problem]} Tidak ada yang diubah."


def now_barred(entry: WatchEntry, flagged: int = 0) -> str:
    """``flagged``: the holder's requests already waiting for a decision, marked now."""
    waiting = (
        f"\n{flagged} permintaan terbuka untuk NIK ini kini ditandai ⛔: yang menunggu keputusan "
        "perlu konfirmasi kedua untuk disetujui, yang terjadwal tidak diberi badge di meja "
        "petugas."
        if flagged
        else ""
    )
    return (
        f"⛔ NIK <code>{mask_nik(entry.nik)}</code> masuk <b>daftar blokir</b>.\n"
        f"Alasan: {escape(entry.reason)}\n\n"
        "Pendaftaran dengan NIK ini akan ditandai, dan Kepala Seksi diberi tahu. Badge yang "
        f"sudah terbit untuknya ditolak di pintu.{waiting}"
    )


def already_blocked(entry: WatchEntry, by: str, tz: tzinfo) -> str:
    return (
        f"NIK <code>{mask_nik(entry.nik)}</code> sudah ada dalam daftar blokir "
        f"(oleh {escape(by)}, {when(entry.blocked_at, tz)}). Tidak ada yang diubah."
    )


def now_lifted(entry: WatchEntry) -> str:
    return f"✅ NIK <code>{mask_nik(entry.nik)}</code> dikeluarkan dari daftar blokir."


NOT_LISTED = "NIK ini tidak ada dalam daftar blokir. Tidak ada yang diubah."


def listing(entries: list[tuple[WatchEntry, str]], tz: tzinfo) -> list[str]:
    """/daftar_blokir: each live entry with its reason, who barred it and when; one message
    or several (the list only grows)."""
    if not entries:
        return [EMPTY]
    lines = []
    for entry, by in entries:
        lines.append(
            f"• <code>{mask_nik(entry.nik)}</code> — {escape(entry.reason)}\n"
            f"  oleh {escape(by)}, {when(entry.blocked_at, tz)}"
        )
    return pages(f"⛔ <b>Daftar blokir</b> ({len(entries)})\n", lines)


def alert(visit: Visit, entry: WatchEntry, blocker: str, officer: str, tz: tzinfo) -> str:
    """To every approver: a request was just submitted for a barred NIK."""
    return (
        f"⛔ <b>Peringatan blokir</b>: permintaan <b>{visit.reference}</b> "
        f"({escape(visit.name)}, NIK <code>{mask_nik(visit.nik)}</code>) dari petugas "
        f"{escape(officer)} cocok dengan daftar blokir.\n"
        f"Alasan blokir: {escape(entry.reason)} (oleh {escape(blocker)}, "
        f"{when(entry.blocked_at, tz)})"
    )


def review(events: list[tuple[WatchEntry, bool, str]], tz: tzinfo) -> list[str]:
    """The daily review's section: each NIK barred or lifted yesterday, by whom and when
    (its lines, which the review pages with its own)."""
    lines = [f"\nPerubahan daftar blokir: <b>{len(events)}</b>"]
    for entry, lifted, by in events:
        masked = f"<code>{mask_nik(entry.nik)}</code>"
        if lifted:
            lines.append(f"• ✅ {masked} dibuka oleh {escape(by)}, {when(entry.lifted_at, tz)}")
        else:
            lines.append(f"• ⛔ {masked} diblokir oleh {escape(by)}, {when(entry.blocked_at, tz)}")
    return lines
