"""The duty roster's rules (bot/core/duty.py): a shift lapses at local midnight, and who
hears of a waiting visitor is the escorts on duty, or every escort when none is."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from bot.core.duty import Shift, day_end, on_duty, to_tell
from bot.core.roles import Role, StaffMember

WIB = ZoneInfo("Asia/Jakarta")  # UTC+7, no daylight saving
WITA = ZoneInfo("Asia/Makassar")  # UTC+8
A = StaffMember(1, "Ani", frozenset({Role.ESCORT}))
B = StaffMember(2, "Budi", frozenset({Role.ESCORT, Role.OFFICER}))
C = StaffMember(3, "Citra", frozenset({Role.OFFICER}))  # not an escort (any more)


def at(hour: int, minute: int = 0, day: int = 28) -> datetime:
    """A moment given in WIB, as the bot's UTC clock reads it."""
    return datetime(2026, 11, day, hour, minute, tzinfo=WIB).astimezone(UTC)


def shift(member: StaffMember, start: datetime, ended: datetime | None = None) -> Shift:
    return Shift(member.user_id, start, day_end(start, WIB), ended)


def test_a_day_ends_at_the_next_local_midnight() -> None:
    assert day_end(at(9), WIB) == at(0, day=29)
    assert day_end(at(0), WIB) == at(0, day=29)  # midnight itself starts the day
    assert day_end(at(23, 59), WIB) == at(0, day=29)
    # 01:30 WIB is still the 27th in UTC: the local date decides.
    assert at(1, 30).date().day == 27 and day_end(at(1, 30), WIB) == at(0, day=29)
    assert day_end(at(9), WITA) == datetime(2026, 11, 29, tzinfo=WITA).astimezone(UTC)
    assert day_end(at(9), WIB).tzinfo == UTC


def test_a_shift_runs_from_its_start_until_ended_or_midnight() -> None:
    s = shift(A, at(8))
    assert not s.running(at(7, 59))
    assert s.running(at(8)) and s.running(at(23, 59))
    assert not s.running(at(0, day=29))  # the forgotten toggle pings nobody tomorrow
    assert s.ends_at == at(0, day=29)
    ended = shift(A, at(8), ended=at(12))
    assert ended.running(at(11, 59)) and not ended.running(at(12))
    assert ended.ends_at == at(12)


def test_only_escorts_with_a_running_shift_are_on_duty() -> None:
    shifts = [shift(A, at(8)), shift(B, at(7), ended=at(9)), shift(C, at(8))]
    assert on_duty([A, B, C], shifts, at(10)) == [A]  # B went off; C is no escort
    assert on_duty([A, B, C], shifts, at(8, 30)) == [A, B]
    assert on_duty([A, B, C], [shift(A, at(8, day=27))], at(10)) == []  # yesterday's


def test_the_escorts_on_duty_are_told_or_else_every_escort() -> None:
    assert to_tell([A, B, C], [shift(B, at(8))], at(10)) == [B]
    assert to_tell([A, B, C], [], at(10)) == [A, B]
    assert to_tell([A, B, C], [shift(A, at(8, day=27))], at(10)) == [A, B]
    assert to_tell([A, B, C], [shift(C, at(8))], at(10)) == [A, B]
