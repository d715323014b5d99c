"""The access log's reports: column titles, the PDF's header and signature block, the
chart's labels, and the chat replies of /laporan, /statistik and /riwayat."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime, tzinfo
from html import escape

from bot.core.nik import NIK_LENGTH, mask_nik, mask_niks_in
from bot.core.standards import Step
from bot.core.visits import Visit, VisitStatus
from bot.texts import form as form_texts
from bot.texts.common import date_text, pages
from bot.texts.standards import STEP_NAMES, STEP_SOP

# --- the log's columns (XLSX, CSV and PDF share them) ----------------------------------------
COL_NO = "No"
COL_DATE = "Tanggal"
COL_REFERENCE = "Ref"
COL_STATUS = "Status"
COL_APPROVED_BY = "Disetujui oleh"
COL_DECIDED_AT = "Waktu keputusan"
COL_ESCORT = "Pendamping"
COL_ENTRY = "Masuk"
COL_EXIT = "Keluar"
COL_DURATION = "Durasi (mnt)"
COL_BREACHES = "Pelanggaran standar waktu"
COL_NOTES = "Catatan"


def pdf_notes(lines: list[str]) -> str:
    """A visit's notes as the PDF prints them: one line under its row, across the table."""
    return f"{COL_NOTES}: " + " · ".join(lines)


STATUS_SHORT = {
    VisitStatus.PENDING: "Menunggu",
    VisitStatus.SCHEDULED: "Terjadwal",
    VisitStatus.APPROVED: "Disetujui",
    VisitStatus.DENIED: "Ditolak",
    VisitStatus.CANCELLED: "Dibatalkan",
    VisitStatus.INSIDE: "Di dalam",
    VisitStatus.DONE: "Selesai",
    VisitStatus.EXPIRED: "Kedaluwarsa",
}


def denied_by(name: str) -> str:
    return f"(ditolak: {name})"


# --- the log's notes (the "Catatan" column and /riwayat): one short plain line an outcome ------
# Built by bot/reports/log.py notes(); plain text (no markup): /riwayat escapes each line.
NO_REASON = "-"
SYSTEM = "sistem"  # a request withdrawn by the bot itself (a visitor's data erased)


NOTE_SELF_REGISTERED = "Diisi sendiri oleh pengunjung (tautan /undang_tamu)"


def note_planned(day: date, window: str) -> str:
    """A visit planned ahead (/jadwal), against a walk-in: its day and time window."""
    return f"Terjadwal {day:%d-%m-%Y} {window}"


# A walk-in request nobody decided by the end of the day it was submitted (workflow.expire).
NOTE_LAPSED = "Tidak diputuskan sampai batas waktunya; ditutup"


def note_denied(reason: str) -> str:
    """Why the section head refused the request."""
    return f"Ditolak: {reason or NO_REASON}"


def note_cancelled(officer: str, at: datetime | None, reason: str) -> str:
    """The officer withdrew the request (/batalkan): who, when, and why."""
    moment = f", {at:%d-%m %H:%M}" if at is not None else ""
    return f"Dibatalkan oleh {officer}{moment}: {reason or NO_REASON}"


def note_rules(at: datetime | None) -> str:
    """The visitor read and agreed to the server-room rules (issue 14, part 6)."""
    return f"Tata tertib disetujui {at:%d-%m %H:%M}" if at is not None else "Tata tertib disetujui"


def note_roll_call(started: datetime, safe: datetime | None) -> str:
    """An evacuation roll call the visitor was on (issue 14, part 5), and when they were
    marked safe: 'Apel darurat 28-11 09:05: aman 09:12'."""
    state = f"aman {safe:%H:%M}" if safe is not None else "belum ditandai aman"
    return f"Apel darurat {started:%d-%m %H:%M}: {state}"


# The escort's equipment check at KELUAR (only when the form listed equipment).
NOTE_EQUIPMENT_OK = "Perangkat sesuai"


def note_discrepancy(note: str) -> str:
    """What the escort found missing or extra when the visitor left."""
    return f"Selisih perangkat: {note or NO_REASON}"


def unknown_staff(user_id: int) -> str:
    """A decider or escort no longer on the staff list."""
    return f"ID {user_id}"


def step_label(step: Step, separator: str = " ") -> str:
    """'Keputusan (langkah 4-5)': a step and where the SOP puts it."""
    return f"{STEP_NAMES[step]}{separator}({STEP_SOP[step]})"


# --- sheets, PDF and chart -------------------------------------------------------------------
SHEET_LOG = "Log akses"
SHEET_SUMMARY = "Ringkasan"
GOVERNMENT = "PEMERINTAH KABUPATEN LUMAJANG"
OFFICE = "DINAS KOMUNIKASI DAN INFORMATIKA"
REPORT_TITLE = "Pencatatan Akses Ruang Server"
SIGNATORY_TITLE = "Kepala Seksi Pengelolaan dan Pengembangan Infrastruktur SPBE"
SIGNATURE_PLACE = "Lumajang"
SIGNATURE_KNOWN = "Mengetahui,"
SIGNATURE_NAME_LINE = "(" + "." * 60 + ")"
SIGNATURE_NIP = "NIP. " + "." * 40
NO_ROWS = "Tidak ada kunjungan pada periode ini."
SUMMARY_VISITS = "Jumlah permintaan"
SUMMARY_STANDARD = "Standar (menit)"
SUMMARY_PERIOD = "Periode"
SUMMARY_STEP = "Langkah SOP"
SUMMARY_PRINTED = "Dicetak"
CHART_VISITS_TITLE = "Permintaan akses per hari"
CHART_VISITS_AXIS = "Jumlah"
CHART_ENTERED = "masuk ruang server"
CHART_OTHER = "tidak masuk / belum"
CHART_STEPS_TITLE = "Median durasi tiap langkah SOP\nvs standar (menit)"
CHART_MEDIAN = "median"
CHART_STANDARD = "standar"
CHART_NO_DATA = "tidak ada data"


def visit_standard_note(minutes: int) -> str:
    return f"{minutes}, atau durasi rencana bila lebih lama"


def period_label(start: date, end: date) -> str:
    first, last = date_text(start), date_text(end)
    return first if start == end else f"{first} s.d. {last}"


def page_label(page: int | str, pages: int | str) -> str:
    return f"Halaman {page} dari {pages}"


def signature_date(day: date) -> str:
    return f"{SIGNATURE_PLACE}, {long_date(day)}"


MONTHS = (
    "Januari", "Februari", "Maret", "April", "Mei", "Juni",
    "Juli", "Agustus", "September", "Oktober", "November", "Desember",
)  # fmt: skip


def long_date(day: date) -> str:
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"


def breach_count(count: int, total: int) -> str:
    return f"{count} pelanggaran dari {total}"


def chart_note(median: float, note: str) -> str:
    """Beside a step's bar: its median and how often it broke the standard."""
    return f"{median:.1f} mnt · {note}"


# --- chat: /laporan and /statistik -----------------------------------------------------------
BTN_WEEK = "Minggu ini"
BTN_MONTH = "Bulan ini"
ONLY_REPORT_ROLES = (
    "Maaf, laporan, riwayat, dan statistik hanya untuk Petugas, Kepala Seksi, dan Admin. "
    "Pendamping tetap dapat memakai /aktif dan /menunggu."
)
CHOOSE_REPORT_PERIOD = (
    "📊 <b>Laporan Pencatatan Akses Ruang Server</b>\n\n"
    "Pilih periode, atau ketik dua tanggal, mis. <code>01-11-2026 28-11-2026</code>."
)
CHOOSE_STATS_PERIOD = (
    "📈 <b>Statistik standar waktu</b>\n\n"
    "Pilih periode, atau ketik dua tanggal, mis. <code>01-11-2026 28-11-2026</code>."
)
BAD_DATES = (
    "Tanggal tidak dikenali. Tulis tanggal sebagai hari-bulan-tahun, mis. "
    "<code>01-11-2026 28-11-2026</code> (<code>2026-11-01</code> juga diterima)."
)
REVERSED_DATES = "Tanggal awal harus sebelum atau sama dengan tanggal akhir."
PREPARING = "⏳ Menyiapkan laporan…"


def period_too_long(days: int) -> str:
    return (
        f"Periode terlalu panjang: paling lama {days} hari. "
        "Untuk periode yang lebih panjang, minta admin mengekspor dari server."
    )


def nothing_in_period(start: date, end: date) -> str:
    return f"Tidak ada permintaan akses pada periode {period_label(start, end)}."


def report_sent(start: date, end: date, rows: int, breached_visits: int) -> str:
    return (
        f"📊 Pencatatan akses ruang server, {period_label(start, end)}: <b>{rows}</b> permintaan, "
        f"{breached_visits} dengan pelanggaran standar waktu.\n"
        "Terlampir: XLSX (untuk diolah) dan PDF (untuk dicetak dan ditandatangani)."
    )


def stats_caption(start: date, end: date, rows: int, counts: dict[Step, tuple[int, int]]) -> str:
    """The chart's caption: breaches per step, 'n of measured'."""
    total = sum(count for count, _ in counts.values())
    lines = [
        f"📈 Statistik {period_label(start, end)}: <b>{rows}</b> permintaan, "
        f"<b>{total}</b> pelanggaran standar waktu."
    ]
    for step, (count, measured) in counts.items():
        flag = " ⚠️" if count else ""
        lines.append(f"• {STEP_NAMES[step]}: {count} dari {measured}{flag}")
    return "\n".join(lines)


# --- chat: /riwayat --------------------------------------------------------------------------
HISTORY_USAGE = (
    "🔎 Ketik NIK atau nama pengunjung yang dicari, mis. <code>3508015507900002</code> "
    "atau <code>Ayu</code>. /batal untuk batal."
)


def history_query_too_short(min_letters: int) -> str:
    return f"Ketik paling sedikit {min_letters} huruf nama, atau NIK lengkap {NIK_LENGTH} angka."


def _shown_query(query: str) -> str:
    """A NIK typed as the query is masked in the reply too."""
    return mask_nik(query) if query.isdigit() else query


def history_none(query: str) -> str:
    return f"Tidak ada riwayat kunjungan untuk <b>{escape(_shown_query(query))}</b>."


def history(
    query: str,
    visits: Sequence[Visit],
    tz: tzinfo,
    names: dict[int, str],
    limit: int,
    notes: Mapping[int, Sequence[str]],
) -> list[str]:
    """Newest first, at most ``limit``; the NIK always masked (the query may be a NIK), also
    one typed into the free text of the details or the notes (``mask_niks_in``, as on the
    cards). ``notes``: each visit's outcome lines by visit id (bot/reports/log.py ``notes``).
    One message or several: a monthly vendor's visits fill more than one."""
    more = "+" if len(visits) > limit else ""
    shown = visits[:limit]
    entries = []
    for visit in shown:
        local = visit.submitted_at.astimezone(tz)
        moves = ""
        if visit.entered_at is not None:
            exit_ = visit.exited_at.astimezone(tz).strftime("%H:%M") if visit.exited_at else "-"
            moves = f", masuk {visit.entered_at.astimezone(tz):%H:%M} keluar {exit_}"
        escort = names.get(visit.entry_escort_id or 0)
        escort_text = f", pendamping {escape(escort)}" if escort else ""
        details = mask_niks_in(form_texts.history_details(vars(visit)))
        lines = [
            f"\n• <b>{date_text(local)}</b> {visit.reference} — {STATUS_SHORT[visit.status]}\n"
            f"  {details}{moves}{escort_text}"
        ]
        lines.extend(f"  {escape(mask_niks_in(note))}" for note in notes.get(visit.id, ()))
        entries.append("\n".join(lines))
    return pages(
        f"🗂 <b>Riwayat kunjungan: {escape(_shown_query(query))}</b> ({len(shown)}{more})",
        entries,
        "\n… dan kunjungan lain yang lebih lama (lihat /laporan)." if more else "",
    )
