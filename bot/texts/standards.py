"""The SOP's time standards: the steps' names, reminders, escalation, overstay alerts and
the daily review."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta, tzinfo
from html import escape

from bot.core.standards import Step, StepTiming
from bot.core.visits import Visit
from bot.texts import watchlist as watchlist_texts
from bot.texts.common import clock, date_text, duration, pages, status_name

# Short, because the access log's columns and the chart's axis show them too.
STEP_NAMES = {
    Step.FORM: "Formulir",
    Step.RECORDING: "Pencatatan",
    Step.HANDOVER: "Penyerahan",
    Step.DECISION: "Keputusan",
    Step.VISIT: "Kunjungan",
}
# Where each step is in the SOP's own numbering.
STEP_SOP = {
    Step.FORM: "langkah 1",
    Step.RECORDING: "langkah 2",
    Step.HANDOVER: "langkah 3",
    Step.DECISION: "langkah 4-5",
    Step.VISIT: "langkah 6",
}


def breach_note(timing: StepTiming) -> str:
    """'Keputusan 12 > 10 mnt' (running steps marked, e.g. 'Kunjungan 40+ > 30 mnt')."""
    minutes = int((timing.minutes or 0) // 1)
    running = "+" if timing.running else ""
    return f"{STEP_NAMES[timing.step]} {minutes}{running} > {timing.standard_minutes} mnt"


def breaches_text(timings: Sequence[StepTiming]) -> str:
    return "; ".join(breach_note(t) for t in timings if t.breached)


def _minutes_left(left: timedelta) -> str:
    minutes = max(1, -(-int(left.total_seconds()) // 60))  # rounded up: "1 menit" at 30 s
    return f"{minutes} menit"


def decision_reminder(visit: Visit, left: timedelta, standard: int) -> str:
    return (
        f"⏰ <b>Pengingat</b>: permintaan <b>{visit.reference}</b> "
        f"({escape(visit.name)}, {escape(visit.organisation)}) belum diputuskan.\n"
        f"Sisa waktu standar keputusan ({standard} menit): <b>{_minutes_left(left)}</b>. "
        "Silakan Setujui atau Tolak pada kartu permintaan."
    )


def escalated_officer(visit: Visit, standard: int, backups: list[str]) -> str:
    return (
        f"📣 Permintaan <b>{visit.reference}</b> ({escape(visit.name)}) melewati standar "
        f"keputusan {standard} menit dan dieskalasi ke approver cadangan: "
        f"{escape(', '.join(backups) or '-')}."
    )


def escalated_backup(visit: Visit, standard: int) -> str:
    return (
        f"📣 <b>Eskalasi</b>: permintaan <b>{visit.reference}</b> ({escape(visit.name)}) "
        f"belum diputuskan setelah {standard} menit. Mohon diputuskan pada kartu berikut."
    )


def overstay_alert(visit: Visit, number: int, now: datetime, escort: str, tz: tzinfo) -> str:
    end = visit.planned_end
    over = duration(now - end) if end is not None else "-"
    return (
        f"🚨 <b>Melebihi waktu</b> (peringatan ke-{number}): {escape(visit.name)} "
        f"({visit.reference}) masih di ruang server.\n"
        f"Rencana selesai {clock(end, tz)}, lewat {over}. Pendamping: {escape(escort)}.\n"
        "Mohon pengunjung diantar keluar dan KELUAR dicatat dengan memindai badge."
    )


def former_escort(name: str) -> str:
    """The overstay alert's escort when they are no longer one (removed, or the role taken):
    the alert then goes to the escorts on duty, who must take over."""
    return f"{name} (sudah bukan pendamping; mohon pendamping lain mendampingi)"


def daily_review(
    day: date,
    visits: list[Visit],
    breaches: list[tuple[Visit, list[StepTiming]]],
    inside: list[Visit],
    pending: list[Visit],
    now: datetime,
    tz: tzinfo,
    *,
    watchlist: Sequence[str] = (),
    anchor: str = "",
) -> list[str]:
    """NIST PE-8: the access log reviewed every day, anomalies reported. ``watchlist``: the
    lines of yesterday's watchlist changes; ``anchor``: the audit anchor's note, which ends
    the review. One message or several: the audit day itself fills more than one."""
    lines = [f"Kunjungan kemarin: <b>{len(visits)}</b>"]
    for visit in visits:
        barred = watchlist_texts.LIST_MARK if visit.watchlisted else ""
        lines.append(
            f"• {visit.reference} {escape(visit.name)} ({escape(visit.organisation)}) — "
            f"{status_name(visit)}{barred}"
        )
    lines.append(f"\nPelanggaran standar waktu: <b>{len(breaches)}</b>")
    for visit, steps in breaches:
        parts = ", ".join(escape(breach_note(t)) for t in steps)
        lines.append(f"• {visit.reference} {escape(visit.name)}: {parts}")
    lines.append(f"\nMasih di ruang server: <b>{len(inside)}</b>")
    for visit in inside:
        lines.append(
            f"• {visit.reference} {escape(visit.name)} — masuk {clock(visit.entered_at, tz)}"
        )
    lines.append(f"\nMenunggu keputusan: <b>{len(pending)}</b>")
    for visit in pending:
        lines.append(
            f"• {visit.reference} {escape(visit.name)} — menunggu "
            f"{duration(now - visit.submitted_at)}"
        )
    if not (breaches or inside or pending):
        lines.append("\nTidak ada anomali.")
    lines.extend(watchlist)
    return pages(
        f"📋 <b>Tinjauan harian pencatatan akses</b> — {date_text(day)}",
        lines,
        f"\n{anchor}" if anchor else "",
    )
