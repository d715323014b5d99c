"""Report periods: whole days in the office's time zone, both ends included."""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo


class Preset(enum.StrEnum):
    TODAY = "today"
    WEEK = "week"
    MONTH = "month"


class PeriodError(ValueError):
    """Dates that cannot be read, or a start after the end."""


class ReversedPeriod(PeriodError):
    """The first date is after the second."""


@dataclass(frozen=True)
class Period:
    start: date
    end: date  # inclusive

    def __post_init__(self) -> None:
        if self.start > self.end:
            raise ReversedPeriod(f"{self.start} is after {self.end}")

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def bounds(self, tz: tzinfo) -> tuple[datetime, datetime]:
        """[from, to) in UTC: local midnight of the first day to that after the last."""
        first = datetime.combine(self.start, time(0), tz)
        after = datetime.combine(self.end + timedelta(days=1), time(0), tz)
        return first.astimezone(UTC), after.astimezone(UTC)

    def each_day(self) -> list[date]:
        return [self.start + timedelta(days=i) for i in range(self.days)]

    @property
    def slug(self) -> str:
        """For file names: 2026-11-01_2026-11-28."""
        return f"{self.start.isoformat()}_{self.end.isoformat()}"


def preset_period(preset: Preset, now: datetime, tz: tzinfo) -> Period:
    """Today; this week from Monday; this month from the 1st; each up to today."""
    today = now.astimezone(tz).date()
    if preset == Preset.TODAY:
        return Period(today, today)
    if preset == Preset.WEEK:
        return Period(today - timedelta(days=today.weekday()), today)
    return Period(today.replace(day=1), today)


_ISO = re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})$")
_DMY = re.compile(r"^(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})$")


def parse_date(text: str) -> date:
    """01-11-2026 (as every text shows dates) or 2026-11-01, also with / or . between."""
    text = text.strip()
    if match := _ISO.match(text):
        year, month, day = (int(g) for g in match.groups())
    elif match := _DMY.match(text):
        day, month, year = (int(g) for g in match.groups())
    else:
        raise PeriodError(f"not a date: {text!r}")
    try:
        return date(year, month, day)
    except ValueError:
        raise PeriodError(f"no such day: {text!r}") from None


def parse_period(args: list[str]) -> Period:
    """Two dates (one date means that single day)."""
    if len(args) not in (1, 2):
        raise PeriodError("expected one or two dates")
    start = parse_date(args[0])
    end = parse_date(args[-1])
    return Period(start, end)
