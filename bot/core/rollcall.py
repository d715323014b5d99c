"""The evacuation roll call (issue 14, part 5): who was inside when it began, who is safe.

A roll call lists the visits INSIDE at the moment it starts, each with its escort and entry
time; every one is then marked safe (outside) once, by whoever taps, and the roll call ends
when none is left. Pure: storage/rollcalls.py keeps it, bot/flows/rollcall.py tells people.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Entry:
    """One visitor on the roll: inside at the start, safe once marked."""

    visit_id: int
    escort_id: int | None  # who took them in (the visit's entry escort)
    entered_at: datetime | None
    safe_at: datetime | None = None
    marked_by: int | None = None

    @property
    def safe(self) -> bool:
        return self.safe_at is not None


@dataclass(frozen=True)
class RollCall:
    id: int
    started_at: datetime
    started_by: int
    ended_at: datetime | None
    entries: tuple[Entry, ...]

    @property
    def open(self) -> bool:
        return self.ended_at is None

    @property
    def remaining(self) -> tuple[Entry, ...]:
        return tuple(e for e in self.entries if not e.safe)

    def entry(self, visit_id: int) -> Entry | None:
        return next((e for e in self.entries if e.visit_id == visit_id), None)

    def by_escort(self) -> tuple[Entry, ...]:
        """The roll in the order people read it: each escort's visitors together, the
        earliest entry first, so an escort finds theirs in one place."""
        return tuple(
            sorted(
                self.entries,
                key=lambda e: (e.escort_id or 0, e.entered_at or self.started_at, e.visit_id),
            )
        )


class MarkOutcome(enum.StrEnum):
    """What a tap on a visitor's "aman" button did."""

    MARKED = "marked"  # this tap marked them safe
    ENDED = "ended"  # ... and they were the last: the roll call is over
    ALREADY = "already"  # someone marked them before (a double tap, or two people)
    CLOSED = "closed"  # the roll call is over (a stale button)
    UNKNOWN = "unknown"  # not on this roll call (forged data, or a roll call that is gone)
