"""The special identity badge (*tanda pengenal khusus*, SOP step 4-5) as PNG and printable PDF.

A portrait ID-1 card (54 x 85.6 mm, the size of a KTP or bank card) at 300 dpi: a coloured
band that marks the holder as a visitor from across the room (PCI DSS 9.3.2 asks for a badge
that visibly tells visitors from staff), the office, the visitor's name and organisation,
the visit reference, the visit date, the expiry time, the QR deep link and the manual code
under it, and the zone the visit is for ("RUANG SERVER") in the bottom band.

Only Pillow's embedded font is used, so nothing has to be shipped or installed. That font
covers printable ASCII and a few typographic marks only, so text is folded to what it can
draw (``é`` -> ``e``); characters with no ASCII reading become ``?`` rather than empty boxes.

Pure module: no I/O beyond in-memory buffers, no Telegram, no storage.
"""

from __future__ import annotations

import functools
import io
import threading
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

import qrcode
import qrcode.constants
from PIL import Image, ImageDraw, ImageFont

from bot.core.png_pdf import page_of_png
from bot.core.tokens import format_code, normalise_code
from bot.texts import badge as badge_texts

__all__ = [
    "BADGE_DPI",
    "BADGE_SIZE_PX",
    "BadgeCard",
    "printable_text",
    "render_badge_image",
    "render_badge_pdf",
    "render_badge_png",
]

# ID-1 (ISO/IEC 7810) is 53.98 x 85.60 mm: 637.5 x 1011.0 px at 300 dpi; 638 px wide makes
# the PDF page 54.02 mm, within the standard's own tolerance.
BADGE_DPI = 300
BADGE_SIZE_PX = (638, 1011)

# Indonesia's three time zones; the label on the card decides how valid_until is shown, so
# an aware datetime in UTC still prints as local time.
_ZONE_OFFSETS = {
    "WIB": timedelta(hours=7),
    "WITA": timedelta(hours=8),
    "WIT": timedelta(hours=9),
}

_BAND = (214, 64, 20)  # strong orange-red: reads as "not staff" at a glance
_INK = (25, 25, 25)
_MUTED = (90, 90, 90)

_MARGIN = 36
# The visitor band at the top, and a thin one at the bottom: either end showing from a
# lanyard still marks the holder as a visitor.
_BAND_HEIGHT = 176
_BOTTOM_BAND = 48  # tall enough to carry the zone's name in white
_ELLIPSIS = "…"  # the embedded font has this glyph (checked in the tests)

# Characters the embedded font lacks but that have an obvious ASCII reading NFKD does not
# give (no decomposition).
_FOLD = {
    "ß": "ss", "ẞ": "SS", "æ": "ae", "Æ": "AE", "œ": "oe", "Œ": "OE", "ø": "o", "Ø": "O",
    "ł": "l", "Ł": "L", "đ": "d", "Đ": "D", "ð": "d", "Ð": "D", "þ": "th", "Þ": "Th",
    "ı": "i", "ħ": "h", "Ħ": "H", "ŋ": "ng", "Ŋ": "NG",
    "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-", "\u2212": "-",
    "\u02bc": "’", "\u02bb": "‘", "\u2032": "'", "\u2033": '"',
}  # fmt: skip


@dataclass(frozen=True)
class BadgeCard:
    """Everything printed on one badge. ``code`` is the canonical manual code."""

    name: str
    organisation: str
    reference: str
    valid_until: datetime
    link: str
    code: str
    office: str
    timezone_label: str = "WIB"
    visit_date: date | None = None  # None: the date valid_until falls on, in the label's zone
    zone: str = badge_texts.ZONE

    def __post_init__(self) -> None:
        # A naive datetime would print whatever the server's clock zone is as "WIB".
        if self.valid_until.tzinfo is None or self.valid_until.utcoffset() is None:
            raise ValueError("valid_until must be timezone-aware")
        if normalise_code(self.code) is None:
            raise ValueError("code is not a manual badge code")


@functools.lru_cache(maxsize=64)
def _font(size: int) -> ImageFont.FreeTypeFont:
    font = ImageFont.load_default(size=size)
    if not isinstance(font, ImageFont.FreeTypeFont):  # Pillow built without FreeType
        raise RuntimeError("Pillow needs FreeType support to render badges")
    return font


@functools.lru_cache(maxsize=1)
def _missing_glyph() -> tuple[bytes, float]:
    # U+FFFF is a non-character: no font maps it, so this is the .notdef box.
    font = _font(20)
    return bytes(font.getmask("\uffff")), font.getlength("\uffff")


@functools.lru_cache(maxsize=4096)
def _has_glyph(ch: str) -> bool:
    # Pillow has no cmap query; a character the font lacks renders as the .notdef box.
    font = _font(20)
    return (bytes(font.getmask(ch)), font.getlength(ch)) != _missing_glyph()


def _fold_char(ch: str) -> str:
    if ch.isascii() or _has_glyph(ch):
        return ch
    if ch in _FOLD:
        return _FOLD[ch]
    base = "".join(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c))
    if base and all(c.isascii() or _has_glyph(c) for c in base):
        return base
    return "?"


def printable_text(text: str) -> str:
    """``text`` as the badge will draw it: one line, only characters the font has.

    Control and format characters (newlines, bidi overrides, zero-width joiners) are
    dropped or turned into spaces so a name cannot break the layout or reorder itself.
    Markup is not interpreted: ``<b>x</b>`` is drawn as typed.
    """
    out: list[str] = []
    for ch in unicodedata.normalize("NFC", text):
        category = unicodedata.category(ch)
        if ch.isspace() or category == "Zs":
            out.append(" ")
        elif category[0] == "C":  # Cc, Cf, Cs, Co, Cn
            continue
        elif ch.isascii():
            out.append(ch if ch.isprintable() else " ")
        else:
            out.append(_fold_char(ch))
    return " ".join("".join(out).split())


@functools.lru_cache(maxsize=8192)
def _advance(ch: str, size: int) -> float:
    return _font(size).getlength(ch)


def _width(text: str, font: ImageFont.FreeTypeFont) -> float:
    """Advance width of ``text``, as ``font.getlength`` would measure it.

    The embedded font is laid out without kerning, so a line is exactly the sum of its
    characters (a test holds this). Summing cached advances is ~40x cheaper than asking
    FreeType for every candidate line, which made fitting long names the slowest step.
    """
    size = int(font.size)
    return sum(_advance(ch, size) for ch in text)


def _prefix_fitting(text: str, font: ImageFont.FreeTypeFont, width: float, suffix: str) -> int:
    """Length of the longest prefix that fits in ``width`` followed by ``suffix``."""
    lo, hi = 0, len(text)
    while lo < hi:  # binary search: long pasted names must not cost O(n^2) measurements
        mid = (lo + hi + 1) // 2
        if _width(text[:mid].rstrip() + suffix, font) <= width:
            lo = mid
        else:
            hi = mid - 1
    return lo


def _truncate(text: str, font: ImageFont.FreeTypeFont, width: float) -> str:
    """``text`` if it fits in ``width``, else its longest fitting prefix plus an ellipsis."""
    if _width(text, font) <= width:
        return text
    return text[: _prefix_fitting(text, font, width, _ELLIPSIS)].rstrip() + _ELLIPSIS


def _wrap(text: str, font: ImageFont.FreeTypeFont, width: float, max_lines: int) -> list[str]:
    """Greedy word wrap into at most ``max_lines``; the last line gets an ellipsis if cut.

    A single word longer than the line is split where it overflows.
    """
    words = text.split(" ")
    lines: list[str] = []
    current = ""
    i = 0
    while i < len(words) and len(lines) < max_lines:
        word = words[i]
        candidate = f"{current} {word}" if current else word
        if _width(candidate, font) <= width:
            current = candidate
            i += 1
            continue
        if current:
            lines.append(current)
            current = ""
            continue
        # One word wider than the line: cut it at the last character that fits.
        cut = max(1, _prefix_fitting(word, font, width, ""))
        lines.append(word[:cut])
        words[i] = word[cut:]
    if current and len(lines) < max_lines:
        lines.append(current)
        current = ""
    if i < len(words) or current:
        rest = " ".join([current, *words[i:]]).strip()
        lines[-1] = _truncate(f"{lines[-1]} {rest}", font, width)
    return lines


def _fit(
    text: str, sizes: range, width: float, max_lines: int
) -> tuple[ImageFont.FreeTypeFont, list[str]]:
    """Largest size in ``sizes`` (descending) at which ``text`` wraps into ``max_lines``
    uncut; if none does, the smallest size, cut with an ellipsis."""

    def uncut(size: int) -> list[str] | None:
        lines = _wrap(text, _font(size), width, max_lines)
        return lines if " ".join(lines) == text else None

    # Binary search: measuring text is the slowest part of layout, and whether it fits is
    # monotonic in the size (up to a pixel of hinting).
    candidates = list(sizes)
    best: tuple[int, list[str]] | None = None
    lo, hi = 0, len(candidates) - 1
    while lo <= hi:
        mid = (lo + hi) // 2
        lines = uncut(candidates[mid])
        if lines is not None:
            best = (candidates[mid], lines)
            hi = mid - 1
        else:
            lo = mid + 1
    if best is None:
        font = _font(candidates[-1])
        return font, _wrap(text, font, width, max_lines)
    return _font(best[0]), best[1]


def _draw_lines(
    draw: ImageDraw.ImageDraw,
    lines: list[str],
    font: ImageFont.FreeTypeFont,
    top: float,
    fill: int,
    *,
    line_gap: float = 1.15,
    bold: bool = False,
) -> float:
    """Draw centred lines from ``top``; return the y just below the last one."""
    centre = BADGE_SIZE_PX[0] / 2
    step = font.size * line_gap
    for line in lines:
        draw.text(
            (centre, top),
            line,
            font=font,
            fill=fill,
            anchor="ma",
            # A hairline stroke in the same colour stands in for the bold face the
            # embedded font does not have.
            stroke_width=1 if bold else 0,
            stroke_fill=fill,
        )
        top += step
    return top


# Any of the eight masks is valid (ISO/IEC 18004 8.8); the standard's penalty score picks
# the one with the fewest confusing patterns. Over 40 badge deep links mask 7 scored best
# on average (1137 against 1201-1505 for the others; bench/findings.md), so it is the fixed one.
QR_MASK = 7


@functools.lru_cache(maxsize=8)
def _qr_matrix(data: str) -> tuple[int, bytes]:
    """QR modules of ``data`` with a 4-module quiet zone, as (side, L pixels).

    Cached because the PNG and the PDF of one badge are rendered back to back. The mask
    pattern is fixed (QR_MASK) instead of chosen per code: qrcode's search scores all
    eight in pure Python, about 10 ms a badge, more than the rest of the QR.
    """
    qr = qrcode.QRCode(
        mask_pattern=QR_MASK,
        # Q (25 % recovery) survives scuffs and a thumb over a corner on a worn badge; a
        # deep link of a 32-character bot name still fits version 8 (49 modules).
        error_correction=qrcode.constants.ERROR_CORRECT_Q,
        box_size=1,
        border=4,
    )
    qr.add_data(data)
    qr.make(fit=True)
    matrix = qr.get_matrix()
    return len(matrix), bytes(0 if cell else 255 for row in matrix for cell in row)


def _qr_image(data: str, target: int) -> Image.Image:
    """QR of ``data`` at most ``target`` px, whole pixels per module (sharp when printed)."""
    side, pixels = _qr_matrix(data)
    box = max(1, target // side)
    small = Image.frombytes("L", (side, side), pixels)
    return small.resize((side * box, side * box), Image.Resampling.NEAREST)


def _local_until(card: BadgeCard) -> datetime:
    offset = _ZONE_OFFSETS.get(card.timezone_label.upper())
    return card.valid_until.astimezone(timezone(offset)) if offset else card.valid_until


def _valid_until_text(card: BadgeCard) -> str:
    return badge_texts.valid_until(_local_until(card), card.timezone_label)


def _visit_date_text(card: BadgeCard) -> str:
    return badge_texts.visit_date(card.visit_date or _local_until(card).date())


def _palette() -> list[int]:
    # Indices 0-127: grey ramp from black to white (the card body, all greys).
    # Indices 128-255: ramp from the band colour to white (white text on the band).
    palette: list[int] = []
    for i in range(128):
        grey = round(i * 255 / 127)
        palette += [grey, grey, grey]
    for i in range(128):
        t = i / 127
        palette += [round(c + (255 - c) * t) for c in _BAND]
    return palette


_PALETTE = _palette()
_BODY_LUT = [v >> 1 for v in range(256)]
_BAND_LUT = [128 + (v >> 1) for v in range(256)]


@functools.lru_cache(maxsize=4)
def _bottom_band_layer(zone: str) -> Image.Image:
    """The bottom band with the zone's name in white, in palette indices."""
    width = BADGE_SIZE_PX[0]
    band = Image.new("L", (width, _BOTTOM_BAND), 0)
    font, lines = _fit(printable_text(zone), range(32, 17, -2), width - 2 * _MARGIN, 1)
    ImageDraw.Draw(band).text(
        (width / 2, _BOTTOM_BAND / 2),
        lines[0] if lines else "",
        font=font,
        fill=255,
        anchor="mm",
        stroke_width=1,
        stroke_fill=255,
    )
    return band.point(_BAND_LUT)


@functools.lru_cache(maxsize=1)
def _band_layer() -> Image.Image:
    """The top band, already in palette indices; it is the same on every badge."""
    width = BADGE_SIZE_PX[0]
    # 0 = band colour, 255 = white; mapped to indices 128-255 at the end.
    band = Image.new("L", (width, _BAND_HEIGHT), 0)
    draw = ImageDraw.Draw(band)
    title_font, _ = _fit(badge_texts.BAND, range(86, 40, -2), width - 2 * _MARGIN, 1)
    # Strokes in the text colour stand in for the bold face the embedded font lacks.
    draw.text(
        (width / 2, 34),
        badge_texts.BAND,
        font=title_font,
        fill=255,
        anchor="ma",
        stroke_width=2,
        stroke_fill=255,
    )
    draw.text(
        (width / 2, 128),
        badge_texts.BAND_ENGLISH,
        font=_font(34),
        fill=255,
        anchor="ma",
        stroke_width=1,
        stroke_fill=255,
    )
    return band.point(_BAND_LUT)


_render_lock = threading.Lock()


def _render_indexed(card: BadgeCard) -> Image.Image:
    """The badge as a palette ("P") image; callers must not change it (it is cached).

    The PNG and the PDF of one badge are rendered back to back, often in two threads at
    once, and drawing is most of their cost: the lock makes the second one wait for the
    first and reuse its image instead of drawing the card again.
    """
    with _render_lock:
        return _render_cached(card)


@functools.lru_cache(maxsize=4)
def _render_cached(card: BadgeCard) -> Image.Image:
    """Draws the badge as a palette ("P") image.

    Everything is drawn in greyscale, the body and the band on separate layers, then both
    are mapped into one 256-colour palette (see :func:`_palette`). That keeps antialiased
    text exact while the PNG holds one byte per pixel: encoding is about four times faster
    and the file half the size of an RGB one.
    """
    width, height = BADGE_SIZE_PX
    inner = width - 2 * _MARGIN

    body = Image.new("L", BADGE_SIZE_PX, 255)
    draw = ImageDraw.Draw(body)
    ink, muted = _INK[0], _MUTED[0]

    y = _BAND_HEIGHT + 16.0
    office_font, office = _fit(printable_text(card.office), range(26, 19, -1), inner, 1)
    y = _draw_lines(draw, office, office_font, y, muted)

    y += 14
    name_font, name = _fit(printable_text(card.name) or "-", range(52, 31, -2), inner, 2)
    y = _draw_lines(draw, name, name_font, y, ink, line_gap=1.1, bold=True)

    y += 4
    org_font, org = _fit(printable_text(card.organisation) or "-", range(30, 21, -1), inner, 2)
    y = _draw_lines(draw, org, org_font, y, ink)

    y += 10
    small = _font(26)
    ref = _truncate(printable_text(badge_texts.reference(card.reference)), small, inner)
    y = _draw_lines(draw, [ref], small, y, muted)
    day = _truncate(printable_text(_visit_date_text(card)), small, inner)
    y = _draw_lines(draw, [day], small, y, ink)
    until = _truncate(printable_text(_valid_until_text(card)), small, inner)
    y = _draw_lines(draw, [until], small, y, ink)

    # The QR takes the height left between the text and the code; its own 4-module white
    # margin is the quiet zone scanners need.
    code_top = height - _BOTTOM_BAND - 118
    qr = _qr_image(card.link, min(width - 40, int(code_top - y)))
    qr_top = int(y + (code_top - y - qr.height) / 2)
    body.paste(qr, ((width - qr.width) // 2, qr_top))

    draw.text(
        (width / 2, code_top),
        format_code(card.code),
        font=_font(56),
        fill=ink,
        anchor="ma",
        stroke_width=1,
        stroke_fill=ink,
    )
    draw.text(
        (width / 2, code_top + 70),
        badge_texts.MANUAL_CODE,
        font=_font(24),
        fill=muted,
        anchor="ma",
    )

    indexed = body.point(_BODY_LUT)
    indexed.paste(_band_layer(), (0, 0))
    indexed.paste(_bottom_band_layer(card.zone), (0, height - _BOTTOM_BAND))
    indexed.putpalette(_PALETTE)  # turns the "L" image into "P"
    return indexed


def render_badge_image(card: BadgeCard) -> Image.Image:
    """The badge as an RGB Pillow image of :data:`BADGE_SIZE_PX` (for composing pages)."""
    return _render_indexed(card).convert("RGB")


def render_badge_png(card: BadgeCard) -> bytes:
    """The badge as PNG bytes (for sending as a photo or document)."""
    buffer = io.BytesIO()
    # dpi metadata makes image viewers print it at card size. Level 3 compresses almost
    # as well as the default 6 in a third of the time.
    _render_indexed(card).save(buffer, "PNG", dpi=(BADGE_DPI, BADGE_DPI), compress_level=3)
    return buffer.getvalue()


def render_badge_files(card: BadgeCard) -> tuple[bytes, bytes]:
    """The badge's PNG, and its one-page PDF exactly the size of the card for printing at
    100 %: the PNG's own compressed pixels on the page (bot/core/png_pdf.py), so the
    print is the same image, lossless, and costs no second encoding."""
    png = render_badge_png(card)
    title = badge_texts.pdf_title(printable_text(card.reference))
    return png, page_of_png(png, BADGE_DPI, title)


def render_badge_pdf(card: BadgeCard) -> bytes:
    """A one-page PDF exactly the size of the card, for printing at 100 %."""
    return render_badge_files(card)[1]
