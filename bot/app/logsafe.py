"""Every log record cleaned of NIKs, bot tokens, secrets and bytes, whoever logs it.

httpx and aiohttp log URLs that carry the bot token; a library's message or an exception
may quote a NIK. ``install()`` sets a log record factory, so every record from every
logger is cleaned when it is made, before any handler (added now or later) sees it:

- a NIK in any form the validator accepts (full-width digits, any run of spaces, dots or
  dashes of any kind between digits; also as Python or JSON escapes, ``\\xa0``,
  ``\\u2013``, ``\\uff13``, since PTB logs reprs) becomes the masked form
  ``3508**********02`` (``bot.core.nik.mask_niks_in``);
- bot tokens (``123456:ABC...``, also URL-encoded) become ``<token>``;
- bytes never pass: a bytes argument becomes ``<N bytes>``, a bytes repr ``<bytes>``;
- values registered with ``protect()`` (the signing secret, the encryption key)
  become ``<secret>``.

What it cannot clean: a name, a phone number, an organisation or a typed reason is text
like any other. Those stay out of the logs only because nothing logs them: the bot's own
lines name visits and people by id, and the libraries that log call parameters, whole
updates and SQL parameters at DEBUG (PTB, httpx, httpcore, aiohttp, aiosqlite,
apscheduler) are never set below INFO (bot/app/logging_setup.py ``NO_DEBUG``).
"""

from __future__ import annotations

import logging
import re
import traceback
from collections.abc import Callable, Mapping
from typing import Any

from bot.core.nik import mask_niks_in

# The colon is percent-encoded in file download URLs.
BOT_TOKEN = re.compile(r"[0-9]+(?::|%3[Aa])[A-Za-z0-9_-]{20,}")
BYTES_REPR = re.compile(r"""(?<![A-Za-z0-9_])b(['"])(?:\\.|(?!\1).){16,}?\1""")
# How repr() and json.dumps() write a character: "\xa0", "\u2013", "\U0001d7d1", "\t".
# JSON writes a character beyond U+FFFF (a mathematical digit) as a surrogate pair.
ESCAPE = re.compile(
    r"\\u(?P<high>[dD][89abAB][0-9a-fA-F]{2})\\u(?P<low>[dD][c-fC-F][0-9a-fA-F]{2})"
    r"|\\(?:x(?P<x>[0-9a-fA-F]{2})|u(?P<u>[0-9a-fA-F]{4})|U(?P<U>[0-9a-fA-F]{8})|(?P<ws>[tnrfv]))"
)
_BINARY = (bytes, bytearray, memoryview)

_secrets: set[str] = set()
_installed: list[Callable[..., logging.LogRecord]] = []


def protect(*values: str | bytes) -> None:
    """Never let these exact values (secrets from the config) into a log line."""
    for value in values:
        text = value.decode(errors="replace") if isinstance(value, bytes) else value
        if len(text) >= 8:
            _secrets.add(text)


def redact(text: str) -> str:
    for secret in _secrets:
        text = text.replace(secret, "<secret>")
    text = BOT_TOKEN.sub("<token>", text)
    text = BYTES_REPR.sub("<bytes>", text)
    return mask_niks(text)


def mask_niks(text: str) -> str:
    """NIKs masked as typed, and as a repr or JSON writes them (escapes read back first)."""
    # Escapes are read back first: the digits of "\\u1680" are no part of a number.
    unescaped = ESCAPE.sub(unescape, text) if "\\" in text else text
    masked = mask_niks_in(unescaped)
    return masked if masked != unescaped else text


def unescape(found: re.Match[str]) -> str:
    """One escape (an ``ESCAPE`` match) as the character it stands for."""
    if found["high"]:
        high, low = int(found["high"], 16), int(found["low"], 16)
        return chr(0x10000 + (high - 0xD800) * 0x400 + (low - 0xDC00))
    code = found["x"] or found["u"] or found["U"]
    if code is None:
        return " "  # \t \n \r \f \v: whitespace, a separator between digit groups
    try:
        char = chr(int(code, 16))
    except ValueError:  # beyond U+10FFFF
        return found.group()
    # A line break read back must not split the log line; any such character separates.
    return " " if char.isspace() or not char.isprintable() else char


def _scrub(value: Any, depth: int = 0) -> Any:
    """Arguments as they will be formatted, with binary payloads replaced by their size."""
    if isinstance(value, _BINARY):
        return f"<{len(value)} bytes>"
    if depth < 3 and isinstance(value, Mapping):
        return {k: _scrub(v, depth + 1) for k, v in value.items()}
    if depth < 3 and isinstance(value, list):
        return [_scrub(v, depth + 1) for v in value]
    if depth < 3 and isinstance(value, tuple):
        return tuple(_scrub(v, depth + 1) for v in value)
    return value


def clean(record: logging.LogRecord) -> logging.LogRecord:
    """Format the message now, cleaned, so no handler sees the raw arguments."""
    args = record.args
    if isinstance(args, Mapping):
        record.args = _scrub(args)
    elif args:
        record.args = tuple(_scrub(a) for a in args)
    try:
        message = record.getMessage()
    except Exception:  # a bad format string must not lose the record
        message = f"{record.msg!r} {record.args!r}"
    record.msg, record.args = redact(message), None
    if record.exc_info and not record.exc_text:
        record.exc_text = redact("".join(traceback.format_exception(*record.exc_info)).rstrip())
    if record.stack_info:
        record.stack_info = redact(record.stack_info)
    return record


def install() -> None:
    """Clean every log record from now on (idempotent)."""
    if _installed:
        return
    previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        return clean(previous(*args, **kwargs))

    _installed.append(previous)
    logging.setLogRecordFactory(factory)


def uninstall() -> None:
    """Restore the previous factory (for tests)."""
    if _installed:
        logging.setLogRecordFactory(_installed.pop())
