"""Texts of the time-standard enforcement: reminders, escalation, overstay, daily review.

Same rules as bot/texts/__init__.py: raw values in, user input escaped here, Indonesian.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, tzinfo
from html import escape

from bot.core.standards import Step, StepTiming
from bot.core.visits import Visit
from bot.texts import clock, duration

STEP_LABELS = {
    Step.FORM: "Pengisian formulir",
    Step.RECORDING: "Pencatatan",
    Step.HANDOVER: "Penyerahan ke Kepala Seksi",
    Step.DECISION: "Keputusan",
    Step.VISIT: "Kunjungan",
}


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


def daily_review(
    day: date,
    visits: list[Visit],
    breaches: list[tuple[Visit, list[StepTiming]]],
    inside: list[Visit],
    pending: list[Visit],
    now: datetime,
    tz: tzinfo,
) -> str:
    """NIST PE-8: the access log reviewed every day, anomalies reported."""
    lines = [
        f"📋 <b>Tinjauan harian pencatatan akses</b> — {day.strftime('%d-%m-%Y')}",
        f"Kunjungan kemarin: <b>{len(visits)}</b>",
    ]
    for visit in visits:
        lines.append(
            f"• {visit.reference} {escape(visit.name)} ({escape(visit.organisation)}) — "
            f"{visit.status.value}"
        )
    lines.append(f"\nPelanggaran standar waktu: <b>{len(breaches)}</b>")
    for visit, steps in breaches:
        parts = ", ".join(
            f"{STEP_LABELS[t.step]} {int(t.minutes or 0)} &gt; {t.standard_minutes} mnt"
            for t in steps
        )
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
    return "\n".join(lines)
