"""A stored visit's views derived from the form's spec: the card, the access log's columns,
/riwayat, and the columns storage writes. A field's flags alone decide where it appears."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from bot.core.form import FORM, Form, LogWidth
from bot.core.visits import Visit, VisitStatus
from bot.reports.log import COLUMNS, PDF_COLUMNS, log_columns, logged, pdf_widths
from bot.reports.pdf import TABLE_WIDTH
from bot.texts import form as form_texts
from bot.texts.common import visit_details

NOW = datetime(2026, 12, 2, 2, 0, tzinfo=UTC)
VISIT = Visit(
    id=7, status=VisitStatus.PENDING, visitor_id=1, nik="3508015507900002",
    name="Ayu <Lestari>", organisation="PT A & B", phone="081234567890",
    purpose="Ganti UPS", duration_minutes=45, equipment="", ktp_file_id="file",
    officer_id=1001, started_at=NOW, submitted_at=NOW,
)  # fmt: skip


def changed(name: str, **flags: object) -> Form:
    """FORM with one field's flags changed, nothing else."""
    return Form(tuple(replace(f, **flags) if f.name == name else f for f in FORM))  # type: ignore[arg-type]  # flags of mixed types


def test_the_card_lists_the_form_fields_on_it_name_first_nik_masked() -> None:
    assert visit_details(VISIT).splitlines() == [
        "Ref: <b>KRS-2026-00007</b>",
        "Nama: <b>Ayu &lt;Lestari&gt;</b>",
        "NIK: <code>3508**********02</code>",
        "Instansi: PT A &amp; B",
        "No. Surat Tugas: -",
        "HP: 0812****7890",  # the card needs no full number (docs/privacy.md)
        "Keperluan: Ganti UPS",
        "Durasi rencana: 45 menit",
        "Perangkat: -",
    ]


def test_a_field_taken_off_the_card_or_put_on_it_changes_that_line_only() -> None:
    lines = form_texts.card_lines(vars(VISIT))
    without_phone = form_texts.card_lines(vars(VISIT), changed("phone", card=False))
    assert without_phone == [line for line in lines if not line.startswith("HP: ")]
    with_photo = form_texts.card_lines(vars(VISIT), changed("ktp", card=True))
    assert with_photo[1] == "Foto KTP: ✅ terlampir"  # after the name, in the form's order
    assert with_photo[:1] + with_photo[2:] == lines


def test_a_field_newly_logged_is_one_more_column_and_the_pdf_still_fills_the_page() -> None:
    titles = [column.title for column in COLUMNS]
    assert titles[3:9] == ["Nama", "NIK", "Instansi", "No. Surat Tugas", "Keperluan", "Perangkat"]
    longer = log_columns(changed("phone", log=LogWidth(15, 14)))
    assert [c.title for c in longer] == [*titles[:7], "HP", *titles[7:]]
    assert [c for c in longer if c.key != "phone"] == list(COLUMNS)
    # The PDF draws every column but the notes (a line under each row there).
    assert [c.key for c in COLUMNS if not c.printed] == ["notes"]
    assert tuple(c for c in COLUMNS if c.key != "notes") == PDF_COLUMNS
    drawn = [w for w, c in zip(pdf_widths(TABLE_WIDTH), PDF_COLUMNS, strict=True) if not c.narrows]
    assert drawn == [c.pdf_width for c in PDF_COLUMNS if not c.narrows]
    longer = tuple(c for c in longer if c.printed)
    widths, wider = pdf_widths(TABLE_WIDTH), pdf_widths(TABLE_WIDTH, longer)
    assert sum(wider) == pytest.approx(TABLE_WIDTH) == sum(widths)
    # Free text makes room; times, numbers, the masked NIK and names keep their width.
    others = [(w, c) for w, c in zip(wider, longer, strict=True) if c.key != "phone"]
    for (new, column), old in zip(others, widths, strict=True):
        assert new < old if column.narrows else new == old, column.key
    assert {c.key for c in COLUMNS if not c.narrows} >= {"nik", "name", "entered_at", "day"}
    # A narrowed column keeps at least its floor (the PDF's: its heading's longest word).
    floors = [20.0 if c.key == "equipment" else 0.0 for c in longer]
    floored = pdf_widths(TABLE_WIDTH, longer, floors)
    assert floored[[c.key for c in longer].index("equipment")] == 20.0
    assert sum(floored) == pytest.approx(TABLE_WIDTH)
    # However many columns are added, the table still fits the page.
    crowded = log_columns(Form(tuple(replace(f, log=LogWidth(20, 30)) for f in FORM)))
    crowded = tuple(c for c in crowded if c.printed)
    assert sum(pdf_widths(TABLE_WIDTH, crowded)) == pytest.approx(TABLE_WIDTH)
    logged_names = ["name", "nik", "organisation", "assignment_letter", "purpose", "equipment"]
    assert [f.name for f in logged()] == logged_names


def test_history_shows_the_fields_meant_for_it_and_leaves_out_empty_optional_ones() -> None:
    details = form_texts.history_details(vars(VISIT))
    who = "Ayu &lt;Lestari&gt; (<code>3508**********02</code>), PT A &amp; B"
    assert details == f"{who}\n  Ganti UPS"
    with_phone = form_texts.history_details(vars(VISIT), changed("phone", history=True))
    assert with_phone == f"{who}, 0812****7890\n  Ganti UPS"
    with_equipment = changed("equipment", history=True)
    assert form_texts.history_details(vars(VISIT), with_equipment) == details  # none brought
    laptop = vars(replace(VISIT, equipment="Laptop"))
    assert form_texts.history_details(laptop, with_equipment) == f"{details}, Laptop"


def test_storage_columns_follow_the_remembered_flag() -> None:
    assert FORM.visitor_columns == ("name", "organisation", "phone")
    assert FORM.visit_columns == (
        "ktp_file_id",
        "assignment_letter",
        "purpose",
        "duration_minutes",
        "equipment",
    )
    kept_per_visit = changed("phone", remembered=False)
    assert kept_per_visit.visitor_columns == ("name", "organisation")
    assert "phone" in kept_per_visit.visit_columns
