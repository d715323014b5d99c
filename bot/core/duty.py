"""The escorts' duty roster (/piket): who is on duty, and so who hears of a waiting visitor.

An escort goes on duty with one tap and off with another. Duty lasts until the end of the
local day at the latest, so a forgotten "off" pings nobody tomorrow: a shift carries the
moment it lapses (``until``, local midnight after its start), and being on duty means a
shift not ended and not yet lapsed. Pure: no Telegram, no storage.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, time, timedelta, tzinfo

from bot.core.roles import Role, StaffMember


@dataclass(frozen=True)
class Shift:
    """One stretch of duty: started, lapsing at ``until``, ended by hand (or by losing the
    escort role) at ``ended_at``; an open shift has no ``ended_at``."""

    user_id: int
    started_at: datetime
    until: datetime
    ended_at: datetime | None = None

    def running(self, now: datetime) -> bool:
        return self.started_at <= now < self.ends_at

    @property
    def ends_at(self) -> datetime:
        """When it ended or will end: by hand, or at the end of its day."""
        return self.until if self.ended_at is None else min(self.ended_at, self.until)


def day_end(moment: datetime, tz: tzinfo) -> datetime:
    """The local midnight after ``moment`` (the start of the next local day), in UTC terms
    comparable with the bot's clock."""
    local = moment.astimezone(tz)
    next_day = datetime.combine(local.date() + timedelta(days=1), time(0), tzinfo=tz)
    return next_day.astimezone(moment.tzinfo)


def on_duty(
    escorts: Iterable[StaffMember], shifts: Iterable[Shift], now: datetime
) -> list[StaffMember]:
    """The escorts among ``escorts`` whose shift runs now, in the order given. A shift of
    someone who is not (or no longer) an escort counts for nothing."""
    running = {s.user_id for s in shifts if s.running(now)}
    return [e for e in escorts if e.has(Role.ESCORT) and e.user_id in running]


def to_tell(
    escorts: list[StaffMember], shifts: Iterable[Shift], now: datetime
) -> list[StaffMember]:
    """Who hears that a visitor waits: the escorts on duty; when nobody is, every escort, so
    a visitor is never left unannounced (and an office that never uses /piket sees no change)."""
    return on_duty(escorts, shifts, now) or [e for e in escorts if e.has(Role.ESCORT)]
