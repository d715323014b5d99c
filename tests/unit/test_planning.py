"""Visits planned ahead: when one may be opened at the desk, its transitions, and how its
time standards count from the arrival (bot/core/planning.py, visits.py, standards.py)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.core import visits as lifecycle
from bot.core.planning import Opening, Plan, opening
from bot.core.standards import Step, TimeStandards, measure
from bot.core.visits import InvalidTransition, Visit, VisitStatus

WIB = ZoneInfo("Asia/Jakarta")
GRACE = timedelta(minutes=30)
PLAN = Plan(date(2026, 11, 29), time(9, 0), time(12, 0))


def at(hour: int, minute: int = 0, day: int = 29) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=WIB)


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (at(8, 29), Opening.EARLY),
        (at(8, 30), Opening.OPEN),
        (at(10, 0), Opening.OPEN),
        (at(12, 30), Opening.OPEN),
        (at(12, 31), Opening.LATE),
        (at(10, 0, day=28), Opening.EARLY),  # the day before
        (at(10, 0, day=30), Opening.LATE),  # the day after
    ],
)
def test_a_scheduled_visit_opens_within_its_window_and_grace(
    moment: datetime, expected: Opening
) -> None:
    assert opening(PLAN, True, moment, WIB, GRACE) is expected
    # The same moment seen from another zone is the same moment.
    assert opening(PLAN, True, moment.astimezone(UTC), WIB, GRACE) is expected


def test_only_an_approved_plan_opens() -> None:
    assert opening(PLAN, False, at(10), WIB, GRACE) is Opening.NOT_APPROVED
    assert opening(None, True, at(10), WIB, GRACE) is Opening.NOT_PLANNED


def _visit(**changes: object) -> Visit:
    base = Visit(
        id=1,
        status=VisitStatus.PENDING,
        visitor_id=1,
        nik="3508015507900002",
        name="Ayu",
        organisation="PT",
        phone="0812",
        purpose="Servis",
        duration_minutes=30,
        equipment="",
        ktp_file_id="",
        officer_id=1001,
        started_at=at(9, 0, day=20),
        submitted_at=at(9, 5, day=20),
        form_done_at=at(9, 4, day=20),
        plan=PLAN,
    )
    return replace(base, **changes)


def test_approved_ahead_then_arrived_then_the_door() -> None:
    pending = _visit()
    with pytest.raises(InvalidTransition):
        lifecycle.arrive(pending, 1001, at(9), at(9, 2), "file", at(11))
    scheduled = lifecycle.approve_ahead(pending, 2001, at(10, 0, day=20)).after
    assert scheduled.status == VisitStatus.SCHEDULED and scheduled.valid_until is None
    with pytest.raises(InvalidTransition):
        lifecycle.enter(scheduled, 3001, at(9))  # no badge yet: nobody enters
    arrived = lifecycle.arrive(scheduled, 1002, at(9), at(9, 2), "file", at(11)).after
    assert arrived.status == VisitStatus.APPROVED and arrived.desk_officer == 1002
    assert lifecycle.expire(scheduled, at(13)).after.status == VisitStatus.EXPIRED
    assert lifecycle.cancel(scheduled, 1001, at(8), "batal").after.status == VisitStatus.CANCELLED
    with pytest.raises(InvalidTransition):
        lifecycle.approve_ahead(replace(pending, plan=None), 2001, at(10))


def test_time_standards_count_from_the_arrival() -> None:
    """Planned eight days ahead, decided the next day: no step is late for it; the check at
    the desk is the recording step."""
    scheduled = lifecycle.approve_ahead(_visit(), 2001, at(10, 0, day=21)).after
    arrived = lifecycle.arrive(scheduled, 1001, at(9), at(9, 7), "file", at(11)).after
    timings = {t.step: t for t in measure(arrived, TimeStandards(), now=at(9, 8))}
    assert timings[Step.FORM].duration is None
    assert timings[Step.HANDOVER].duration is None
    assert timings[Step.DECISION].duration is None
    assert timings[Step.RECORDING].duration == timedelta(minutes=7)
    assert timings[Step.RECORDING].breached  # 7 > 5: the desk's own standard still holds
    pending = {t.step: t for t in measure(_visit(), TimeStandards(), now=at(9))}
    assert not any(t.breached or t.running for t in pending.values())
