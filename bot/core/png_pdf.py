"""A one-page PDF around a palette PNG, with the PNG's compressed pixels copied as they are.

A PDF image can be Flate-compressed with PNG's own row filters (the `/Predictor 15`
decode parameter), which is exactly what a PNG's IDAT chunks hold, so the badge's PDF
needs no second encoding. Pillow's PDF writer would embed a palette image as uncompressed
hex (about 1.3 MB for the badge) or re-encode it as a JPEG (191 KB, 2.4 ms, and no longer
lossless); fpdf2 re-compresses the pixels and refuses Pillow's palette as it is. This
writes the six objects of a one-image page (PDF 1.4, ISO 32000-1 §7 and §8.9) and
nothing else.
"""

from __future__ import annotations

import struct
import zlib

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
POINTS_PER_INCH = 72


class NotAPalettePng(ValueError):
    """Only 8-bit (or fewer) palette PNGs, non-interlaced, are wrapped."""


def _chunks(png: bytes) -> dict[bytes, bytes]:
    """The chunks the page needs (IHDR, PLTE, the IDATs joined), each CRC checked."""
    if not png.startswith(PNG_SIGNATURE):
        raise NotAPalettePng("not a PNG")
    found: dict[bytes, bytes] = {}
    idat = bytearray()
    at = len(PNG_SIGNATURE)
    while at + 12 <= len(png):
        (length,) = struct.unpack(">I", png[at : at + 4])
        kind = png[at + 4 : at + 8]
        data = png[at + 8 : at + 8 + length]
        (crc,) = struct.unpack(">I", png[at + 8 + length : at + 12 + length])
        if len(data) != length or zlib.crc32(kind + data) != crc:
            raise NotAPalettePng("a damaged chunk")
        if kind == b"IDAT":
            idat += data
        elif kind == b"IEND":
            break
        else:
            found.setdefault(kind, data)
        at += 12 + length
    found[b"IDAT"] = bytes(idat)
    return found


def _text(value: str) -> bytes:
    """A PDF text string that holds any characters: UTF-16BE with its byte order mark, hex."""
    return b"<FEFF" + value.encode("utf-16-be").hex().upper().encode("ascii") + b">"


def page_of_png(png: bytes, dpi: float, title: str = "") -> bytes:
    """One page exactly the PNG's size at ``dpi``, showing it, with ``title`` in the PDF's
    document information (what a viewer shows as its name)."""
    chunks = _chunks(png)
    header, palette, pixels = chunks.get(b"IHDR", b""), chunks.get(b"PLTE"), chunks[b"IDAT"]
    if len(header) != 13 or palette is None or not pixels:
        raise NotAPalettePng("no header, palette or pixels")
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", header)
    if colour != 3 or interlace != 0 or depth not in (1, 2, 4, 8) or b"tRNS" in chunks:
        raise NotAPalettePng("not an opaque, non-interlaced palette PNG")
    page_w = width * POINTS_PER_INCH / dpi
    page_h = height * POINTS_PER_INCH / dpi
    colours = len(palette) // 3
    image = (
        b"<< /Type /XObject /Subtype /Image /Width %d /Height %d"
        b" /ColorSpace [/Indexed /DeviceRGB %d <%s>] /BitsPerComponent %d"
        b" /Filter /FlateDecode"
        b" /DecodeParms << /Predictor 15 /Colors 1 /BitsPerComponent %d /Columns %d >>"
        b" /Length %d >>\nstream\n%s\nendstream"
        % (
            width,
            height,
            colours - 1,
            palette[: colours * 3].hex().upper().encode("ascii"),
            depth,
            depth,
            width,
            len(pixels),
            pixels,
        )
    )
    content = b"q %.4f 0 0 %.4f 0 0 cm /Im0 Do Q" % (page_w, page_h)
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %.4f %.4f]"
        b" /Resources << /XObject << /Im0 4 0 R >> >> /Contents 5 0 R >>" % (page_w, page_h),
        image,
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(content), content),
        b"<< /Title %s >>" % _text(title),
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R /Info %d 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        len(objects),
        xref,
    )
    return bytes(out)
