"""Badge tokens (in the QR deep link) and manual codes (printed under the QR).

A token is ``base64url(nonce || mac)`` with a 16-byte random nonce and
``mac = HMAC-SHA256(secret, "badge-v1|<visit_id>|" + nonce)[:12]``. The nonce alone makes it
unguessable (128 bits); the MAC binds it to one visit and one deployment's key, so a token
copied from another visit or minted with another key is recognised as foreign before any
database lookup. The database stores only :func:`lookup_hash` of tokens and codes, so a
leaked database does not yield working badges.

Pure module: no I/O, no Telegram, no storage.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import parse_qsl, urlsplit

__all__ = [
    "CODE_ALPHABET",
    "CODE_ATTEMPTS",
    "CODE_ATTEMPTS_ALL",
    "CODE_GUESS_ALERT",
    "CODE_LENGTH",
    "CODE_WINDOW",
    "DOOR_NONCE_LENGTH",
    "DOOR_NONCE_TTL",
    "FORGED_ALERT_CAP",
    "FORGED_ALERT_GAP",
    "TOKEN_LENGTH",
    "TOKEN_RE",
    "BadgeCredentials",
    "deep_link",
    "extract_start_payload",
    "format_code",
    "looks_like_token",
    "lookup_hash",
    "new_credentials",
    "new_door_nonce",
    "normalise_code",
    "token_matches_visit",
]

_DOMAIN = b"badge-v1|"
_NONCE_BYTES = 16
_MAC_BYTES = 12
# 28 bytes of base64 without padding.
TOKEN_LENGTH = 38

# Telegram accepts at most 64 characters of [A-Za-z0-9_-] as a /start payload. Anchored so
# both .match() and .fullmatch() are safe to use (``$`` would also accept a final newline).
TOKEN_RE = re.compile(r"\A[A-Za-z0-9_-]{1,64}\Z")

# No 0/O and no 1/I: the code is read off a printed card and typed on a phone. 32 symbols,
# so 8 characters carry 40 bits; only staff can redeem a code and each may get at most
# CODE_ATTEMPTS wrong per CODE_WINDOW (bot.flows.workflow), so that is plenty.
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8
CODE_ATTEMPTS = 5
CODE_WINDOW = timedelta(minutes=10)
# Across all accounts (two escorts' phones are two budgets): this many wrong codes in one
# CODE_WINDOW close /kode for everyone until the window has passed; CODE_GUESS_ALERT wrong
# ones from more than one account already alert the section heads. A wrong code names no
# visit (codes are random, nothing in one points to a visit), so the limit per visit is
# this overall one: it caps the guesses against every visit's code together.
CODE_ATTEMPTS_ALL = 20
CODE_GUESS_ALERT = 8
# The forged-badge alert anyone on the staff can set off with /start <junk>: at most one per
# person per FORGED_ALERT_GAP and FORGED_ALERT_CAP per hour in all; every scan is still
# audited, and the next alert says how many went unannounced.
FORGED_ALERT_GAP = timedelta(minutes=10)
FORGED_ALERT_CAP = 6
_CODE_CHARS = frozenset(CODE_ALPHABET)
_CODE_SEPARATORS = frozenset("-\u2010\u2011\u2012\u2013\u2014\u2212\ufe63\uff0d")

# Telegram usernames are 5-32 characters of [A-Za-z0-9_]; the minimum is not enforced so
# the local simulator may use short names.
_USERNAME_RE = re.compile(r"\A[A-Za-z0-9_]{1,32}\Z")
_TELEGRAM_HOSTS = frozenset({"t.me", "telegram.me", "www.t.me", "www.telegram.me"})
# A QR holds at most ~3 KB; anything longer did not come from one of our badges.
_MAX_LINK_LENGTH = 4096


@dataclass(frozen=True)
class BadgeCredentials:
    """What a freshly issued badge carries: the QR token and the manual code (canonical)."""

    token: str
    code: str

    def __repr__(self) -> str:
        # Both values open the door; keep them out of logs and tracebacks.
        return "BadgeCredentials(token=<hidden>, code=<hidden>)"


def _check_visit_id(visit_id: object) -> int:
    # bool is an int subclass and str(True) would silently become part of the MAC input.
    if isinstance(visit_id, bool) or not isinstance(visit_id, int):
        raise TypeError(f"visit_id must be int, got {type(visit_id).__name__}")
    return visit_id


def _mac(secret: bytes, visit_id: int, nonce: bytes) -> bytes:
    message = _DOMAIN + str(visit_id).encode("ascii") + b"|" + nonce
    return hmac.new(secret, message, hashlib.sha256).digest()[:_MAC_BYTES]


def new_credentials(secret: bytes, visit_id: int) -> BadgeCredentials:
    """Mint a token bound to ``visit_id`` and an independent random manual code."""
    if not isinstance(secret, bytes | bytearray) or not secret:
        # An empty key would make every deployment's tokens interchangeable.
        raise ValueError("secret must be non-empty bytes")
    visit_id = _check_visit_id(visit_id)
    nonce = secrets.token_bytes(_NONCE_BYTES)
    raw = nonce + _mac(bytes(secret), visit_id, nonce)
    token = base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")
    code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    return BadgeCredentials(token=token, code=code)


# The MASUK/KELUAR button a scan shows carries a nonce (storage/door.py): 72 random bits,
# good for one tap within a few minutes of that scan.
DOOR_NONCE_LENGTH = 12
DOOR_NONCE_TTL = timedelta(minutes=5)


def new_door_nonce() -> str:
    """A short random nonce for one door button, URL-safe (it travels in callback data)."""
    return secrets.token_urlsafe(DOOR_NONCE_LENGTH * 3 // 4)


def looks_like_token(s: str) -> bool:
    """True if ``s`` has the shape of a /start payload (1..64 of ``[A-Za-z0-9_-]``)."""
    return isinstance(s, str) and TOKEN_RE.match(s) is not None


def lookup_hash(secret: bytes, value: str, kind: str) -> str:
    """Keyed hash stored in the database instead of a token or code (hex, 64 chars).

    ``kind`` ("token" or "code") separates the two namespaces so a code can never match a
    token row. Pass codes in canonical form (:func:`normalise_code`) so every way of typing
    the same code hashes alike.
    """
    if not kind or "|" in kind:
        # A "|" in kind would make "a|b" + "c" collide with "a" + "b|c".
        raise ValueError("kind must be non-empty and must not contain '|'")
    # surrogatepass: text from a chat may hold lone surrogates; hashing must not fail on it.
    message = f"{kind}|{value}".encode("utf-8", "surrogatepass")
    return hmac.new(bytes(secret), message, hashlib.sha256).hexdigest()


def token_matches_visit(secret: bytes, token: str, visit_id: int) -> bool:
    """True if ``token`` was minted with ``secret`` for ``visit_id``. Never raises."""
    try:
        if not secret or not isinstance(token, str) or len(token) != TOKEN_LENGTH:
            return False
        if not TOKEN_RE.match(token):
            return False
        visit_id = _check_visit_id(visit_id)
        raw = base64.urlsafe_b64decode(token + "==")
        # base64 ignores the spare low bits of the last character, so several strings
        # decode to the same bytes; accept only the canonical spelling we issued.
        if base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii") != token:
            return False
        nonce, mac = raw[:_NONCE_BYTES], raw[_NONCE_BYTES:]
        return hmac.compare_digest(mac, _mac(bytes(secret), visit_id, nonce))
    except (TypeError, ValueError, binascii.Error):
        return False


def normalise_code(raw: str) -> str | None:
    """Canonical manual code (8 characters, upper case, no dash), or None if not one.

    Accepts ``abcd-efgh``, ``ABCD EFGH``, full-width letters. The alphabet has neither 0/O
    nor 1/I, so those are refused rather than guessed: a guess could turn a typo into
    someone else's valid code.
    """
    if not isinstance(raw, str) or len(raw) > 64:
        return None
    text = unicodedata.normalize("NFKC", raw).upper()
    code = "".join(ch for ch in text if not ch.isspace() and ch not in _CODE_SEPARATORS)
    if len(code) != CODE_LENGTH or not all(ch in _CODE_CHARS for ch in code):
        return None
    return code


def format_code(code: str) -> str:
    """``ABCDEFGH`` -> ``ABCD-EFGH`` (as printed on the badge and shown in chat)."""
    canonical = normalise_code(code)
    if canonical is None:
        raise ValueError("not a manual badge code")
    return f"{canonical[:4]}-{canonical[4:]}"


def _clean_username(bot_username: str) -> str:
    name = bot_username.strip().removeprefix("@")
    if not _USERNAME_RE.match(name):
        raise ValueError("not a Telegram username")
    return name


def deep_link(bot_username: str, token: str) -> str:
    """``https://t.me/<bot>?start=<token>``: any phone camera opens the bot with it."""
    name = _clean_username(bot_username)
    if not looks_like_token(token):
        raise ValueError("not a valid /start payload")
    return f"https://t.me/{name}?start={token}"


def extract_start_payload(text: str, bot_username: str | None = None) -> str | None:
    """The ``start`` payload of a Telegram deep link read from a QR, or None.

    Accepts ``https://t.me/<bot>?start=X`` (also ``http://``, no scheme, ``telegram.me``) and
    ``tg://resolve?domain=<bot>&start=X``. With ``bot_username`` the link must name that bot
    (case-insensitive, as Telegram treats usernames). Never raises.
    """
    try:
        return _extract_start_payload(text, bot_username)
    except (TypeError, ValueError, UnicodeError):
        return None


def _extract_start_payload(text: str, bot_username: str | None) -> str | None:
    if not isinstance(text, str) or len(text) > _MAX_LINK_LENGTH:
        return None
    link = text.strip()
    if "://" not in link:
        link = "https://" + link
    parts = urlsplit(link)
    scheme = parts.scheme.lower()
    # userinfo or a port means the text only looks like a t.me link
    # ("https://t.me@evil.example/...").
    if parts.username is not None or parts.password is not None or parts.port is not None:
        return None
    query = parse_qsl(parts.query, keep_blank_values=True, max_num_fields=16)

    if scheme in ("http", "https"):
        if (parts.hostname or "") not in _TELEGRAM_HOSTS:
            return None
        bot = parts.path.strip("/")
        if "/" in bot:
            return None
    elif scheme == "tg":
        if (parts.hostname or "") != "resolve" or parts.path not in ("", "/"):
            return None
        domains = [value for key, value in query if key == "domain"]
        if len(domains) != 1:
            return None
        bot = domains[0]
    else:
        return None

    if not _USERNAME_RE.match(bot):
        return None
    if bot_username is not None and bot.lower() != _clean_username(bot_username).lower():
        return None

    starts = [value for key, value in query if key == "start"]
    # Two start parameters are ambiguous; which one Telegram would use is not ours to guess.
    if len(starts) != 1 or not looks_like_token(starts[0]):
        return None
    return starts[0]
