"""Reading a badge's QR code from a photo sent to the bot (fallback to scanning the link).

The bytes come from a chat, so they are untrusted: anything Pillow cannot open, a
decompression bomb or an absurdly large picture yields "no code found", never an exception.

Pure module: works on bytes in memory, no Telegram, no storage.
"""

from __future__ import annotations

import contextlib
import io

import zxingcpp
from PIL import ExifTags, Image, ImageOps

from bot.core.tokens import extract_start_payload

__all__ = ["MAX_INPUT_BYTES", "MAX_SIDE", "QUICK_SIDE", "decode_badge_token", "decode_qr"]

# Telegram lets bots download files up to 20 MB; a larger buffer did not come from there.
MAX_INPUT_BYTES = 25 * 1024 * 1024
# Longest side the decoder sees. A badge QR needs a few hundred pixels; 4000 keeps a QR
# that fills only a corner of a 12-megapixel photo readable while bounding memory and time.
MAX_SIDE = 4000
# The first, quick pass of decode_badge_token: the long side of a photo as Telegram
# delivers it by default.
QUICK_SIDE = 1280
# Pixels Pillow may decode before any downscaling (non-JPEG formats cannot be decoded at
# reduced size). 50 MP is more than any phone photo Telegram forwards, and 50 MB as
# greyscale; Pillow's own bomb limit (~89 MP warning, ~179 MP error) sits above it.
_MAX_DECODE_PIXELS = 50_000_000
_QR_ONLY = zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)


def _load(image_bytes: bytes, max_side: int) -> tuple[Image.Image | None, bool]:
    """The image in greyscale, its longest side at most `max_side`; and whether it was
    larger than that."""
    # Typed as the base class: EXIF transposing and conversion return plain Images.
    image: Image.Image = Image.open(io.BytesIO(image_bytes))
    width, height = image.size
    larger = max(width, height) > max_side
    if image.format == "JPEG":
        # libjpeg decodes the luma channel alone (no colour conversion) and, for a big
        # photo, at 1/2, 1/4 or 1/8 scale: a fraction of the memory and time. The request
        # keeps the aspect ratio, so the longest side never drops below `max_side`.
        scale = min(1.0, max_side / max(width, height, 1))
        image.draft("L", (max(1, int(width * scale)), max(1, int(height * scale))))
        width, height = image.size
    if width < 1 or height < 1 or width * height > _MAX_DECODE_PIXELS:
        return None, larger
    image.load()
    # Phone cameras store the sensor orientation in EXIF instead of rotating pixels. zxing
    # finds rotated codes anyway; transposing keeps mirrored ones (orientations 2, 4, 5, 7)
    # readable too. A broken EXIF block is not worth losing the photo. Without a rotation
    # there is nothing to do (exif_transpose would still copy every pixel).
    with contextlib.suppress(Exception):
        if image.getexif().get(ExifTags.Base.Orientation, 1) != 1:
            image = ImageOps.exif_transpose(image)
    if image.mode != "L":
        # Transparent pixels become white, as on the screen the photo was taken from.
        if "A" in image.getbands() or "transparency" in image.info:
            rgba = image.convert("RGBA")
            background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
            image = Image.alpha_composite(background, rgba)
        image = image.convert("L")
    if max(image.size) > max_side:
        image.thumbnail((max_side, max_side), Image.Resampling.BILINEAR, reducing_gap=2.0)
    return image, larger


def decode_qr(image_bytes: bytes, max_side: int = MAX_SIDE) -> list[str]:
    """Texts of the QR codes found in an image (any format Pillow reads), in reading order.

    The image is read with its longest side at most `max_side` pixels. Returns ``[]`` for
    anything that is not a readable image with a QR code.
    """
    return _decode(image_bytes, max_side)[0]


def _decode(image_bytes: bytes, max_side: int) -> tuple[list[str], bool]:
    """decode_qr's texts, and whether the image was larger than `max_side`."""
    if not isinstance(image_bytes, bytes | bytearray | memoryview):
        return [], False
    if not 0 < len(image_bytes) <= MAX_INPUT_BYTES:
        return [], False
    try:
        image, larger = _load(bytes(image_bytes), max_side)
    except Exception:
        # Untrusted bytes: Pillow raises many types (UnidentifiedImageError, OSError,
        # SyntaxError from plugins, DecompressionBombError, MemoryError, ...) and emits
        # DecompressionBombWarning, which test runs turn into errors. All mean "no code".
        return [], False
    if image is None:
        return [], larger
    try:
        barcodes = zxingcpp.read_barcodes(image, formats=_QR_ONLY)
    except Exception:
        return [], larger
    texts: list[str] = []
    for barcode in barcodes:
        if barcode.text and barcode.text not in texts:
            texts.append(barcode.text)
    return texts, larger


def decode_badge_token(image_bytes: bytes, bot_username: str | None = None) -> str | None:
    """The /start token of the first QR in the image that is one of our deep links.

    A badge photographed to be read fills much of the frame, so a pass at QUICK_SIDE
    finds it in a fraction of the time a "HD" photo (2560 px) takes at full size; only
    when that pass finds no badge is a larger photo read again at up to MAX_SIDE.
    """
    for max_side in (QUICK_SIDE, MAX_SIDE):
        texts, larger = _decode(image_bytes, max_side)
        for text in texts:
            token = extract_start_payload(text, bot_username)
            if token is not None:
                return token
        if not larger:
            break
    return None
