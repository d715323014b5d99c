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
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

from bot.core.standards import STEPS, Step
from bot.reports.log import COLUMNS, PROGRESS_EVERY, AccessLog, LogRow, Progress, inert, tick
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
    book = LogBook(log.titles)
    total = len(log.rows)
    for start in range(0, total, PROGRESS_EVERY):
        done = min(start + PROGRESS_EVERY, total)
        book.write(log_cells(log.rows[start:done]))
        tick(progress, done, total)
    return book.close(closing_cells(log))


# What a row of the log sheet holds, column by column (COLUMNS): plain values, so a page of
# them pickles small for the writer's process (bot/reports/xlsx_process.py).
Cells = tuple[Any, ...]


@dataclass(frozen=True)
class Closing:
    """What the workbook needs after the log's last row: the summary sheet's cells (value,
    bold) and the roll calls' rows (``roll_call_cells``)."""

    summary: list[list[tuple[Any, bool]]]
    roll_calls: list[Cells]


def log_cells(rows: Sequence[LogRow]) -> list[Cells]:
    """The rows' cells in the order of COLUMNS (as text_cells has them): text made inert
    (a leading apostrophe before a formula start), times without their zone (Excel has
    none: the header names it), an empty value as is (its cell stays empty)."""
    return [
        (
            row.number,
            row.day,
            _inert(row.reference),
            *[_inert(value) for value in row.details.values()],
            _inert(row.status),
            _inert(row.approved_by),
            _naive(row.decided_at),
            _inert(row.escort),
            _naive(row.entered_at),
            _naive(row.exited_at),
            row.duration,
            _inert(row.notes),
            _inert(row.breaches),
        )
        for row in rows
    ]


def _inert(value: str) -> str:
    return inert(value) if value else value


def _naive(moment: datetime | None) -> datetime | None:
    return moment.replace(tzinfo=None) if moment is not None else None


class LogBook:
    """The workbook written as the log's rows come: the header, then ``write`` pages of
    ``log_cells`` in order, then ``close`` with the rest. The same in the bot's process
    (``render_xlsx``) and in the writer's (bot/reports/xlsx_worker.py)."""

    def __init__(self, titles: Sequence[str]) -> None:
        self._buffer = io.BytesIO()
        self._workbook = workbook = xlsxwriter.Workbook(self._buffer, _OPTIONS)
        self._header = workbook.add_format(
            {
                "bold": True,
                "font_color": "#FFFFFF",
                "bg_color": "#1F4E79",
                "pattern": 1,
                "text_wrap": True,
                "valign": "vcenter",
            }
        )
        day = workbook.add_format({"num_format": DATE_FORMAT})
        self._time = time = workbook.add_format({"num_format": TIME_FORMAT})
        breach = workbook.add_format({"font_color": "#C00000"})
        wrapped = workbook.add_format({"text_wrap": True, "valign": "top"})
        self._sheet = sheet = workbook.add_worksheet(reports_texts.SHEET_LOG)
        for index, column in enumerate(COLUMNS):
            sheet.set_column(index, index, column.xlsx_width)
        sheet.freeze_panes(1, 0)
        for col, title in enumerate(titles):
            sheet.write_string(0, col, title, self._header)
        # Each column's writer and format, by its key (bot/reports/log.py COLUMNS); the
        # rest are text without a format (the reference, the visitor's details, status
        # and names). The undecorated writers: the public ones only add a type dispatch
        # and a check for "A1" cell names (the log sheet's inner loop: 150,000 cells for a
        # month of 10,000 visits, issue 13).
        text, number = sheet._write_string, sheet._write_number
        moment = sheet._write_datetime
        kinds: dict[str, tuple[Callable[..., Any], Format | None]] = {
            "number": (number, None),
            "day": (moment, day),
            "decided_at": (moment, time),
            "entered_at": (moment, time),
            "exited_at": (moment, time),
            "duration": (number, None),
            "notes": (text, wrapped),
            "breaches": (text, breach),
        }
        self._plan = [(col, *kinds.get(c.key, (text, None))) for col, c in enumerate(COLUMNS)]
        self._rows = 0

    def write(self, rows: Iterable[Cells]) -> None:
        """The next rows; an empty value leaves its cell empty."""
        plan, r = self._plan, self._rows
        for row in rows:
            r += 1
            for (col, writer, style), value in zip(plan, row, strict=True):
                if value is None or value == "":
                    continue
                writer(r, col, value, style)
        self._rows = r

    def close(self, closing: Closing) -> bytes:
        """The filter over the rows written, the other sheets; the file's bytes."""
        self._sheet.autofilter(0, 0, self._rows, len(COLUMNS) - 1)
        workbook = self._workbook
        _summary(workbook, workbook.add_worksheet(reports_texts.SHEET_SUMMARY), closing)
        if closing.roll_calls:
            sheet = workbook.add_worksheet(rollcall_texts.REPORT_SECTION)
            _roll_calls(sheet, closing.roll_calls, self._header, self._time)
        workbook.close()
        return self._buffer.getvalue()


def closing_cells(log: AccessLog) -> Closing:
    """The summary sheet's cells and the roll calls' rows, as plain values."""
    return Closing(_summary_cells(log), roll_call_cells(log))


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


def _summary_cells(log: AccessLog) -> list[list[tuple[Any, bool]]]:
    """The summary sheet: the period, the count, each step's standard and breaches."""
    counts = log.breach_counts()
    printed = log.generated_at.strftime("%d-%m-%Y %H:%M ") + log.tz_label
    rows: list[list[tuple[Any, bool]]] = [
        [(reports_texts.REPORT_TITLE, True)],
        [
            (reports_texts.SUMMARY_PERIOD, False),
            (reports_texts.period_label(log.period.start, log.period.end), False),
        ],
        [(reports_texts.SUMMARY_PRINTED, False), (printed, False)],
        [(reports_texts.SUMMARY_VISITS, False), (len(log.rows), False)],
        [],
        [
            (reports_texts.SUMMARY_STEP, True),
            (reports_texts.SUMMARY_STANDARD, True),
            (reports_texts.COL_BREACHES, True),
        ],
    ]
    for step in STEPS:
        standard: object = getattr(log.standards, step.value)
        if step == Step.VISIT:
            standard = reports_texts.visit_standard_note(log.standards.visit)
        count, measured = counts[step]
        rows.append(
            [
                (reports_texts.step_label(step), False),
                (standard if isinstance(standard, (str, int, float)) else str(standard), False),
                (reports_texts.breach_count(count, measured), False),
            ]
        )
    return rows


def _summary(workbook: xlsxwriter.Workbook, sheet: Worksheet, closing: Closing) -> None:
    for col, width in enumerate((34, 18, 22, 16)):
        sheet.set_column(col, col, width)
    bold = workbook.add_format({"bold": True})
    for r, cells in enumerate(closing.summary):
        for col, (value, strong) in enumerate(cells):
            _write(sheet, r, col, value, bold if strong else None)


_ROLL_CALL_TIMES = frozenset({0, 2, 6, 7})  # roll_call_cells' columns that are times


def roll_call_cells(log: AccessLog) -> list[Cells]:
    """The "Apel darurat" sheet's rows: one per visitor on each roll call of the period."""
    return [
        tuple(
            _inert(value) if isinstance(value, str) else value
            for value in (
                _naive(line.started_at),
                line.started_by,
                _naive(line.ended_at),
                line.reference,
                line.visitor,
                line.escort,
                _naive(line.entered_at),
                _naive(line.safe_at),
                line.marked_by,
            )
        )
        for line in log.roll_calls
    ]


def _roll_calls(sheet: Worksheet, rows: list[Cells], header: Format, time: Format) -> None:
    for col, width in enumerate((17, 20, 17, 17, 24, 20, 17, 17, 20)):
        sheet.set_column(col, col, width)
    sheet.freeze_panes(1, 0)
    for col, title in enumerate(rollcall_texts.REPORT_COLUMNS):
        sheet.write_string(0, col, title, header)
    for r, cells in enumerate(rows, 1):
        for col, value in enumerate(cells):
            _write(sheet, r, col, value, time if col in _ROLL_CALL_TIMES else None)
