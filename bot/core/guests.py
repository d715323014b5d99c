"""Self-registration links (issue 14.1): the payload of ``https://t.me/<bot>?start=tamu_<secret>``.

An officer makes one for a visitor who has Telegram; the visitor fills in the visitor form
themselves and the request becomes a visit planned ahead for the day and window the officer
chose. A link is single use, dies after ``VALID``, and an officer may make ``PER_DAY`` of
them in any ``VALID`` (rate limit). The database keeps only the keyed hash of the secret
(bot.core.tokens.lookup_hash, kind ``GUEST_KIND``).

A /start payload is also a badge token (exactly 38 characters) or a staff invitation
(``inv_`` and 36): a self-registration link is always exactly 37, the prefix ``tamu_`` and
32 characters of base64url (24 random bytes, 192 bits), so none is taken for another.
Pure module: no I/O.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

PREFIX = "tamu_"
_SECRET_CHARS = 32
LINK_LENGTH = len(PREFIX) + _SECRET_CHARS
# The message the visitor's phone sends when the link opens: nothing else is accepted.
START_RE = re.compile(rf"\A/start {PREFIX}[A-Za-z0-9_-]{{{_SECRET_CHARS}}}\Z")
# While their form is open, the commands a visitor may send: /batal closes their own form,
# /kembali goes one step back in it. Any case, and with the bot's name as a phone may add it
# (/Batal, /batal@AksesServerBot): PTB's CommandHandler reads those as /batal too.
FORM_COMMAND_RE = re.compile(r"\A/(?:batal|kembali)(?:@\w+)?\s*\Z", re.IGNORECASE)
PAYLOAD_RE = re.compile(rf"\A{PREFIX}[A-Za-z0-9_-]{{{_SECRET_CHARS}}}\Z")
GUEST_KIND = "guest"  # the lookup hash's kind: a guest link never matches a badge or invite
VALID = timedelta(hours=24)
PER_DAY = 10  # links one officer may make within VALID


def new_link_token() -> str:
    return PREFIX + secrets.token_urlsafe(24)


def is_link(payload: str) -> bool:
    return PAYLOAD_RE.match(payload) is not None


@dataclass(frozen=True)
class GuestLink:
    """One link as stored: who made it, for which day and window, and its life."""

    id: int
    officer_id: int
    planned_date: str  # the plan's day, ISO (read with bot.core.planning.Plan.of)
    window: str  # "HH:MM-HH:MM"
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None = None
    visit_id: int | None = None

    def usable(self, now: datetime) -> bool:
        return self.used_at is None and now < self.expires_at
