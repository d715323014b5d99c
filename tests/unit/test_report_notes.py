"""The access log's "Catatan" (notes): one line an outcome, in every report and /riwayat.

``bot/reports/log.py`` ``notes()`` is the one source; these tests pin each outcome's line
and read the documents back (XLSX with openpyxl, PDF with pypdf, CSV with csv) to see it.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import replace
from datetime import UTC, time, timedelta

from openpyxl import load_workbook

from bot.core.planning import Plan
from bot.core.visits import SYSTEM_ACTOR, EquipmentCheck, Visit, VisitStatus
from bot.reports.export import render
from bot.reports.log import COLUMNS, AccessLog, notes, text_cells
from bot.texts import reports as reports_texts
from bot.texts import watchlist as watchlist_texts
from tests.unit.test_reports import NAMES, T0, WIB, access_log, make_visit, pdf_pages

NOT_IN = dict(entered_at=None, exited_at=None, entry_escort_id=None, exit_escort_id=None)
REASON = "Surat tugas belum ada <b>vendor</b>"


def denied(number: int = 1, reason: str | None = REASON) -> Visit:
    return make_visit(number, status=VisitStatus.DENIED, deny_reason=reason, **NOT_IN)


def cancelled(number: int = 1, by: int = 1001, reason: str = "Salah tanggal") -> Visit:
    return make_visit(
        number,
        status=VisitStatus.CANCELLED,
        decided_at=None,
        decided_by=None,
        cancelled_at=T0 + timedelta(hours=1, minutes=30),  # 09:30 WIB
        cancelled_by=by,
        cancel_reason=reason,
        **NOT_IN,
    )


# --- notes() ---------------------------------------------------------------------------------


def test_a_visit_without_an_outcome_has_no_notes() -> None:
    for status in (VisitStatus.DONE, VisitStatus.APPROVED, VisitStatus.EXPIRED):
        assert notes(make_visit(1, status=status), NAMES, WIB) == []
    assert notes(make_visit(1, status=VisitStatus.PENDING, decided_at=None), NAMES, WIB) == []


def test_a_request_nobody_decided_by_the_end_of_its_day_says_so() -> None:
    lapsed = make_visit(1, status=VisitStatus.EXPIRED, decided_at=None, decided_by=None)
    assert notes(lapsed, NAMES, WIB) == [reports_texts.NOTE_LAPSED]


def test_a_denial_names_its_reason() -> None:
    assert notes(denied(), NAMES, WIB) == [f"Ditolak: {REASON}"]
    # A denial stored without a reason still says it was refused, with a dash.
    assert notes(denied(reason=None), NAMES, WIB) == ["Ditolak: -"]
    assert notes(denied(reason=""), NAMES, WIB) == ["Ditolak: -"]


def test_a_cancellation_names_who_when_in_the_office_zone_and_why() -> None:
    assert notes(cancelled(), NAMES, WIB) == [
        "Dibatalkan oleh Sari Petugas, 02-11 09:30: Salah tanggal"
    ]
    # The same moment in UTC: the zone given is the one printed.
    assert notes(cancelled(), NAMES, UTC) == [
        "Dibatalkan oleh Sari Petugas, 02-11 02:30: Salah tanggal"
    ]
    # An officer no longer on the staff list shows by id, as in every other column.
    assert notes(cancelled(by=1999), NAMES, WIB) == [
        "Dibatalkan oleh ID 1999, 02-11 09:30: Salah tanggal"
    ]
    # Withdrawn by the bot itself (the visitor's data erased): no officer, no reason.
    assert notes(cancelled(by=SYSTEM_ACTOR, reason=""), NAMES, WIB) == [
        "Dibatalkan oleh sistem, 02-11 09:30: -"
    ]


def test_the_equipment_check_at_the_exit() -> None:
    note = "Hard disk <2 TB> tertinggal"
    differs = make_visit(
        1, equipment="Laptop", equipment_check=EquipmentCheck.DIFFERS, equipment_note=note
    )
    assert notes(differs, NAMES, WIB) == [f"Selisih perangkat: {note}"]
    matches = make_visit(1, equipment="Laptop", equipment_check=EquipmentCheck.MATCHES)
    assert notes(matches, NAMES, WIB) == ["Perangkat sesuai"]
    # Anonymized: the note is gone, the discrepancy stays.
    assert notes(replace(differs, equipment_note=None), NAMES, WIB) == ["Selisih perangkat: -"]
    # No equipment listed, or a visit from before the check: nothing.
    assert notes(make_visit(1, equipment=""), NAMES, WIB) == []


def test_the_texts_are_one_plain_line_each() -> None:
    for line in (
        reports_texts.note_denied("x"),
        reports_texts.note_cancelled("Sari", None, "y"),
        reports_texts.note_discrepancy("z"),
        reports_texts.NOTE_EQUIPMENT_OK,
    ):
        assert "\n" not in line and "<" not in line
    assert reports_texts.note_cancelled("Sari", None, "y") == "Dibatalkan oleh Sari: y"


# --- the log's rows --------------------------------------------------------------------------


def test_the_row_carries_the_notes_in_the_catatan_column() -> None:
    log = access_log([make_visit(1), denied(2), cancelled(3)])
    done, refused, withdrawn = log.rows
    assert done.notes == "" and refused.notes == f"Ditolak: {REASON}"
    assert refused.approved_by == "(ditolak: Budi Kasi)"  # the decider stays in its column
    assert withdrawn.notes.startswith("Dibatalkan oleh Sari Petugas")
    assert withdrawn.approved_by == ""  # never approved: nobody to name
    column = log.titles.index("Catatan")
    assert COLUMNS[column].key == "notes" and COLUMNS[column].narrows
    assert text_cells(refused)[column] == f"Ditolak: {REASON}"
    assert text_cells(refused, short_times=True)[column] == f"Ditolak: {REASON}"
    assert log.titles[-1] == "Pelanggaran standar waktu"  # still last: the PDF's red column


def test_several_outcomes_are_one_line_each_in_the_cell() -> None:
    """Two outcomes of one visit: one line each (a denial cannot also be cancelled, so the
    row is given two lines as a later outcome would add them)."""
    log = access_log([denied()])
    row = replace(log.rows[0], notes="Ditolak: x\nDibatalkan oleh Sari: y")
    both = replace(log, rows=[row])
    sheet = load_workbook(io.BytesIO(render(both, "xlsx")))["Log akses"]
    assert (
        sheet.cell(2, both.titles.index("Catatan") + 1).value
        == "Ditolak: x\nDibatalkan oleh Sari: y"
    )
    rows = list(csv.reader(io.StringIO(render(both, "csv").decode("utf-8-sig"))))
    assert rows[1][both.titles.index("Catatan")] == "Ditolak: x\nDibatalkan oleh Sari: y"
    text = pdf_pages(render(both, "pdf"))[0]
    assert "Ditolak: x" in text and "Dibatalkan" in text


# --- the documents, read back ----------------------------------------------------------------


def catatan_log() -> AccessLog:
    return access_log([make_visit(1), denied(2), cancelled(3)])


def test_xlsx_shows_the_notes_wrapped() -> None:
    log = catatan_log()
    sheet = load_workbook(io.BytesIO(render(log, "xlsx")))["Log akses"]
    column = log.titles.index("Catatan") + 1
    assert sheet.cell(1, column).value == "Catatan"
    assert sheet.cell(2, column).value is None  # nothing happened: an empty cell
    refused, withdrawn = sheet.cell(3, column), sheet.cell(4, column)
    assert refused.value == f"Ditolak: {REASON}" and refused.data_type == "s"
    assert withdrawn.value == "Dibatalkan oleh Sari Petugas, 02-11 09:30: Salah tanggal"
    assert refused.alignment.wrap_text and withdrawn.alignment.wrap_text


def test_csv_shows_the_notes() -> None:
    log = catatan_log()
    rows = list(csv.reader(io.StringIO(render(log, "csv").decode("utf-8-sig"))))
    column = rows[0].index("Catatan")
    assert [row[column] for row in rows[1:]] == [
        "",
        f"Ditolak: {REASON}",
        "Dibatalkan oleh Sari Petugas, 02-11 09:30: Salah tanggal",
    ]


def test_pdf_prints_the_notes_as_a_line_under_their_row() -> None:
    """No Catatan column in the PDF (it squeezed the others into breaking words): a visit's
    notes are one "Catatan: ..." line under its row, across the table; none without."""
    log = catatan_log()
    (page,) = pdf_pages(render(log, "pdf"))
    heading = page[page.index("No Tanggal") : page.index("KRS-2026-00001")]
    assert "Catatan" not in heading and "Pelanggaran" in heading
    lines = page.splitlines()
    noted = [line for line in lines if line.startswith("Catatan: ")]
    assert noted == [  # whole, each on one line: as typed (<b> is not markup)
        f"Catatan: Ditolak: {REASON}",
        "Catatan: Dibatalkan oleh Sari Petugas, 02-11 09:30: Salah tanggal",
    ]
    # Each right after its own row; the first visit, without notes, has no such line.
    second, third = page.index("KRS-2026-00002"), page.index("KRS-2026-00003")
    assert second < page.index(noted[0]) < third < page.index(noted[1])
    assert "Catatan" not in page[:second]


def test_pdf_joins_several_notes_on_one_line_and_wraps_a_long_one() -> None:
    log = access_log([denied()])
    row = replace(log.rows[0], notes="Ditolak: x\nDibatalkan oleh Sari: y")
    (page,) = pdf_pages(render(replace(log, rows=[row]), "pdf"))
    assert "Catatan: Ditolak: x · Dibatalkan oleh Sari: y" in page.splitlines()
    long = "Ditolak: " + " ".join(f"alasan{i:03d}" for i in range(40))
    row = replace(log.rows[0], notes=long)
    (page,) = pdf_pages(render(replace(log, rows=[row]), "pdf"))
    start = page.index("Catatan: Ditolak:")
    wrapped = page[start : page.index("alasan039") + len("alasan039")]
    assert 2 <= wrapped.count("\n") + 1 <= 3  # across the table: a few lines, not a tower
    assert wrapped.split() == ["Catatan:", *long.split()]  # no word cut


def test_a_page_never_parts_a_row_from_its_notes() -> None:
    visits = [denied(i, reason=f"alasan-{i:03d} " + "panjang " * 30) for i in range(1, 90)]
    pages = pdf_pages(render(access_log(visits), "pdf"))
    assert len(pages) >= 3
    for text in pages:
        rows = set(re.findall(r"KRS-2026-(\d{5})", text))
        noted = {f"{int(n):05d}" for n in re.findall(r"alasan-(\d{3})", text)}
        assert rows == noted, rows ^ noted
    assert sum(text.count("Catatan: ") for text in pages) == len(visits)


def test_a_notes_cell_that_looks_like_a_formula_stays_text() -> None:
    """Every line starts with fixed words today, but the cell goes through the same
    neutralisation as the others (inert) whatever an outcome's line starts with."""
    log = access_log([denied()])
    formula = '=HYPERLINK("http://evil.example/","klik")'
    row = replace(log.rows[0], notes=formula)
    tainted = replace(log, rows=[row])
    column = tainted.titles.index("Catatan")
    cell = load_workbook(io.BytesIO(render(tainted, "xlsx")))["Log akses"].cell(2, column + 1)
    assert cell.data_type == "s" and cell.value == "'" + formula
    rows = list(csv.reader(io.StringIO(render(tainted, "csv").decode("utf-8-sig"))))
    assert rows[1][column] == "'" + formula
    # A reason that starts like a formula comes after "Ditolak: ": not a formula at all.
    plain = access_log([denied(reason="=1+1")])
    rows = list(csv.reader(io.StringIO(render(plain, "csv").decode("utf-8-sig"))))
    assert rows[1][column] == "Ditolak: =1+1"


# --- /riwayat --------------------------------------------------------------------------------


def test_history_lists_each_visits_notes_escaped() -> None:
    visits = [cancelled(3), denied(2), make_visit(1)]
    by_id = {v.id: notes(v, NAMES, WIB) for v in visits}
    (text,) = reports_texts.history("Pengunjung", visits, WIB, NAMES, 10, by_id)
    assert "Ditolak: Surat tugas belum ada &lt;b&gt;vendor&lt;/b&gt;" in text
    assert "<b>vendor</b>" not in text  # a reason is never markup
    assert "Dibatalkan oleh Sari Petugas, 02-11 09:30: Salah tanggal" in text
    entries = text.split("\n\n• ")[1:]
    assert len(entries) == 3 and "Ditolak" in entries[1] and "Dibatalkan" not in entries[1]
    assert "Ditolak" not in entries[2] and "Dibatalkan" not in entries[2]


def test_rules_and_roll_calls_are_noted_in_order_in_the_office_zone() -> None:
    """The rules agreed before the request, roll calls while inside (issue 14)."""
    rolls = (
        (T0 + timedelta(hours=1), T0 + timedelta(hours=1, minutes=7)),  # 09:00, safe 09:07
        (T0 + timedelta(hours=2), None),  # still open
    )
    visit = make_visit(1, rules_agreed_at="2026-11-28T08:05:00+07:00", roll_calls=rolls)
    start = (T0 + timedelta(hours=1)).astimezone(WIB)
    assert notes(visit, NAMES, WIB) == [
        "Tata tertib disetujui 28-11 08:05",
        f"Apel darurat {start:%d-%m %H:%M}: aman {start + timedelta(minutes=7):%H:%M}",
        f"Apel darurat {start + timedelta(hours=1):%d-%m %H:%M}: belum ditandai aman",
    ]
    assert notes(make_visit(1), NAMES, WIB) == []


def test_a_request_for_a_barred_nik_says_so_first_in_every_document() -> None:
    """The watchlist's mark (Visit.watchlisted) is known at submission: before the decision."""
    flagged = replace(denied(), watchlisted=True)
    assert notes(flagged, NAMES, WIB) == [watchlist_texts.LOG_NOTE, f"Ditolak: {REASON}"]
    assert notes(replace(make_visit(1), watchlisted=True), NAMES, WIB) == [
        "⛔ NIK dalam daftar blokir"
    ]
    log = access_log([flagged])
    column = log.titles.index("Catatan")
    sheet = load_workbook(io.BytesIO(render(log, "xlsx")))["Log akses"]
    assert sheet.cell(2, column + 1).value == f"⛔ NIK dalam daftar blokir\nDitolak: {REASON}"
    rows = list(csv.reader(io.StringIO(render(log, "csv").decode("utf-8-sig"))))
    assert rows[1][column].startswith("⛔ NIK dalam daftar blokir\n")
    # The PDF's font (DejaVu Sans) has no ⛔: the words stay, on the row's notes line.
    text = pdf_pages(render(log, "pdf"))[0]
    assert f"NIK dalam daftar blokir · Ditolak: {REASON}" in text


def test_a_planned_visit_says_so_before_its_decision() -> None:
    """Planned vs walk-in: a planned visit's day and window lead its notes; a walk-in has
    no such line."""
    day = T0.astimezone(WIB).date()
    plan = Plan(day, time(9, 0), time(12, 0))
    planned = replace(denied(), plan=plan)
    assert notes(planned, NAMES, WIB) == [
        f"Terjadwal {day:%d-%m-%Y} 09:00-12:00",
        reports_texts.note_denied(REASON),
    ]
    assert not any("Terjadwal" in line for line in notes(denied(), NAMES, WIB))
    # Filled in by the visitor through a self-registration link (/undang_tamu): said next.
    by_visitor = replace(planned, self_registered=True)
    assert notes(by_visitor, NAMES, WIB)[:2] == [
        f"Terjadwal {day:%d-%m-%Y} 09:00-12:00",
        "Diisi sendiri oleh pengunjung (tautan /undang_tamu)",
    ]


def test_a_plan_approved_ahead_names_its_approver_in_the_log() -> None:
    day = T0.astimezone(WIB).date()
    scheduled = make_visit(
        1, status=VisitStatus.SCHEDULED, plan=Plan(day, time(9, 0), time(12, 0)), **NOT_IN
    )
    row = access_log([scheduled]).rows[0]
    assert row.status == reports_texts.STATUS_SHORT[VisitStatus.SCHEDULED] == "Terjadwal"
    assert row.approved_by and row.approved_by == NAMES[scheduled.decided_by]
