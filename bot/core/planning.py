"""Visits planned ahead (issue 14, part 1): the day, the time window, and when one may be
opened at the desk.

A planned visit is a visit request with a ``Plan``: the section head decides it in advance
(``VisitStatus.SCHEDULED``), and on the day the officer takes the KTP photo and the badge is
issued at once (``Action.ARRIVE``). Pure: no Telegram, no storage.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo

from bot.core.fields import FieldError, FieldProblem
from bot.core.period import PeriodError, parse_date

# How far ahead a visit may be planned: a vendor's maintenance is known days or weeks
# before, not seasons (a plan far out is forgotten, and its data kept for nothing).
HORIZON_DAYS = 60

_WINDOW = re.compile(
    r"^\s*(\d{1,2})[.:](\d{2})\s*(?:-|–|—|s\.?d\.?|sampai)\s*(\d{1,2})[.:](\d{2})\s*$"
)


@dataclass(frozen=True)
class Plan:
    """The day (office time) and the window in which the visitor is expected."""

    day: date
    start: time
    end: time

    def bounds(self, tz: tzinfo) -> tuple[datetime, datetime]:
        """The window as aware moments in the office's zone."""
        return (
            datetime.combine(self.day, self.start, tzinfo=tz),
            datetime.combine(self.day, self.end, tzinfo=tz),
        )

    def closes(self, tz: tzinfo, grace: timedelta) -> datetime:
        """After this the visit can no longer be opened: the window's end plus the grace."""
        return self.bounds(tz)[1] + grace

    @property
    def window(self) -> str:
        """As typed and stored: ``09:00-12:00``."""
        return f"{self.start:%H:%M}-{self.end:%H:%M}"

    @classmethod
    def of(cls, day: str, window: str) -> Plan:
        """From the stored (and the form's) values: an ISO date and ``HH:MM-HH:MM``."""
        start, end = parse_window_times(window)
        return cls(date.fromisoformat(day), start, end)


def parse_day(raw: str, today: date) -> str:
    """A planned day typed as the rest of the bot reads dates (28-11-2026 or 2026-11-28):
    today or later, at most HORIZON_DAYS ahead. Kept as ISO text (the draft is JSON)."""
    try:
        day = parse_date(raw)
    except PeriodError:
        raise FieldError(FieldProblem.INVALID) from None
    if day < today:
        raise FieldError(FieldProblem.PAST)
    if day > today + timedelta(days=HORIZON_DAYS):
        raise FieldError(FieldProblem.TOO_FAR)
    return day.isoformat()


def parse_window_times(raw: str) -> tuple[time, time]:
    """``09:00-12:00`` (also 9.00 - 12.00, "s.d.", "sampai"): start before end, same day."""
    match = _WINDOW.match(raw)
    if match is None:
        raise FieldError(FieldProblem.INVALID)
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    if not (h1 < 24 and h2 < 24 and m1 < 60 and m2 < 60):
        raise FieldError(FieldProblem.INVALID)
    start, end = time(h1, m1), time(h2, m2)
    if end <= start:
        raise FieldError(FieldProblem.ORDER)
    return start, end


def parse_window(raw: str, today: date) -> str:
    """The form's reading of a window: the normalised ``HH:MM-HH:MM``."""
    start, end = parse_window_times(raw)
    return f"{start:%H:%M}-{end:%H:%M}"


class Opening(enum.Enum):
    """Whether a planned visit may be opened at the desk now, and if not, why."""

    OPEN = "open"
    NOT_PLANNED = "not_planned"  # a walk-in request: nothing to open
    NOT_APPROVED = "not_approved"  # still pending, or denied, cancelled, used, expired
    EARLY = "early"  # before the window (less the grace), or another day
    LATE = "late"  # after the window (plus the grace)
    BARRED = "barred"  # the NIK went on the watchlist after the approval in advance


def opening(
    plan: Plan | None, scheduled: bool, now: datetime, tz: tzinfo, grace: timedelta
) -> Opening:
    """``scheduled``: the section head approved it in advance and nobody has used it."""
    if plan is None:
        return Opening.NOT_PLANNED
    if not scheduled:
        return Opening.NOT_APPROVED
    start, _ = plan.bounds(tz)
    if now < start - grace:
        return Opening.EARLY
    if now > plan.closes(tz, grace):
        return Opening.LATE
    return Opening.OPEN
