"""The access log as an XLSX workbook (XlsxWriter, in memory).

Sheet 1 is the log, one row per visit, header frozen and filterable; times are real Excel
date-times in the office's zone (Excel has no time zones, the header names the zone).
Sheet 2 summarises the period against the SOP's time standards; sheet 3, when the period
had any, lists its evacuation roll calls.

XlsxWriter replaced openpyxl's write-only mode (issue 13): for 10,000 visits openpyxl's
cell writer took 2.5-3.9 s of a 3.9 s export (bench/findings.md). The workbook is built
in memory and no temporary file is written: the rows name visitors, and a deleted file's
blocks stay on the disk (its constant-memory mode wrote every row to one; a month of 10,000
visits now costs the writer about 33 MB more). Every text goes in as a string: no value is
ever read as a formula, a number or a link (bot/reports/xlsx_book.py's options).

This module turns the log into plain values (``layout``, ``log_cells``, ``closing_cells``);
bot/reports/xlsx_book.py writes them, here (``render_xlsx``) or in the XLSX writer's process
while the log is read (bot/reports/xlsx_process.py, /laporan).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from bot.core.standards import STEPS, Step
from bot.reports.log import COLUMNS, PROGRESS_EVERY, AccessLog, LogRow, Progress, inert, tick
from bot.reports.xlsx_book import (
    BREACH,
    DAY,
    MOMENT,
    NUMBER,
    TEXT,
    TIME,
    WRAPPED,
    Cells,
    Closing,
    Column,
    Layout,
    LogBook,
)
from bot.texts import reports as reports_texts
from bot.texts import rollcall as rollcall_texts

# Each log column's kind and format, by its key (bot/reports/log.py COLUMNS); the rest are
# text without a format (the reference, the visitor's details, status and names).
_KINDS = {
    "number": (NUMBER, ""),
    "day": (MOMENT, DAY),
    "decided_at": (MOMENT, TIME),
    "entered_at": (MOMENT, TIME),
    "exited_at": (MOMENT, TIME),
    "duration": (NUMBER, ""),
    "notes": (TEXT, WRAPPED),
    "breaches": (TEXT, BREACH),
}


def render_xlsx(log: AccessLog, progress: Progress | None = None) -> bytes:
    """The workbook as bytes; ``progress(done, total)`` is called every few hundred rows."""
    book = LogBook(layout(log.titles))
    total = len(log.rows)
    for start in range(0, total, PROGRESS_EVERY):
        done = min(start + PROGRESS_EVERY, total)
        book.write(log_cells(log.rows[start:done]))
        tick(progress, done, total)
    return book.close(closing_cells(log))


def layout(titles: Sequence[str]) -> Layout:
    """The workbook's sheets and columns, the log's header being ``titles``."""
    return Layout(
        log_sheet=reports_texts.SHEET_LOG,
        summary_sheet=reports_texts.SHEET_SUMMARY,
        roll_call_sheet=rollcall_texts.REPORT_SECTION,
        titles=tuple(titles),
        columns=tuple(Column(c.xlsx_width, *_KINDS.get(c.key, (TEXT, ""))) for c in COLUMNS),
        roll_call_titles=tuple(rollcall_texts.REPORT_COLUMNS),
    )


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


def closing_cells(log: AccessLog) -> Closing:
    """The summary sheet's cells and the roll calls' rows, as plain values."""
    return Closing(_summary_cells(log), roll_call_cells(log))


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
