"""Reading a badge's QR code from a photo sent to the bot (fallback to scanning the link).

The bytes come from a chat, so they are untrusted: anything Pillow cannot open, a
decompression bomb or an absurdly large picture yields "no code found", never an exception.

Pure module: works on bytes in memory, no Telegram, no storage.
"""

from __future__ import annotations

import contextlib
import io

import zxingcpp
from PIL import Image, ImageOps

from bot.core.tokens import extract_start_payload

__all__ = ["MAX_INPUT_BYTES", "MAX_SIDE", "decode_badge_token", "decode_qr"]

# Telegram lets bots download files up to 20 MB; a larger buffer did not come from there.
MAX_INPUT_BYTES = 25 * 1024 * 1024
# Longest side the decoder sees. A badge QR needs a few hundred pixels; 4000 keeps a QR
# that fills only a corner of a 12-megapixel photo readable while bounding memory and time.
MAX_SIDE = 4000
# Pixels Pillow may decode before any downscaling (non-JPEG formats cannot be decoded at
# reduced size). 50 MP is more than any phone photo Telegram forwards, and 50 MB as
# greyscale; Pillow's own bomb limit (~89 MP warning, ~179 MP error) sits above it.
_MAX_DECODE_PIXELS = 50_000_000


def _load(image_bytes: bytes) -> Image.Image | None:
    image = Image.open(io.BytesIO(image_bytes))
    width, height = image.size
    if image.format == "JPEG" and max(width, height) > MAX_SIDE:
        # Let libjpeg decode at 1/2, 1/4 or 1/8 scale: a 50-megapixel photo then costs a
        # fraction of the memory and time. The request keeps the aspect ratio, so the
        # longest side never drops below MAX_SIDE.
        longest = max(width, height)
        image.draft("L", (width * MAX_SIDE // longest, height * MAX_SIDE // longest))
        width, height = image.size
    if width < 1 or height < 1 or width * height > _MAX_DECODE_PIXELS:
        return None
    image.load()
    # Phone cameras store the sensor orientation in EXIF instead of rotating pixels. zxing
    # finds rotated codes anyway; transposing keeps mirrored ones (orientations 2, 4, 5, 7)
    # readable too. A broken EXIF block is not worth losing the photo.
    with contextlib.suppress(Exception):
        image = ImageOps.exif_transpose(image)
    if image.mode != "L":
        # Transparent pixels become white, as on the screen the photo was taken from.
        if "A" in image.getbands() or "transparency" in image.info:
            rgba = image.convert("RGBA")
            background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
            image = Image.alpha_composite(background, rgba)
        image = image.convert("L")
    if max(image.size) > MAX_SIDE:
        image.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.BILINEAR, reducing_gap=2.0)
    return image


def decode_qr(image_bytes: bytes) -> list[str]:
    """Texts of the QR codes found in an image (any format Pillow reads), in reading order.

    Returns ``[]`` for anything that is not a readable image with a QR code.
    """
    if not isinstance(image_bytes, bytes | bytearray | memoryview):
        return []
    if not 0 < len(image_bytes) <= MAX_INPUT_BYTES:
        return []
    try:
        image = _load(bytes(image_bytes))
    except Exception:
        # Untrusted bytes: Pillow raises many types (UnidentifiedImageError, OSError,
        # SyntaxError from plugins, DecompressionBombError, MemoryError, ...) and emits
        # DecompressionBombWarning, which test runs turn into errors. All mean "no code".
        return []
    if image is None:
        return []
    try:
        barcodes = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)
    except Exception:
        return []
    texts: list[str] = []
    for barcode in barcodes:
        if barcode.text and barcode.text not in texts:
            texts.append(barcode.text)
    return texts


def decode_badge_token(image_bytes: bytes, bot_username: str | None = None) -> str | None:
    """The /start token of the first QR in the image that is one of our deep links."""
    for text in decode_qr(image_bytes):
        token = extract_start_payload(text, bot_username)
        if token is not None:
            return token
    return None
