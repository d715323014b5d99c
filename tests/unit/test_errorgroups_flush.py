"""What an error group's window held back is reported once the window has passed, even
when the error then stopped (bot/app/errorgroups.py ``held``), with a clock moved by hand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.app.errorgroups import ErrorGroups, group_of
from bot.texts import operations as operations_texts

T0 = datetime(2026, 11, 28, 2, 0, tzinfo=UTC)
EVERY = timedelta(minutes=30)


def boom(kind: type[Exception] = ValueError) -> BaseException:
    try:
        raise kind("3508015507900002")  # a NIK in the message: never part of a report
    except kind as exc:
        return exc


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def test_a_window_that_held_errors_back_is_reported_when_it_passes() -> None:
    groups = ErrorGroups(every=EVERY)
    first = groups.note(boom(), T0)
    assert first is not None and first.count == 1 and first.since is None
    for minute in range(1, 29):  # 28 more, then the error stops
        assert groups.note(boom(), at(minute)) is None
    assert groups.held(at(29)) == []  # the window is still running
    assert groups.held(at(29.99)) == []
    (due,) = groups.held(at(30))
    assert due.group == first.group and due.count == 28
    assert due.since == T0 and due.last == at(28)
    # Reported: nothing more is held, every later minute is quiet.
    assert all(groups.held(at(m)) == [] for m in range(31, 120))


def test_after_the_held_report_the_window_starts_again() -> None:
    groups = ErrorGroups(every=EVERY)
    groups.note(boom(), T0)
    groups.note(boom(), at(5))
    (due,) = groups.held(at(31))
    assert due.count == 1
    # The same error a minute after that report: held in the new window, then reported.
    assert groups.note(boom(), at(32)) is None
    assert groups.held(at(60)) == []
    (again,) = groups.held(at(61))
    assert again.count == 1 and again.since == at(31) and again.last == at(32)


def test_an_error_after_the_window_reports_what_was_held_and_nothing_stays() -> None:
    """The other way a held count is reported (as before): the group's next error after the
    window; the held report then has nothing left to send."""
    groups = ErrorGroups(every=EVERY)
    groups.note(boom(), T0)
    groups.note(boom(), at(10))
    due = groups.note(boom(), at(40))
    assert due is not None and due.count == 2 and due.since is None
    assert groups.held(at(80)) == []


def test_groups_are_held_and_reported_each_on_their_own() -> None:
    groups = ErrorGroups(every=EVERY)
    groups.note(boom(ValueError), T0)
    groups.note(boom(KeyError), at(10))
    groups.note(boom(ValueError), at(1))
    groups.note(boom(KeyError), at(11))
    groups.note(boom(KeyError), at(12))
    (value,) = groups.held(at(30))
    assert value.group.kind == "ValueError" and value.count == 1
    (key,) = groups.held(at(40))
    assert key.group.kind == "KeyError" and key.count == 2


def test_the_held_report_says_how_often_and_until_when_without_the_message() -> None:
    groups = ErrorGroups(every=EVERY)
    groups.note(boom(), T0)
    groups.note(boom(), at(3))
    groups.note(boom(), at(7))
    (due,) = groups.held(at(30))
    tz = ZoneInfo("Asia/Jakarta")
    text = operations_texts.error_report_held(
        due.group.kind, due.group.place, due.count, due.since, due.last, tz, 30
    )
    assert "Terjadi 2 kali lagi sejak laporan pukul 09:00 WIB" in text
    assert "terakhir pukul 09:07 WIB" in text
    assert group_of(boom()).kind in text and "3508015507900002" not in text
