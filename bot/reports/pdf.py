"""The access log as a printable PDF (fpdf2): A4 landscape, the office's letterhead, the log
table with its header on every page, "Halaman X dari Y", and the section head's signature block.

Text is set in DejaVu Sans, which matplotlib ships (a dependency already), so names with
any Latin accent print as typed and the text stays extractable; no font is installed or
bundled for it.
"""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Callable
from pathlib import Path

import matplotlib
from fpdf import FPDF
from fpdf.enums import Align, XPos, YPos

from bot.reports.log import (
    PDF_COLUMNS,
    PDF_INDEXES,
    AccessLog,
    Progress,
    pdf_widths,
    text_cells,
    tick,
)
from bot.reports.rollcalls import text_cells as rollcall_cells
from bot.texts import reports as reports_texts
from bot.texts import rollcall as rollcall_texts

FONT = "DejaVu"
MARGIN = 10  # mm
TABLE_WIDTH = 297 - 2 * MARGIN  # mm: A4 landscape less the margins, shared by the columns
BODY_SIZE = 6.5
LINE_HEIGHT = 2.7  # mm, for BODY_SIZE
PADDING = 0.7
HEADER_FILL = (31, 78, 121)
BREACH_INK = (192, 0, 0)
NOTES_SIZE = 6  # a visit's notes line under its row: smaller, italic, muted
NOTES_LINE_HEIGHT = 2.5  # mm, for NOTES_SIZE
NOTES_PADDING = (0.3, 0.6)  # mm above the notes' first line, under their last
NOTES_INK = (80, 80, 80)


@functools.cache
def _font_files() -> tuple[Path, Path, Path]:
    fonts = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
    return (
        fonts / "DejaVuSans.ttf",
        fonts / "DejaVuSans-Bold.ttf",
        fonts / "DejaVuSans-Oblique.ttf",
    )


class _LogPdf(FPDF):
    def __init__(self, log: AccessLog) -> None:
        super().__init__(orientation="L", unit="mm", format="A4")
        self.log = log
        regular, bold, _italic = _font_files()
        self.add_font(FONT, "", regular)
        self.add_font(FONT, "B", bold)
        self.set_margins(MARGIN, MARGIN, MARGIN)
        self.set_auto_page_break(True, margin=14)
        period = reports_texts.period_label(log.period.start, log.period.end)
        self.set_title(f"{reports_texts.REPORT_TITLE} {period}")
        self.set_author(reports_texts.OFFICE.title())
        self.set_creator("akses-ruang-server")

    def load_italics(self) -> None:
        """The notes' italics, read only for a log that has notes (parsing the font file
        takes longer than drawing a few hundred rows)."""
        if FONT.lower() + "I" not in self.fonts:
            self.add_font(FONT, "I", _font_files()[2])

    def header(self) -> None:
        period = reports_texts.period_label(self.log.period.start, self.log.period.end)
        if self.page_no() == 1:
            self.set_font(FONT, "B", 13)
            self.cell(
                0, 6, reports_texts.GOVERNMENT, align=Align.C, new_x=XPos.LMARGIN, new_y=YPos.NEXT
            )
            self.set_font(FONT, "B", 15)
            self.cell(
                0, 7, reports_texts.OFFICE, align=Align.C, new_x=XPos.LMARGIN, new_y=YPos.NEXT
            )
            y = self.get_y() + 1.5
            self.set_line_width(0.8)
            self.line(MARGIN, y, self.w - MARGIN, y)
            self.set_line_width(0.2)
            self.line(MARGIN, y + 1.2, self.w - MARGIN, y + 1.2)
            self.set_y(y + 4)
            self.set_font(FONT, "B", 12)
            self.cell(
                0,
                6,
                reports_texts.REPORT_TITLE,
                align=Align.C,
                new_x=XPos.LMARGIN,
                new_y=YPos.NEXT,
            )
            self.set_font(FONT, "", 9)
            self.cell(
                0,
                5,
                f"{reports_texts.SUMMARY_PERIOD}: {period}",
                align=Align.C,
                new_x=XPos.LMARGIN,
                new_y=YPos.NEXT,
            )
            self.ln(2)
        else:
            self.set_font(FONT, "", 8)
            self.cell(
                0,
                5,
                f"{reports_texts.REPORT_TITLE} — {period}",
                new_x=XPos.LMARGIN,
                new_y=YPos.NEXT,
            )
            self.ln(1)

    def footer(self) -> None:
        self.set_y(-10)
        self.set_font(FONT, "", 7.5)
        printed = self.log.generated_at.strftime("%d-%m-%Y %H:%M ") + self.log.tz_label
        self.cell(0, 5, f"{reports_texts.SUMMARY_PRINTED}: {printed}", align=Align.L)
        self.set_x(MARGIN)
        self.cell(0, 5, reports_texts.page_label(self.page_no(), "{nb}"), align=Align.R)


def render_pdf(log: AccessLog, progress: Progress | None = None) -> bytes:
    pdf = _LogPdf(log)
    pdf.add_page()
    _table(pdf, log, progress)
    _roll_calls(pdf, log)
    _signature(pdf, log)
    return bytes(pdf.output())


class _Table:
    """The log table, drawn row by row (fpdf2's table() lays out each cell with a dry run,
    which takes minutes for 10,000 rows; this wraps each distinct text once).

    A visit's notes are no column here: they are one line (wrapped if need be) under its
    row, "Catatan: ...", from the visitor's details to the table's right edge; the number,
    date and reference to its left span both, and a page never parts the two.
    """

    def __init__(self, pdf: _LogPdf) -> None:
        self.pdf = pdf
        self.titles = [pdf.log.titles[i] for i in PDF_INDEXES]
        pdf.set_font(FONT, "B", BODY_SIZE)
        floors = [
            max((pdf.get_string_width(word) for word in title.split()), default=0) + 2 * PADDING
            for title in self.titles
        ]
        self.widths = pdf_widths(TABLE_WIDTH, floors=floors)
        self.edges = list(itertools.accumulate(self.widths, initial=float(MARGIN)))
        # The notes start at the first detail (after the request's number, date, reference).
        keys = [column.key for column in PDF_COLUMNS]
        self.notes_from = keys.index("reference") + 1 if "reference" in keys else 0
        self.notes_width = self.edges[-1] - self.edges[self.notes_from]
        self._wrapped: dict[tuple[str, float, str], list[str]] = {}
        self._top: float | None = None  # where this page's rows start
        self._bands: list[tuple[float, float]] = []  # this page's notes lines: top, bottom

    def wrap(self, text: str, width: float, style: str = "") -> list[str]:
        """``text`` wrapped to ``width`` mm in the current font, whose style is ``style``."""
        key = (text, width, style)
        lines = self._wrapped.get(key)
        if lines is None:
            lines = self._wrapped[key] = _wrap(self.pdf, text, width - 2 * PADDING)
        return lines

    def heading(self) -> None:
        pdf = self.pdf
        pdf.set_font(FONT, "B", BODY_SIZE)
        pdf.set_fill_color(*HEADER_FILL)
        pdf.set_text_color(255, 255, 255)
        self._draw(self.titles, fill=True, bold=True)
        pdf.set_text_color(0, 0, 0)
        # Nothing below the heading is filled; a fill colour equal to the text's spares every
        # line of text the colour change fpdf2 wraps around it otherwise ("q ... Q").
        pdf.set_fill_color(0, 0, 0)
        pdf.set_font(FONT, "", BODY_SIZE)
        self._top = pdf.get_y()

    def row(self, cells: list[str], notes: str) -> None:
        pdf = self.pdf
        height = self._height(cells, bold=False)
        noted: list[str] = []
        if notes:
            pdf.load_italics()
            pdf.set_font(FONT, "I", NOTES_SIZE)
            noted = self.wrap(reports_texts.pdf_notes(notes.splitlines()), self.notes_width, "I")
            pdf.set_font(FONT, "", BODY_SIZE)
            height += len(noted) * NOTES_LINE_HEIGHT + sum(NOTES_PADDING)
        if pdf.get_y() + height > pdf.page_break_trigger:
            self.close_page()
            pdf.add_page()
            self.heading()
        self._draw(cells, fill=False, bold=False, ruled=not noted)
        if noted:
            self._notes(noted)

    def close_page(self) -> None:
        """The column rules of this page's rows, each one line from the first row to the
        last: a rectangle per cell (180,000 for 10,000 visits) was a third of the time. A
        rule the notes lines cross is a line between them."""
        pdf, top, bottom = self.pdf, self._top, self.pdf.get_y()
        if top is None or bottom <= top:
            return
        crossed = range(self.notes_from + 1, len(self.edges) - 1)
        for index, edge in enumerate(self.edges):
            if index not in crossed or not self._bands:
                pdf.line(edge, top, edge, bottom)
                continue
            start = top
            for band_top, band_bottom in self._bands:
                pdf.line(edge, start, edge, band_top)
                start = band_bottom
            if start < bottom:
                pdf.line(edge, start, edge, bottom)
        self._top = None
        self._bands = []

    def _height(self, cells: list[str], *, bold: bool) -> float:
        style = "B" if bold else ""
        lines = max(len(self.wrap(t, w, style)) for t, w in zip(cells, self.widths, strict=True))
        return max(1, lines) * LINE_HEIGHT + 2 * PADDING

    def _draw(self, cells: list[str], *, fill: bool, bold: bool, ruled: bool = True) -> None:
        """A row, or the heading (``fill``); ``ruled`` False: its rule is drawn only under
        the number, date and reference, which its notes line below does not cross."""
        pdf = self.pdf
        style = "B" if bold else ""
        x, y = float(MARGIN), pdf.get_y()
        height = self._height(cells, bold=bold)
        last = len(cells) - 1
        for index, (text, width) in enumerate(zip(cells, self.widths, strict=True)):
            if fill:  # the heading; a row's rules are one line under it, the columns' per page
                pdf.rect(x, y, width, height, style="DF")
            if index == last and text and not fill:
                pdf.set_text_color(*BREACH_INK)
            for number, line in enumerate(self.wrap(text, width, style)):
                if line:  # an empty line draws nothing, but text() still writes a text object
                    pdf.text(x + PADDING, y + PADDING + (number + 0.78) * LINE_HEIGHT, line)
            if index == last and text and not fill:
                pdf.set_text_color(0, 0, 0)
            x += width
        if not fill:
            start = self.edges[0 if ruled else self.notes_from]
            pdf.line(start, y + height, self.edges[-1], y + height)
        pdf.set_y(y + height)

    def _notes(self, lines: list[str]) -> None:
        """The notes line(s) under the row just drawn, in small muted italics."""
        pdf = self.pdf
        x, y = self.edges[self.notes_from] + PADDING, pdf.get_y()
        height = len(lines) * NOTES_LINE_HEIGHT + sum(NOTES_PADDING)
        pdf.set_font(FONT, "I", NOTES_SIZE)
        pdf.set_text_color(*NOTES_INK)
        for number, line in enumerate(lines):
            pdf.text(x, y + NOTES_PADDING[0] + (number + 0.8) * NOTES_LINE_HEIGHT, line)
        pdf.set_text_color(0, 0, 0)
        pdf.set_font(FONT, "", BODY_SIZE)
        pdf.line(self.edges[0], y + height, self.edges[-1], y + height)
        self._bands.append((y, y + height))
        pdf.set_y(y + height)


# A long word's pieces, each ending at a slash or hyphen (the last one may end without).
_BREAKS = re.compile(r"[^/-]*[/-]|[^/-]+")


def _measure(pdf: FPDF) -> Callable[[str], float]:
    """The width in mm of a text in the current font and size: the sum of its glyphs' widths,
    as fpdf2's get_string_width() computes it for plain text (no markdown, shaping, character
    spacing or stretching, none of which the table uses), without building the styled
    fragments it builds for each call (issue 13: a fifth of the PDF's time)."""
    font, size, scale = pdf.current_font, pdf.font_size_pt, pdf.k
    assert font is not None and not pdf.char_spacing and pdf.font_stretching == 100
    return lambda text: font.get_text_width(text, size, None)[1] / scale


def _wrap(pdf: FPDF, text: str, width: float) -> list[str]:
    """Greedy word wrap to ``width`` mm; a word longer than the line is broken after a slash
    or hyphen (letter numbers, 090/123/ST/XI/2026), and cut where it must be."""
    if not text:
        return [""]
    string_width = _measure(pdf)
    lines: list[str] = []
    for paragraph in text.splitlines() or [""]:
        line = ""
        for word in paragraph.split(" "):
            candidate = f"{line} {word}" if line else word
            if string_width(candidate) <= width:
                line = candidate
                continue
            if line:
                lines.append(line)
            line = ""
            for piece in _BREAKS.findall(word):
                if line and string_width(line + piece) > width:
                    lines.append(line)
                    line = ""
                for char in piece:
                    if line and string_width(line + char) > width:
                        lines.append(line)
                        line = ""
                    line += char
        lines.append(line)
    return lines


def _table(pdf: _LogPdf, log: AccessLog, progress: Progress | None) -> None:
    pdf.set_draw_color(110, 110, 110)
    pdf.set_line_width(0.15)
    table = _Table(pdf)
    table.heading()
    if not log.rows:
        pdf.set_font(FONT, "", 9)
        pdf.cell(sum(table.widths), 8, reports_texts.NO_ROWS, border=1, align=Align.C)
        pdf.ln(8)
    total = len(log.rows)
    for done, row in enumerate(log.rows, 1):
        cells = text_cells(row, short_times=True)
        table.row([cells[i] for i in PDF_INDEXES], row.notes)
        tick(progress, done, total)
    table.close_page()


def _roll_calls(pdf: _LogPdf, log: AccessLog) -> None:
    """The "Apel darurat" section: each roll call of the period, a line per visitor."""
    if not log.roll_calls:
        return
    widths = (26, 30, 26, 30, 40, 32, 26, 26, 31)
    needed = LINE_HEIGHT * 2 + 12
    if pdf.get_y() + needed > pdf.page_break_trigger:
        pdf.add_page()
    pdf.ln(4)
    pdf.set_font(FONT, "B", 9)
    pdf.cell(0, 6, rollcall_texts.REPORT_SECTION, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    for cells, bold in [
        (list(rollcall_texts.REPORT_COLUMNS), True),
        *((rollcall_cells(line), False) for line in log.roll_calls),
    ]:
        if pdf.get_y() + LINE_HEIGHT * 2 > pdf.page_break_trigger:
            pdf.add_page()
        pdf.set_font(FONT, "B" if bold else "", BODY_SIZE)
        for text, width in zip(cells, widths, strict=True):
            pdf.cell(width, LINE_HEIGHT * 1.6, _fit(pdf, text, width), border=1)
        pdf.ln(LINE_HEIGHT * 1.6)


def _fit(pdf: FPDF, text: str, width: float) -> str:
    """One line: cut with an ellipsis where the cell ends (a name, a reference, a time)."""
    room = width - 2 * PADDING
    if pdf.get_string_width(text) <= room:
        return text
    while text and pdf.get_string_width(text + "…") > room:
        text = text[:-1]
    return text + "…"


def _signature(pdf: _LogPdf, log: AccessLog) -> None:
    """Mengetahui, Kepala Seksi PPI SPBE: the name line left blank to be written by hand."""
    block_height = 42
    if pdf.get_y() + block_height > pdf.h - 14:
        pdf.add_page()
    pdf.ln(6)
    x = pdf.w - MARGIN - 110
    pdf.set_font(FONT, "", 9)
    lines = [
        reports_texts.signature_date(log.generated_at.date()),
        reports_texts.SIGNATURE_KNOWN,
        reports_texts.SIGNATORY_TITLE,
    ]
    for line in lines:
        pdf.set_x(x)
        pdf.cell(110, 5, line, align=Align.C, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(18)
    for line in (reports_texts.SIGNATURE_NAME_LINE, reports_texts.SIGNATURE_NIP):
        pdf.set_x(x)
        pdf.cell(110, 5, line, align=Align.C, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
