"""The badge: rendering PNG and PDF, and reading it back from photos."""

from __future__ import annotations

import io
import re
import struct
import zlib
from datetime import UTC, datetime, timedelta, timezone

import pytest
import qrcode
import zxingcpp
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image, ImageFilter
from pypdf import PdfReader

from bot.core import badge
from bot.core.badge import (
    BADGE_SIZE_PX,
    BadgeCard,
    printable_text,
    render_badge_files,
    render_badge_image,
    render_badge_pdf,
    render_badge_png,
)
from bot.core.png_pdf import NotAPalettePng, page_of_png
from bot.core.qr import QUICK_SIDE, decode_badge_token, decode_qr
from bot.core.tokens import deep_link, new_credentials
from tests.strategies import SAMPLE_BOT, SAMPLE_SECRET

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MM_PER_POINT = 25.4 / 72


def make_card(name: str = "Budi Santoso", **changes: object) -> BadgeCard:
    creds = new_credentials(SAMPLE_SECRET, 42)
    fields: dict[str, object] = {
        "name": name,
        "organisation": "PT Telkom Indonesia (Persero) Tbk",
        "reference": "RS-2026-00042",
        "valid_until": datetime(2026, 11, 28, 15, 30, tzinfo=timezone(timedelta(hours=7))),
        "link": deep_link(SAMPLE_BOT, creds.token),
        "code": creds.code,
        "office": "Diskominfo Kabupaten Lumajang",
    }
    fields.update(changes)
    return BadgeCard(**fields)  # type: ignore[arg-type]


def token_of(card: BadgeCard) -> str:
    return card.link.rsplit("=", 1)[1]


def png_bytes(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def jpeg_bytes(image: Image.Image, quality: int = 70, **params: object) -> bytes:
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, "JPEG", quality=quality, **params)
    return buffer.getvalue()


def phone_photo(badge_png: bytes, *, angle: float = 12, scale: float = 0.55) -> bytes:
    """The badge as an escort's phone might capture it: on a desk, tilted, soft, small."""
    card = Image.open(io.BytesIO(badge_png)).convert("RGB")
    desk = Image.new("RGB", (1500, 1700), (128, 128, 128))
    desk.paste(card, (400, 330))
    photo = desk.rotate(angle, resample=Image.Resampling.BICUBIC, fillcolor=(128, 128, 128))
    photo = photo.filter(ImageFilter.GaussianBlur(1.2))
    size = (round(photo.width * scale), round(photo.height * scale))
    return jpeg_bytes(photo.resize(size, Image.Resampling.LANCZOS), quality=70)


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that claims a size but holds (almost) no pixels: a decompression bomb."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        PNG_SIGNATURE
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\0" * 64))
        + chunk(b"IEND", b"")
    )


# --- rendering -----------------------------------------------------------------------------


def test_png_is_an_id1_card_that_decodes_back_to_the_link() -> None:
    card = make_card()
    data = render_badge_png(card)
    assert data.startswith(PNG_SIGNATURE)
    image = Image.open(io.BytesIO(data))
    assert image.size == BADGE_SIZE_PX == (638, 1011)
    assert image.info["dpi"] == pytest.approx((300, 300), abs=0.01)
    assert decode_qr(data) == [card.link]
    assert decode_badge_token(data) == token_of(card)
    assert decode_badge_token(data, SAMPLE_BOT) == token_of(card)
    assert decode_badge_token(data, "SomeOtherBot") is None


def test_band_marks_a_visitor() -> None:
    image = render_badge_image(make_card())
    red, green, blue = image.getpixel((5, 5))  # type: ignore[misc]
    assert red > 180 and green < 110 and blue < 60  # the orange-red band
    assert image.getpixel((5, BADGE_SIZE_PX[1] - 5)) == image.getpixel((5, 5))
    assert image.getpixel((5, 400)) == (255, 255, 255)


def test_qr_is_large_enough_for_a_phone() -> None:
    # Modules of at least 6 px (0.5 mm at 300 dpi) even with a 32-character bot name and
    # the longest texts.
    token = new_credentials(SAMPLE_SECRET, 1).token
    card = make_card(
        "Raden Ajeng Siti Nurhaliza Kusumawardhani Prawiroatmodjo",
        organisation="Dinas Komunikasi, Informatika, Statistik dan Persandian Provinsi",
        link=deep_link("A" * 32, token),
    )
    image = render_badge_image(card)
    (found,) = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)
    assert found.text == card.link
    side, _ = badge._qr_matrix(card.link)
    modules = side - 8  # without the quiet zone
    corners = found.position
    width = corners.top_right.x - corners.top_left.x
    assert width / modules >= 5.9
    # Quiet zone: 4 modules of white on every side of the symbol.
    margin = 4 * width / modules
    left, top = corners.top_left.x, corners.top_left.y
    grey = image.convert("L")
    zone = grey.crop((int(left - margin), int(top - margin), int(left - 2), int(top - 2)))
    assert zone.getextrema() == (255, 255)


def test_pdf_is_one_card_sized_page() -> None:
    card = make_card()
    data = render_badge_pdf(card)
    assert data.startswith(b"%PDF")
    boxes = re.findall(rb"/MediaBox\s*\[\s*([\d.\s]+)\]", data)
    assert len(boxes) == 1  # one page
    x0, y0, x1, y1 = (float(v) for v in boxes[0].split())
    assert (x0, y0) == (0, 0)
    # ID-1 portrait: 53.98 x 85.60 mm (ISO/IEC 7810 tolerance is far larger than 0.1 mm).
    assert (x1 - x0) * MM_PER_POINT == pytest.approx(53.98, abs=0.1)
    assert (y1 - y0) * MM_PER_POINT == pytest.approx(85.60, abs=0.1)


def test_pdf_prints_the_png_itself_lossless_and_reads_back() -> None:
    """The PDF holds the PNG's own pixels (bot/core/png_pdf.py): a strict PDF reader finds
    one page whose image is the PNG pixel for pixel, with its QR, and the title."""
    card = make_card()
    png, pdf = render_badge_files(card)
    assert png == render_badge_png(card)
    reader = PdfReader(io.BytesIO(pdf), strict=True)
    assert len(reader.pages) == 1
    assert reader.metadata is not None
    assert reader.metadata.title == "Tanda pengenal pengunjung RS-2026-00042"
    [embedded] = reader.pages[0].images
    printed = embedded.image.convert("RGB")
    shown = Image.open(io.BytesIO(png)).convert("RGB")
    assert printed.size == shown.size == BADGE_SIZE_PX
    assert printed.tobytes() == shown.tobytes()
    out = io.BytesIO()
    printed.save(out, "PNG")
    assert decode_qr(out.getvalue()) == [card.link]
    assert len(pdf) < 2 * len(png)  # the same compressed pixels, not a second encoding


def test_a_title_with_any_characters_stays_a_valid_pdf() -> None:
    title = "Tamu (uji) \\ 王小明 ) ( 🙂 %%EOF\nendobj"
    png = render_badge_png(make_card())
    reader = PdfReader(io.BytesIO(page_of_png(png, 300, title)), strict=True)
    assert reader.metadata is not None and reader.metadata.title == title


@pytest.mark.parametrize(
    "image",
    [
        Image.new("RGB", (40, 30), "white"),  # no palette
        Image.new("L", (40, 30), 255),
        Image.new("RGBA", (40, 30), (0, 0, 0, 0)),
    ],
)
def test_only_a_palette_png_is_wrapped(image: Image.Image) -> None:
    with pytest.raises(NotAPalettePng):
        page_of_png(png_bytes(image), 300)


@pytest.mark.parametrize("data", [b"", b"not a png", PNG_SIGNATURE + b"\0" * 40, b"%PDF-1.4\n"])
def test_garbage_is_not_wrapped(data: bytes) -> None:
    with pytest.raises(NotAPalettePng):
        page_of_png(data, 300)


def test_a_damaged_png_is_not_wrapped() -> None:
    png = bytearray(render_badge_png(make_card()))
    png[40] ^= 0xFF  # inside the palette chunk: its CRC no longer matches
    with pytest.raises(NotAPalettePng):
        page_of_png(bytes(png), 300)


def test_long_and_hostile_names_do_not_crash_or_overflow() -> None:
    names = [
        "A" * 500,
        "Raden Ajeng " * 40,
        "W" * 3 + " " + "Wwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwww",
        "<b>x</b> <script>alert(1)</script> &amp;",
        "line\nbreak\r\nand\ttab \u202eRLO override\u200b",
        "王小明 محمد 🙂",
        "",
        " ",
    ]
    for name in names:
        card = make_card(name, organisation=name, office=name, reference=name)
        image = render_badge_image(card)
        assert image.size == BADGE_SIZE_PX
        # Nothing is drawn in the side margins between the band and the bottom band.
        grey = image.convert("L")
        top, bottom = badge._BAND_HEIGHT, BADGE_SIZE_PX[1] - badge._BOTTOM_BAND
        right = BADGE_SIZE_PX[0]
        assert grey.crop((0, top, 30, bottom)).getextrema() == (255, 255), name[:20]
        assert grey.crop((right - 30, top, right, bottom)).getextrema() == (255, 255)
        assert decode_qr(png_bytes(image)) == [card.link]


def test_printable_text() -> None:
    assert printable_text("José Müller-Łukasz") == "Jose Muller-Lukasz"
    assert printable_text("Straße Ærø") == "Strasse AEro"
    assert printable_text("<b>x</b> &amp;") == "<b>x</b> &amp;"
    assert printable_text("a\nb\tc  d\u200b\u202ee") == "a b c de"
    assert printable_text("王小明") == "???"
    assert printable_text("Jum’at “Kliwon” …") == "Jum’at “Kliwon” …"
    assert printable_text("  ") == ""


@given(st.text(max_size=60))
@settings(max_examples=60, deadline=None)
def test_printable_text_uses_only_drawable_characters(text: str) -> None:
    out = printable_text(text)
    assert "\n" not in out and out == out.strip()
    assert all((ch.isascii() and ch.isprintable()) or badge._has_glyph(ch) for ch in out)


@given(st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=60))
@settings(max_examples=60)
def test_summed_advances_equal_freetype_layout(text: str) -> None:
    # The layout measures lines by summing per-character advances; that must agree with
    # what FreeType lays out, or text could overflow the card.
    for size in (24, 37, 52):
        font = badge._font(size)
        assert badge._width(text, font) == font.getlength(text)


def test_ellipsis_glyph_exists() -> None:
    assert badge._has_glyph(badge._ELLIPSIS)
    assert not badge._has_glyph("王")


def test_valid_until_is_shown_in_the_labelled_zone() -> None:
    utc = datetime(2026, 11, 28, 8, 30, tzinfo=UTC)
    assert badge._valid_until_text(make_card(valid_until=utc)) == (
        "Berlaku s.d. 28-11-2026 15:30 WIB"
    )
    wita = make_card(valid_until=utc, timezone_label="WITA")
    assert badge._valid_until_text(wita).endswith("16:30 WITA")
    other = make_card(valid_until=utc, timezone_label="UTC")
    assert badge._valid_until_text(other).endswith("08:30 UTC")


def test_card_rejects_naive_time_and_bad_code() -> None:
    with pytest.raises(ValueError):
        make_card(valid_until=datetime(2026, 11, 28, 15, 30))
    with pytest.raises(ValueError):
        make_card(code="0000-0000")


# --- reading photos -----------------------------------------------------------------------


def test_phone_photo_of_badge_decodes() -> None:
    card = make_card()
    photo = phone_photo(render_badge_png(card))
    assert Image.open(io.BytesIO(photo)).format == "JPEG"
    assert decode_badge_token(photo, SAMPLE_BOT) == token_of(card)


@pytest.mark.parametrize("angle", [-12, 30, 90, 180])
def test_rotated_photos_decode(angle: float) -> None:
    card = make_card()
    assert decode_badge_token(phone_photo(render_badge_png(card), angle=angle)) == token_of(card)


def test_exif_rotated_photo_decodes() -> None:
    card = make_card()
    sideways = Image.open(io.BytesIO(render_badge_png(card))).rotate(90, expand=True)
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90 CW to display
    assert decode_badge_token(jpeg_bytes(sideways, quality=85, exif=exif)) == token_of(card)


def test_mirrored_exif_photo_decodes() -> None:
    card = make_card()
    mirrored = Image.open(io.BytesIO(render_badge_png(card))).transpose(
        Image.Transpose.FLIP_LEFT_RIGHT
    )
    exif = Image.Exif()
    exif[0x0112] = 2  # orientation: mirrored horizontally
    assert decode_badge_token(jpeg_bytes(mirrored, quality=85, exif=exif)) == token_of(card)


def test_large_photo_is_downscaled_and_still_decodes() -> None:
    card = make_card()
    big = Image.new("L", (6000, 4000), 140)
    badge_image = Image.open(io.BytesIO(render_badge_png(card))).convert("L")
    big.paste(badge_image.resize((1276, 2022), Image.Resampling.NEAREST), (2000, 900))
    assert decode_badge_token(jpeg_bytes(big, quality=85)) == token_of(card)
    assert decode_badge_token(png_bytes(big)) == token_of(card)


def test_small_badge_in_a_big_photo_is_found_by_the_full_size_pass() -> None:
    # The quick pass (QUICK_SIDE) shrinks the QR's modules below a pixel; the second
    # pass reads the photo at full size.
    card = make_card()
    big = Image.new("L", (3000, 2250), 140)
    badge_image = Image.open(io.BytesIO(render_badge_png(card))).convert("L")
    big.paste(badge_image.resize((200, 317), Image.Resampling.LANCZOS), (2600, 1800))
    photo = jpeg_bytes(big, quality=90)
    assert decode_qr(photo, max_side=QUICK_SIDE) == []
    assert decode_badge_token(photo) == token_of(card)


def test_transparent_png_decodes() -> None:
    card = make_card()
    qr = qrcode.QRCode(box_size=8, border=4)
    qr.add_data(card.link)
    mask = qr.make_image().get_image().convert("L")
    transparent = Image.new("RGBA", mask.size, (0, 0, 0, 0))
    transparent.putalpha(mask.point(lambda v: 255 - v))  # black modules, clear background
    assert decode_qr(png_bytes(transparent)) == [card.link]


def test_first_badge_link_wins_over_other_codes() -> None:
    card = make_card()
    other = qrcode.make("https://example.org/not-a-badge").get_image().convert("L")
    ours = Image.open(io.BytesIO(render_badge_png(card))).convert("L")
    sheet = Image.new("L", (other.width + ours.width + 60, max(other.height, ours.height)), 255)
    sheet.paste(other, (0, 0))
    sheet.paste(ours, (other.width + 60, 0))
    data = png_bytes(sheet)
    assert set(decode_qr(data)) == {"https://example.org/not-a-badge", card.link}
    assert decode_badge_token(data) == token_of(card)


def test_image_without_a_badge_link() -> None:
    data = png_bytes(qrcode.make("hello").get_image())
    assert decode_qr(data) == ["hello"]
    assert decode_badge_token(data) is None
    assert decode_qr(png_bytes(Image.new("RGB", (300, 300), "white"))) == []


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"not an image at all",
        PNG_SIGNATURE,
        PNG_SIGNATURE + b"\0" * 100,
        b"\xff\xd8\xff\xe0" + b"\0" * 100,  # JPEG header, nothing else
        b"GIF89a" + b"\xff" * 50,
        b"%PDF-1.4\n",
    ],
)
def test_garbage_bytes_give_nothing(data: bytes) -> None:
    assert decode_qr(data) == []
    assert decode_badge_token(data) is None


def test_truncated_image_gives_nothing() -> None:
    data = render_badge_png(make_card())
    assert decode_qr(data[: len(data) // 3]) == []


@pytest.mark.parametrize("size", [(100_000, 100_000), (9_000, 9_000), (60_000, 1)])
def test_decompression_bombs_are_refused(size: tuple[int, int]) -> None:
    assert decode_qr(png_header_only(*size)) == []


def test_non_bytes_input() -> None:
    assert decode_qr("https://t.me/x?start=y") == []  # type: ignore[arg-type]
    assert decode_qr(None) == []  # type: ignore[arg-type]


@given(st.binary(max_size=2000))
@settings(max_examples=50, deadline=None)
def test_random_bytes_never_raise(data: bytes) -> None:
    assert decode_qr(data) == []


# --- the QR's mask (issue 13) -------------------------------------------------------------


def test_the_qr_uses_the_fixed_mask_without_scoring_all_eight(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """qrcode scores each of the eight masks (util.lost_point, pure Python, ~10 ms a badge)
    unless one is given; the badge gives one, and every badge still reads back."""
    scored: list[int] = []
    real = qrcode.util.lost_point
    monkeypatch.setattr(qrcode.util, "lost_point", lambda m: scored.append(1) or real(m))
    for n in range(5):
        card = make_card(name=f"Tamu {n}")  # a fresh token each: no cached matrix
        png = render_badge_png(card)
        assert decode_badge_token(phone_photo(png), SAMPLE_BOT) == token_of(card)
    assert scored == []
    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_Q, mask_pattern=None)
    qr.add_data(make_card().link)
    qr.make(fit=True)
    assert scored, "the spy sees qrcode's own search when no mask is given"
