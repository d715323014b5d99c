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
from bot.reports.log import COLUMNS, DETAILS, AccessLog, LogRow, Progress, inert, tick
from bot.texts import reports as reports_texts

DATE_FORMAT = "dd-mm-yyyy"
TIME_FORMAT = "dd-mm-yyyy hh:mm"

_OPTIONS = {
    "constant_memory": True,
    "in_memory": False,  # constant memory spills rows to a temporary file
    "strings_to_formulas": False,
    "strings_to_numbers": False,
    "strings_to_urls": False,
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
    total = len(log.rows)
    for done, row in enumerate(log.rows, 1):
        for col, (value, style) in enumerate(styles.row(row)):
            _write(sheet, done, col, value, style)
        tick(progress, done, total)
    _summary(workbook, workbook.add_worksheet(reports_texts.SHEET_SUMMARY), log)
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
    """Each column's value and its format, row after row."""

    def __init__(self, day: Format, time: Format, breach: Format, wrapped: Format) -> None:
        self.day, self.time, self.breach, self.wrapped = day, time, breach, wrapped

    def row(self, row: LogRow) -> list[tuple[object, Format | None]]:
        decided, entered, exited = (
            None if moment is None else moment.replace(tzinfo=None)
            for moment in (row.decided_at, row.entered_at, row.exited_at)
        )
        cells: list[tuple[object, Format | None]] = [
            (row.number, None),
            (row.day, self.day),
            (row.reference, None),
            *((row.details[field.name], None) for field in DETAILS),
            (row.status, None),
            (row.approved_by, None),
            (decided, self.time),
            (row.escort, None),
            (entered, self.time),
            (exited, self.time),
            (row.duration, None),
            (row.notes, self.wrapped),
            (row.breaches, self.breach),
        ]
        # Text is written as text (never a formula), and a cell starting like a formula
        # keeps a leading apostrophe, so pasting it elsewhere cannot run it either.
        return [
            (inert(value) if isinstance(value, str) else value, style) for value, style in cells
        ]


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
