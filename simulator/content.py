"""Validating what a bot puts into a message: formatted text, keyboards, photos."""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from simulator.api import Params, bad_request
from simulator.html import HtmlParseError, parse_html, utf16_len

__all__ = [
    "MAX_CAPTION",
    "MAX_TEXT",
    "Formatted",
    "check_reply_markup",
    "formatted",
    "image_size",
    "photo_dimensions",
]

MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_CALLBACK_DATA = 64  # bytes of UTF-8
MAX_BUTTONS = 100


@dataclass
class Formatted:
    text: str
    html: str | None = None
    entities: list[dict] = field(default_factory=list)


def formatted(p: Params, text_key: str, entities_key: str) -> Formatted | None:
    """Parse `text_key` with `parse_mode` (or explicit entities) and trim it like Telegram."""
    raw = p.string(text_key)
    if raw is None:
        return None
    explicit = p.json(entities_key)
    mode = (p.string("parse_mode") or "").strip().lower()
    if explicit is not None:
        if not isinstance(explicit, list) or not all(isinstance(e, dict) for e in explicit):
            raise bad_request(f"can't parse {entities_key} JSON object")
        result = Formatted(raw, None, list(explicit))
    elif mode == "html":
        try:
            parsed = parse_html(raw)
        except HtmlParseError as exc:
            raise bad_request(f"can't parse entities: {exc}") from None
        result = Formatted(parsed.text, raw, parsed.entities)
    elif mode == "":
        result = Formatted(raw)
    elif mode in ("markdown", "markdownv2"):
        # Deliberately refused rather than passed through unparsed: the project uses HTML,
        # and a wrong rendering would hide real formatting bugs.
        raise bad_request(f"can't parse entities: parse_mode {mode!r} is not simulated")
    else:
        raise bad_request("unsupported parse_mode")
    return _trim(result)


def _trim(value: Formatted) -> Formatted:
    """Telegram strips leading and trailing whitespace; entities are clipped to match."""
    stripped = value.text.strip()
    if stripped == value.text:
        return value
    lead = utf16_len(value.text[: len(value.text) - len(value.text.lstrip())])
    total = utf16_len(stripped)
    entities = []
    for entity in value.entities:
        start = max(0, entity["offset"] - lead)
        end = min(total, entity["offset"] + entity["length"] - lead)
        if end > start:
            entities.append({**entity, "offset": start, "length": end - start})
    return Formatted(stripped, value.html, entities)


def check_reply_markup(value: Any) -> dict | None:
    """Validate reply_markup; an empty inline keyboard means "no keyboard"."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" in value:
        rows = value["inline_keyboard"]
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            raise bad_request("can't parse inline keyboard button: InlineKeyboardButton expected")
        buttons = [button for row in rows for button in row]
        if len(buttons) > MAX_BUTTONS:
            raise bad_request("reply markup is too long")
        for button in buttons:
            _check_inline_button(button)
        return value if buttons else None
    if "keyboard" in value:
        rows = value["keyboard"]
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            raise bad_request("can't parse reply keyboard markup JSON object")
        for button in (b for row in rows for b in row):
            label = (
                button
                if isinstance(button, str)
                else (button.get("text") if isinstance(button, dict) else None)
            )
            if not isinstance(label, str) or not label:
                raise bad_request("can't parse keyboard button: Text must be non-empty")
        return value
    if value.get("remove_keyboard") is True or value.get("force_reply") is True:
        return value
    raise bad_request("can't parse reply keyboard markup JSON object")


_BUTTON_ACTIONS = (
    "callback_data",
    "url",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)


def _check_inline_button(button: Any) -> None:
    if not isinstance(button, dict):
        raise bad_request("can't parse inline keyboard button: InlineKeyboardButton expected")
    if not isinstance(button.get("text"), str):
        raise bad_request(
            'can\'t parse inline keyboard button: Field "text" must be of type String'
        )
    actions = [key for key in _BUTTON_ACTIONS if key in button]
    if not actions:
        raise bad_request(
            "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
        )
    if "callback_data" in button:
        data = button["callback_data"]
        if not isinstance(data, str) or not 1 <= len(data.encode("utf-8")) <= MAX_CALLBACK_DATA:
            raise bad_request("BUTTON_DATA_INVALID")
    if "url" in button and not _valid_button_url(button["url"]):
        raise bad_request("BUTTON_URL_INVALID")


def _valid_button_url(url: Any) -> bool:
    if not isinstance(url, str) or not url or any(c.isspace() for c in url):
        return False
    parts = urlsplit(url if "://" in url or url.startswith("tg:") else f"http://{url}")
    if parts.scheme in ("http", "https"):
        host = parts.hostname or ""
        return "." in host or host == "localhost"
    return parts.scheme in ("tg", "ton")


def image_size(data: bytes) -> tuple[int, int] | None:
    """Width and height if Pillow recognises the bytes as an image, else None."""
    try:
        from PIL import Image
    except ImportError:  # pragma: no cover - Pillow is a project dependency
        return (1280, 960)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # a decompression-bomb warning is not our concern
            with Image.open(io.BytesIO(data)) as image:
                return image.size
    except Exception:
        return None


def photo_dimensions(width: int, height: int) -> list[tuple[int, int]]:
    """Sizes Telegram would offer for a photo: thumbnails up to at most 1280 px, smallest first."""
    longest = max(width, height, 1)
    sizes = []
    for bound in (90, 320, 1280):
        scale = min(1.0, bound / longest)
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        if size not in sizes:
            sizes.append(size)
        if bound >= longest:
            break
    return sizes
