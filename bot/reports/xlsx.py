"""The access log as an XLSX workbook (openpyxl, write-only mode: fast and flat in memory).

Sheet 1 is the log, one row per visit, header frozen and filterable; times are real Excel
date-times in the office's zone (Excel has no time zones, the header names the zone).
Sheet 2 summarises the period against the SOP's time standards.
"""

from __future__ import annotations

import io

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from bot.core.standards import STEPS, Step
from bot.reports.log import COLUMNS, DETAILS, AccessLog, LogRow, Progress, inert, tick
from bot.texts import reports as reports_texts

DATE_FORMAT = "dd-mm-yyyy"
TIME_FORMAT = "dd-mm-yyyy hh:mm"

_HEADER_FONT = Font(bold=True, color="FFFFFF")
_HEADER_FILL = PatternFill("solid", fgColor="1F4E79")
_HEADER_ALIGN = Alignment(wrap_text=True, vertical="center")
_BREACH_FONT = Font(color="C00000")


def render_xlsx(log: AccessLog, progress: Progress | None = None) -> bytes:
    """The workbook as bytes; ``progress(done, total)`` is called every few hundred rows."""
    workbook = Workbook(write_only=True)
    sheet: WriteOnlyWorksheet = workbook.create_sheet(reports_texts.SHEET_LOG)
    # Write-only sheets take their layout before the first row.
    for index, column in enumerate(COLUMNS, 1):
        sheet.column_dimensions[get_column_letter(index)].width = column.xlsx_width
    sheet.freeze_panes = "A2"
    last = get_column_letter(len(COLUMNS))
    sheet.auto_filter.ref = f"A1:{last}{len(log.rows) + 1}"
    sheet.append([_header_cell(sheet, title) for title in log.titles])
    cells = _StyledCells(sheet)
    total = len(log.rows)
    for done, row in enumerate(log.rows, 1):
        sheet.append(cells.row(row))
        tick(progress, done, total)
    _summary(workbook.create_sheet(reports_texts.SHEET_SUMMARY), log)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _header_cell(sheet: WriteOnlyWorksheet, title: str) -> WriteOnlyCell:
    cell = WriteOnlyCell(sheet, value=title)
    cell.font, cell.fill, cell.alignment = _HEADER_FONT, _HEADER_FILL, _HEADER_ALIGN
    return cell


class _StyledCells:
    """One styled cell per formatted column, reused row after row.

    A write-only sheet serialises each row inside append(), so a cell can be refilled for
    the next row; building and styling a fresh cell for every value costs more than half
    of a 10,000-row export.
    """

    def __init__(self, sheet: WriteOnlyWorksheet) -> None:
        self.day = WriteOnlyCell(sheet)
        self.day.number_format = DATE_FORMAT
        self.times = [WriteOnlyCell(sheet) for _ in range(3)]
        for cell in self.times:
            cell.number_format = TIME_FORMAT
        self.breaches = WriteOnlyCell(sheet)
        self.breaches.font = _BREACH_FONT

    def _fill(self, cell: WriteOnlyCell, value: object) -> WriteOnlyCell | None:
        if value is None or value == "":
            return None
        cell.value = value
        return cell

    def row(self, row: LogRow) -> list[object]:
        decided, entered, exited = (
            None if moment is None else moment.replace(tzinfo=None)
            for moment in (row.decided_at, row.entered_at, row.exited_at)
        )
        cells: list[object] = [
            row.number,
            self._fill(self.day, row.day),
            row.reference,
            *(
                row.details[field.name] or None if field.optional else row.details[field.name]
                for field in DETAILS
            ),
            row.status,
            row.approved_by or None,
            self._fill(self.times[0], decided),
            row.escort or None,
            self._fill(self.times[1], entered),
            self._fill(self.times[2], exited),
            row.duration,
            self._fill(self.breaches, row.breaches),
        ]
        # openpyxl stores any text that starts with "=" as a formula: visitors' and staff's
        # words must stay words.
        return [inert(cell) if isinstance(cell, str) else cell for cell in cells]


def _summary(sheet: WriteOnlyWorksheet, log: AccessLog) -> None:
    sheet.column_dimensions["A"].width = 34
    sheet.column_dimensions["B"].width = 18
    sheet.column_dimensions["C"].width = 22
    sheet.column_dimensions["D"].width = 16
    bold = Font(bold=True)

    def strong(value: object) -> WriteOnlyCell:
        cell = WriteOnlyCell(sheet, value=value)
        cell.font = bold
        return cell

    sheet.append([strong(reports_texts.REPORT_TITLE)])
    sheet.append(
        [
            reports_texts.SUMMARY_PERIOD,
            reports_texts.period_label(log.period.start, log.period.end),
        ]
    )
    printed = log.generated_at.strftime("%d-%m-%Y %H:%M ") + log.tz_label
    sheet.append([reports_texts.SUMMARY_PRINTED, printed])
    sheet.append([reports_texts.SUMMARY_VISITS, len(log.rows)])
    sheet.append([])
    sheet.append(
        [
            strong(reports_texts.SUMMARY_STEP),
            strong(reports_texts.SUMMARY_STANDARD),
            strong(reports_texts.COL_BREACHES),
        ]
    )
    counts = log.breach_counts()
    for step in STEPS:
        standard: object = getattr(log.standards, step.value)
        if step == Step.VISIT:
            standard = reports_texts.visit_standard_note(log.standards.visit)
        count, measured = counts[step]
        sheet.append(
            [reports_texts.step_label(step), standard, reports_texts.breach_count(count, measured)]
        )
