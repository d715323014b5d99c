"""/aktif and /menunggu: who is inside the server room, and what waits for a decision."""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo
from html import escape

from bot.core.visits import Visit
from bot.texts import watchlist as watchlist_texts
from bot.texts.common import clock, duration, pages, plan_text, when

NOBODY_INSIDE = "Tidak ada pengunjung di dalam ruang server saat ini."
NOTHING_PENDING = "Tidak ada permintaan yang menunggu keputusan."


def inside_list(
    visits: list[Visit], now: datetime, names: dict[int, str], tz: tzinfo
) -> list[str]:
    """/aktif, as one message or several (an audit team inside fills more than one)."""
    lines = []
    for visit in visits:
        spent = visit.time_inside(now) or timedelta()
        flag = " ⚠️ <b>melewati rencana</b>" if visit.overstayed(now) else ""
        escort = escape(names.get(visit.entry_escort_id or 0, "-"))
        barred = watchlist_texts.LIST_MARK if visit.watchlisted else ""
        lines.append(
            f"\n• <b>{escape(visit.name)}</b> ({escape(visit.organisation)}) — {visit.reference}"
            f"{barred}\n"
            f"  masuk {clock(visit.entered_at, tz)}, {duration(spent)} dari "
            f"{visit.duration_minutes} menit{flag}\n  pendamping: {escort}"
        )
    return pages(f"🔓 <b>Di dalam ruang server: {len(visits)}</b>", lines)


def pending_list(visits: list[Visit], now: datetime, standard: int, tz: tzinfo) -> list[str]:
    """/menunggu, as one message or several."""
    lines = []
    for visit in visits:
        waited = now - visit.submitted_at
        if visit.plan is not None:  # decided ahead: its standards count from the arrival
            lines.append(
                f"\n• <b>{escape(visit.name)}</b> ({escape(visit.organisation)}) — "
                f"{visit.reference}\n  📅 terjadwal {plan_text(visit.plan)}, diajukan "
                f"{when(visit.submitted_at, tz)}"
            )
            continue
        flag = " ⚠️ <b>melewati standar</b>" if waited > timedelta(minutes=standard) else ""
        barred = watchlist_texts.LIST_MARK if visit.watchlisted else ""
        lines.append(
            f"\n• <b>{escape(visit.name)}</b> ({escape(visit.organisation)}) — {visit.reference}"
            f"{barred}\n"
            f"  diajukan {clock(visit.submitted_at, tz)}, menunggu {duration(waited)} "
            f"(standar {standard} menit){flag}"
        )
    return pages(f"⏳ <b>Menunggu keputusan: {len(visits)}</b>", lines)
