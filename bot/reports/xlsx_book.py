"""The access log's workbook from plain values: XlsxWriter in memory, and nothing of the
bot but what it is given (``Layout``, the cells, ``Closing``).

``LogBook`` is the same in the bot's process (bot/reports/xlsx.py ``render_xlsx``) and in
the XLSX writer's (bot/reports/xlsx_worker.py), which imports this module and XlsxWriter
only: its start is on the export's way (issue 13). bot/reports/xlsx.py makes the layout
and the cells from the log.
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

DATE_FORMAT = "dd-mm-yyyy"
TIME_FORMAT = "dd-mm-yyyy hh:mm"

_OPTIONS = {
    # Nothing on disk: the rows hold names, organisations and reasons, and a deleted
    # temporary file's blocks stay on the disk (a worker killed mid-export leaves the file
    # itself). Constant-memory mode wrote each row to a temporary file and assembled the
    # parts in more; XlsxWriter does neither in memory (it turns constant memory off).
    # Measured for 10,000 visits (bench/findings.md, issue 13): about 1.15 s end to end
    # against 0.86 s (the sheets' XML now written at the close), the writer's peak 61 MB
    # against 28 MB; the bot's own memory is unchanged.
    "in_memory": True,
    "strings_to_formulas": False,
    "strings_to_numbers": False,
    "strings_to_urls": False,
    # The log's times are aware, in the office's zone: Excel has none, so their wall time
    # is written (the header names the zone).
    "remove_timezone": True,
}

# A row of a sheet, column by column: plain values, so a page of them pickles small for
# the writer's process. An empty value ("" or None) leaves its cell empty.
Cells = tuple[Any, ...]

# How a log column's cells are written: its kind, and its format's name (or "").
TEXT, NUMBER, MOMENT = "text", "number", "moment"
DAY, TIME, BREACH, WRAPPED = "day", "time", "breach", "wrapped"


@dataclass(frozen=True)
class Column:
    width: float  # characters
    kind: str  # TEXT, NUMBER or MOMENT
    style: str = ""  # DAY, TIME, BREACH, WRAPPED, or none


@dataclass(frozen=True)
class Layout:
    """The sheets' names, the log's header and columns, the roll calls' header."""

    log_sheet: str
    summary_sheet: str
    roll_call_sheet: str
    titles: tuple[str, ...]
    columns: tuple[Column, ...]
    roll_call_titles: tuple[str, ...]


@dataclass(frozen=True)
class Closing:
    """What the workbook needs after the log's last row: the summary sheet's cells (value,
    bold) and the roll calls' rows (times in ``ROLL_CALL_TIMES``)."""

    summary: list[list[tuple[Any, bool]]]
    roll_calls: list[Cells]


ROLL_CALL_TIMES = frozenset({0, 2, 6, 7})  # the roll calls' columns that are times


class LogBook:
    """The workbook written as the log's rows come: the header, then ``write`` pages of
    cells in order, then ``close`` with the rest."""

    def __init__(self, layout: Layout) -> None:
        self._layout = layout
        self._buffer = io.BytesIO()
        self._workbook = workbook = xlsxwriter.Workbook(self._buffer, _OPTIONS)
        # Added in this order always: the file's styles are numbered by it.
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
        styles: dict[str, Format | None] = {
            DAY: workbook.add_format({"num_format": DATE_FORMAT}),
            TIME: workbook.add_format({"num_format": TIME_FORMAT}),
            BREACH: workbook.add_format({"font_color": "#C00000"}),
            WRAPPED: workbook.add_format({"text_wrap": True, "valign": "top"}),
            "": None,
        }
        self._time = styles[TIME]
        self._sheet = sheet = workbook.add_worksheet(layout.log_sheet)
        for index, column in enumerate(layout.columns):
            sheet.set_column(index, index, column.width)
        sheet.freeze_panes(1, 0)
        for col, title in enumerate(layout.titles):
            sheet.write_string(0, col, title, self._header)
        # The undecorated writers: the public ones only add a type dispatch and a check
        # for "A1" cell names (the log sheet's inner loop: 150,000 cells for a month of
        # 10,000 visits, issue 13).
        writers: dict[str, Callable[..., Any]] = {
            TEXT: sheet._write_string,
            NUMBER: sheet._write_number,
            MOMENT: sheet._write_datetime,
        }
        self._plan = [
            (col, writers[c.kind], styles[c.style]) for col, c in enumerate(layout.columns)
        ]
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
        layout, workbook = self._layout, self._workbook
        self._sheet.autofilter(0, 0, self._rows, len(layout.columns) - 1)
        _summary(workbook, workbook.add_worksheet(layout.summary_sheet), closing.summary)
        if closing.roll_calls:
            sheet = workbook.add_worksheet(layout.roll_call_sheet)
            titles = layout.roll_call_titles
            _roll_calls(sheet, titles, closing.roll_calls, self._header, self._time)
        workbook.close()
        return self._buffer.getvalue()


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


def _summary(
    workbook: xlsxwriter.Workbook, sheet: Worksheet, rows: list[list[tuple[Any, bool]]]
) -> None:
    for col, width in enumerate((34, 18, 22, 16)):
        sheet.set_column(col, col, width)
    bold = workbook.add_format({"bold": True})
    for r, cells in enumerate(rows):
        for col, (value, strong) in enumerate(cells):
            _write(sheet, r, col, value, bold if strong else None)


def _roll_calls(
    sheet: Worksheet,
    titles: Sequence[str],
    rows: list[Cells],
    header: Format,
    time: Format | None,
) -> None:
    """The "Apel darurat" sheet: one row per visitor on each roll call of the period."""
    for col, width in enumerate((17, 20, 17, 17, 24, 20, 17, 17, 20)):
        sheet.set_column(col, col, width)
    sheet.freeze_panes(1, 0)
    for col, title in enumerate(titles):
        sheet.write_string(0, col, title, header)
    for r, cells in enumerate(rows, 1):
        for col, value in enumerate(cells):
            _write(sheet, r, col, value, time if col in ROLL_CALL_TIMES else None)
