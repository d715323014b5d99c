"""Cleaning what the officer types: length limits, phone numbers, durations."""

from __future__ import annotations

import enum
import re
import unicodedata

NAME_MAX = 100
ORGANISATION_MAX = 120
ASSIGNMENT_LETTER_MAX = 60  # a letter number, e.g. 090/123/ST/PT-JN/XI/2026
PURPOSE_MAX = 150
EQUIPMENT_MAX = 200
REASON_MAX = 300
REASON_MIN_READABLE = 2  # letters or digits: a reason is words, not an emoji
DURATION_MIN, DURATION_MAX = 5, 480
PHONE_MIN, PHONE_MAX = 9, 15  # digits, as typed (+62 counted) and once normalised

_SPACES = re.compile(r"\s+")
_PHONE = re.compile(rf"^\+?[0-9]{{{PHONE_MIN},{PHONE_MAX}}}$")


class FieldProblem(enum.Enum):
    EMPTY = "empty"
    TOO_SHORT = "too_short"
    TOO_LONG = "too_long"
    INVALID = "invalid"  # not a phone number, not a duration in range
    PAST = "past"  # a planned day before today
    TOO_FAR = "too_far"  # a planned day beyond bot.core.planning.HORIZON_DAYS
    ORDER = "order"  # a time window that ends before it starts
    NO_WORDS = "no_words"  # no letters or digits: emoji, punctuation or invisible fillers


class FieldError(ValueError):
    def __init__(self, problem: FieldProblem) -> None:
        super().__init__(problem.value)
        self.problem = problem


# Letters Unicode counts as letters (category Lo) that draw nothing: Hangul fillers, often
# used to post "empty" names.
_FILLERS = frozenset("\u115f\u1160\u3164\uffa0")


def readable(text: str) -> int:
    """How many letters and digits ``text`` has (what makes a name or a reason readable)."""
    return sum(1 for ch in text if unicodedata.category(ch)[0] in "LN" and ch not in _FILLERS)


def clean_text(raw: str, max_len: int, min_len: int = 1, min_readable: int = 0) -> str:
    """Drop control and format characters, collapse whitespace, enforce the length; with
    ``min_readable``, at least that many letters or digits (not emoji alone)."""
    kept = "".join(
        ch if unicodedata.category(ch)[0] != "C" else " "
        for ch in unicodedata.normalize("NFC", raw)
    )
    text = _SPACES.sub(" ", kept).strip()
    if not text:
        raise FieldError(FieldProblem.EMPTY)
    if len(text) > max_len:
        raise FieldError(FieldProblem.TOO_LONG)
    if len(text) < min_len:
        raise FieldError(FieldProblem.TOO_SHORT)
    if readable(text) < min_readable:
        raise FieldError(FieldProblem.NO_WORDS)
    return text


def normalise_phone(raw: str) -> str | None:
    """Indonesian mobile numbers as typed (0812-3456-789, +62 812 ...) to one form, or None."""
    compact = re.sub(r"[\s().-]", "", raw)
    if not _PHONE.match(compact):
        return None
    if compact.startswith("+62"):
        compact = "0" + compact[3:]
    elif compact.startswith("62") and len(compact) >= 11:
        compact = "0" + compact[2:]
    return compact if PHONE_MIN <= len(compact.lstrip("+")) <= PHONE_MAX else None


def mask_phone(phone: str) -> str:
    """A phone number where the full one is not needed: ``0812****7890``.

    At least four digits stay hidden: the last four show only on numbers of 12 or more
    characters, the last two on shorter ones, nothing below 10.
    """
    n = len(phone)
    shown = 4 if n >= 12 else 2 if n >= 10 else 0
    if shown == 0:
        return "*" * n
    return phone[:4] + "*" * (n - 4 - shown) + phone[-shown:]


def parse_duration(raw: str) -> int | None:
    """Minutes typed by hand ("45", "45 menit"), within the SOP's sensible range."""
    match = re.fullmatch(r"\s*(\d{1,4})\s*(menit|mnt|m)?\s*", raw, flags=re.IGNORECASE)
    if not match:
        return None
    minutes = int(match.group(1))
    return minutes if DURATION_MIN <= minutes <= DURATION_MAX else None
