"""Staff invitation tokens: the payload of ``https://t.me/<bot>?start=inv_<secret>``.

A /start payload is also how a badge is scanned, so the two must never be confused:
badge tokens are exactly 38 characters (bot.core.tokens.TOKEN_LENGTH) and may themselves
start with ``inv_`` by chance, while an invitation is always exactly 36: the prefix and
32 characters of base64url (24 random bytes, 192 bits). Pure module: no I/O.
"""

from __future__ import annotations

import re
import secrets

PREFIX = "inv_"
_SECRET_CHARS = 32
INVITE_LENGTH = len(PREFIX) + _SECRET_CHARS
INVITE_RE = re.compile(rf"\A{PREFIX}[A-Za-z0-9_-]{{{_SECRET_CHARS}}}\Z")
# The message the invited person's phone sends when the link opens.
START_RE = re.compile(rf"\A/start {PREFIX}[A-Za-z0-9_-]{{{_SECRET_CHARS}}}\Z")


def new_invite_token() -> str:
    return PREFIX + secrets.token_urlsafe(24)


def is_invite(payload: str) -> bool:
    return INVITE_RE.match(payload) is not None
