"""The escorts' duty roster (/piket): one's own status, one toggle, and who else is on duty."""

from __future__ import annotations

from datetime import datetime, tzinfo
from html import escape

from bot.core.duty import Shift
from bot.core.roles import Role
from bot.core.visits import Visit
from bot.texts.common import clock, only_for

NOT_AN_ESCORT = only_for(Role.ESCORT)
BTN_START = "🟢 Mulai piket"
BTN_END = "⚪ Selesai piket"
STARTED = "Piket dimulai."
ENDED = "Piket selesai."
ALREADY_ON = "Anda sudah sedang piket."
ALREADY_OFF = "Anda memang sedang tidak piket."
# Who is told of an approved visitor, in both states, so nobody wonders where notices went.
_WHO_IS_TOLD = (
    "Pemberitahuan <i>pengunjung menunggu di meja petugas</i> dikirim hanya kepada "
    "pendamping yang sedang piket; jika tidak ada yang piket, kepada semua pendamping."
)


def status(own: Shift | None, others: list[tuple[str, datetime]], tz: tzinfo) -> str:
    """The escort's /piket message: their own state, then the others on duty by name and
    since when (office time)."""
    if own is not None:
        head = (
            f"🟢 <b>Anda sedang piket</b> sejak pukul {clock(own.started_at, tz)}, "
            "sampai pukul 24.00 hari ini (piket berakhir sendiri di akhir hari), "
            "atau sampai Anda menekan <b>Selesai piket</b>."
        )
    else:
        head = (
            "⚪ <b>Anda sedang tidak piket.</b> Tekan <b>Mulai piket</b> saat Anda bertugas "
            "mendampingi pengunjung hari ini."
        )
    if others:
        lines = ["<b>Pendamping lain yang sedang piket:</b>"]
        lines += [f"• {escape(name)}, sejak {clock(since, tz)}" for name, since in others]
        roster = "\n".join(lines)
    else:
        roster = "Tidak ada pendamping lain yang sedang piket."
    return f"{head}\n\n{roster}\n\n{_WHO_IS_TOLD}"


def waiting_taken(visit: Visit, escort: str, tz: tzinfo) -> str:
    """An escort's "a visitor waits", once another escort took the visitor in: nobody to
    fetch. No name (the reference is enough to know which visitor it was)."""
    return (
        f"✅ <b>Sudah dijemput</b> — pengunjung {visit.reference} dibawa masuk ruang server "
        f"oleh {escape(escort)}, pukul {clock(visit.entered_at, tz)}.\n"
        "Tidak perlu ke meja petugas."
    )
