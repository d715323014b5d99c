"""The watchlist (issue 14, part 2): NIKs the section heads have barred, and why.

Pure: what an entry is and how ``/blokir NIK alasan`` is read. Storage keeps the NIK as a
keyed hash for the lookup (storage/watchlist.py), the reason encrypted.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime

from bot.core.fields import REASON_MAX, REASON_MIN_READABLE, FieldError, FieldProblem, clean_text
from bot.core.nik import NikError, NikProblem, validate_nik


@dataclass(frozen=True)
class WatchEntry:
    """One NIK on the list. ``lifted_*`` are set once it is taken off again (/buka_blokir)."""

    id: int
    nik: str
    reason: str
    blocked_by: int
    blocked_at: datetime
    lifted_by: int | None = None
    lifted_at: datetime | None = None

    def __repr__(self) -> str:
        # Personal data (the NIK, a reason naming someone) stays out of logs and tracebacks.
        return f"WatchEntry(id={self.id}, blocked_by={self.blocked_by})"


class Problem(enum.Enum):
    """Why a /blokir or /buka_blokir argument was refused."""

    NO_NIK = "no_nik"
    NO_REASON = "no_reason"
    LONG_REASON = "long_reason"


@dataclass(frozen=True)
class Request:
    """A parsed argument: a valid NIK, and the reason (empty for /buka_blokir)."""

    nik: str
    reason: str = ""


def parse(args: list[str], today: date, *, needs_reason: bool) -> Request | Problem | NikProblem:
    """The words after the command: the NIK first (as the officer's form accepts it), then
    the reason, which /blokir requires and /buka_blokir ignores. A NIK that cannot be real
    is refused with the form's own reason."""
    if not args:
        return Problem.NO_NIK
    try:
        nik = validate_nik(args[0], today).nik
    except NikError as error:
        return error.problem
    if not needs_reason:
        return Request(nik)
    if len(args) == 1:
        return Problem.NO_REASON
    try:
        reason = clean_text(" ".join(args[1:]), REASON_MAX, min_readable=REASON_MIN_READABLE)
    except FieldError as error:
        return Problem.LONG_REASON if error.problem is FieldProblem.TOO_LONG else Problem.NO_REASON
    return Request(nik, reason)
