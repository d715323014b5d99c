"""The image that takes a deleted KTP photo's place in the bot's own messages.

When a KTP photo is deleted (its retention ended, or the person's data was erased) the
section heads' approval cards and the escorts' scan views that showed it are edited to show
this instead (bot/flows/delivery.py): a grey card that says the photo was deleted and why,
so nobody mistakes it for a failed download.

Pure module: Pillow's embedded font, an in-memory PNG, drawn once per process.
"""

from __future__ import annotations

import functools
import io

from PIL import Image, ImageDraw, ImageFont

from bot.texts import privacy as privacy_texts

SIZE = (856, 540)  # the proportions of an ID-1 card, like the KTP it replaces


@functools.lru_cache(maxsize=1)
def ktp_placeholder_png() -> bytes:
    width, height = SIZE
    image = Image.new("L", SIZE, 236)
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle((12, 12, width - 12, height - 12), radius=36, outline=150, width=6)
    title = ImageFont.load_default(size=56)
    body = ImageFont.load_default(size=30)
    draw.text((width / 2, 190), privacy_texts.PLACEHOLDER_TITLE, font=title, fill=60, anchor="mm")
    for n, line in enumerate(privacy_texts.PLACEHOLDER_LINES):
        draw.text((width / 2, 290 + 48 * n), line, font=body, fill=90, anchor="mm")
    buffer = io.BytesIO()
    image.save(buffer, "PNG", optimize=True)
    return buffer.getvalue()
