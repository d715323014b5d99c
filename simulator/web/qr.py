"""What a phone camera does with a QR code: read its text (zxing-cpp over Pillow).

The simulator never imports the bot, so it keeps its own few lines of decoding. Images
come from the browser, so they are untrusted: anything unreadable is "no code", never
an exception.
"""

from __future__ import annotations

import io
import warnings

import zxingcpp
from PIL import Image, ImageOps

__all__ = ["MAX_IMAGE_BYTES", "read_qr"]

MAX_IMAGE_BYTES = 20 * 1024 * 1024
# A camera frame is a few megapixels; refusing more keeps a hostile upload from eating memory.
_MAX_PIXELS = 40_000_000
_MAX_SIDE = 2000


def read_qr(data: bytes) -> str | None:
    """The text of the first QR code in the image, or None."""
    if not 0 < len(data) <= MAX_IMAGE_BYTES:
        return None
    try:
        with warnings.catch_warnings():
            # DecompressionBombWarning would be an error in test runs; the size check below
            # is the real guard.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            if image.width * image.height > _MAX_PIXELS:
                return None
            image = ImageOps.exif_transpose(image).convert("L")
        image.thumbnail((_MAX_SIDE, _MAX_SIDE))
        barcodes = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)
    except Exception:
        # Pillow raises many types for broken files (OSError, SyntaxError, ValueError...).
        return None
    return next((b.text for b in barcodes if b.text), None)
