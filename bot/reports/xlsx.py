"""The access log as an XLSX workbook (XlsxWriter in constant-memory mode).

Sheet 1 is the log, one row per visit, header frozen and filterable; times are real Excel
date-times in the office's zone (Excel has no time zones, the header names the zone).
Sheet 2 summarises the period against the SOP's time standards.

XlsxWriter replaced openpyxl's write-only mode (issue 13): for 10,000 visits openpyxl's
cell writer took 2.5-3.9 s of a 3.9 s export (bench/findings.md). In constant-memory mode
each row is written to a temporary file as soon as the next row starts, so memory stays
flat however long the log. Every text goes in as a string: no value is ever read as a
formula, a number or a link (the workbook's options below).
"""

from __future__ import annotations

import io
from datetime import date, datetime
from typing import Any

import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

from bot.core.standards import STEPS, Step
from bot.reports.log import COLUMNS, AccessLog, Progress, inert, tick
from bot.texts import reports as reports_texts
from bot.texts import rollcall as rollcall_texts

DATE_FORMAT = "dd-mm-yyyy"
TIME_FORMAT = "dd-mm-yyyy hh:mm"

_OPTIONS = {
    "constant_memory": True,
    "in_memory": False,  # constant memory spills rows to a temporary file
    "strings_to_formulas": False,
    "strings_to_numbers": False,
    "strings_to_urls": False,
    # The log's times are aware, in the office's zone: Excel has none, so their wall time
    # is written (the header names the zone).
    "remove_timezone": True,
}


def render_xlsx(log: AccessLog, progress: Progress | None = None) -> bytes:
    """The workbook as bytes; ``progress(done, total)`` is called every few hundred rows."""
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, _OPTIONS)
    header = workbook.add_format(
        {
            "bold": True,
            "font_color": "#FFFFFF",
            "bg_color": "#1F4E79",
            "pattern": 1,
            "text_wrap": True,
            "valign": "vcenter",
        }
    )
    styles = _Styles(
        day=workbook.add_format({"num_format": DATE_FORMAT}),
        time=workbook.add_format({"num_format": TIME_FORMAT}),
        breach=workbook.add_format({"font_color": "#C00000"}),
        wrapped=workbook.add_format({"text_wrap": True, "valign": "top"}),
    )
    sheet = workbook.add_worksheet(reports_texts.SHEET_LOG)
    for index, column in enumerate(COLUMNS):
        sheet.set_column(index, index, column.xlsx_width)
    sheet.freeze_panes(1, 0)
    sheet.autofilter(0, 0, len(log.rows), len(COLUMNS) - 1)
    for col, title in enumerate(log.titles):
        sheet.write_string(0, col, title, header)
    _log_rows(sheet, log, styles, progress)
    _summary(workbook, workbook.add_worksheet(reports_texts.SHEET_SUMMARY), log)
    if log.roll_calls:
        _roll_calls(
            workbook.add_worksheet(rollcall_texts.REPORT_SECTION), log, header, styles.time
        )
    workbook.close()
    return buffer.getvalue()


def _write(sheet: Worksheet, row: int, col: int, value: object, style: Format | None) -> None:
    """One cell, by the type of its value; an empty value leaves the cell empty."""
    if value is None or value == "":
        return
    if isinstance(value, str):
        sheet.write_string(row, col, value, style)
    elif isinstance(value, (datetime, date)):
        sheet.write_datetime(row, col, value, style)
    elif isinstance(value, (int, float)):
        sheet.write_number(row, col, value, style)
    else:
        sheet.write_string(row, col, str(value), style)


class _Styles:
    """The log's cell formats."""

    def __init__(self, day: Format, time: Format, breach: Format, wrapped: Format) -> None:
        self.day, self.time, self.breach, self.wrapped = day, time, breach, wrapped


# How each column's value is written (the log sheet's inner loop, 150,000 cells for a
# month of 10,000 visits: issue 13).
_TEXT, _NUMBER, _MOMENT = 0, 1, 2


def _log_rows(
    sheet: Worksheet, log: AccessLog, styles: _Styles, progress: Progress | None
) -> None:
    """The log's rows under its header, one visit a row; an empty value leaves its cell
    empty, and a text starting like a formula keeps a leading apostrophe (``inert``)."""
    # Each column's kind and format, by its key (bot/reports/log.py COLUMNS); the rest are
    # text without a format (the reference, the visitor's details, status and names).
    kinds: dict[str, tuple[int, Format | None]] = {
        "number": (_NUMBER, None),
        "day": (_MOMENT, styles.day),
        "decided_at": (_MOMENT, styles.time),
        "entered_at": (_MOMENT, styles.time),
        "exited_at": (_MOMENT, styles.time),
        "duration": (_NUMBER, None),
        "notes": (_TEXT, styles.wrapped),
        "breaches": (_TEXT, styles.breach),
    }
    plan = [(col, *kinds.get(c.key, (_TEXT, None))) for col, c in enumerate(COLUMNS)]
    # The undecorated writers: the public ones only add a check for "A1" cell names.
    write_string, write_number = sheet._write_string, sheet._write_number
    write_datetime = sheet._write_datetime
    total = len(log.rows)
    for r, row in enumerate(log.rows, 1):
        # In the order of COLUMNS, as text_cells (bot/reports/log.py) has them.
        values: tuple[Any, ...] = (
            row.number,
            row.day,
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
        )
        for (col, kind, style), value in zip(plan, values, strict=True):
            if value is None or value == "":
                continue
            if kind == _TEXT:
                write_string(r, col, inert(value), style)
            elif kind == _MOMENT:
                write_datetime(r, col, value, style)
            else:
                write_number(r, col, value, style)
        tick(progress, r, total)


def _summary(workbook: xlsxwriter.Workbook, sheet: Worksheet, log: AccessLog) -> None:
    for col, width in enumerate((34, 18, 22, 16)):
        sheet.set_column(col, col, width)
    bold = workbook.add_format({"bold": True})
    counts = log.breach_counts()
    printed = log.generated_at.strftime("%d-%m-%Y %H:%M ") + log.tz_label
    rows: list[list[tuple[Any, Format | None]]] = [
        [(reports_texts.REPORT_TITLE, bold)],
        [
            (reports_texts.SUMMARY_PERIOD, None),
            (reports_texts.period_label(log.period.start, log.period.end), None),
        ],
        [(reports_texts.SUMMARY_PRINTED, None), (printed, None)],
        [(reports_texts.SUMMARY_VISITS, None), (len(log.rows), None)],
        [],
        [
            (reports_texts.SUMMARY_STEP, bold),
            (reports_texts.SUMMARY_STANDARD, bold),
            (reports_texts.COL_BREACHES, bold),
        ],
    ]
    for step in STEPS:
        standard: object = getattr(log.standards, step.value)
        if step == Step.VISIT:
            standard = reports_texts.visit_standard_note(log.standards.visit)
        count, measured = counts[step]
        rows.append(
            [
                (reports_texts.step_label(step), None),
                (standard, None),
                (reports_texts.breach_count(count, measured), None),
            ]
        )
    for r, cells in enumerate(rows):
        for col, (value, style) in enumerate(cells):
            _write(sheet, r, col, value, style)


def _roll_calls(sheet: Worksheet, log: AccessLog, header: Format, time: Format) -> None:
    """The "Apel darurat" sheet: one row per visitor on each roll call of the period."""
    for col, width in enumerate((17, 20, 17, 17, 24, 20, 17, 17, 20)):
        sheet.set_column(col, col, width)
    sheet.freeze_panes(1, 0)
    for col, title in enumerate(rollcall_texts.REPORT_COLUMNS):
        sheet.write_string(0, col, title, header)

    def naive(moment: datetime | None) -> datetime | None:
        return moment.replace(tzinfo=None) if moment is not None else None

    for r, line in enumerate(log.roll_calls, 1):
        cells: list[tuple[object, Format | None]] = [
            (naive(line.started_at), time),
            (line.started_by, None),
            (naive(line.ended_at), time),
            (line.reference, None),
            (line.visitor, None),
            (line.escort, None),
            (naive(line.entered_at), time),
            (naive(line.safe_at), time),
            (line.marked_by, None),
        ]
        for col, (value, style) in enumerate(cells):
            _write(sheet, r, col, inert(value) if isinstance(value, str) else value, style)
