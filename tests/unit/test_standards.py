"""The SOP's time standards measured on visits (bot/core/standards.py)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from bot.core.standards import (
    STEPS,
    Step,
    TimeStandards,
    breaches,
    deadline,
    decision_deadline,
    handover_deadline,
    measure,
    measure_step,
    standard_for,
    time_left,
    visit_deadline,
)
from bot.core.visits import Visit, VisitStatus

T0 = datetime(2026, 11, 28, 2, 0, tzinfo=UTC)
STANDARDS = TimeStandards()


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def visit(**changes: object) -> Visit:
    """A finished visit inside every standard: form 8, recording 3, hand-over 0.5,
    decision 6, 30 minutes inside a 30-minute plan."""
    base = Visit(
        id=1,
        status=VisitStatus.DONE,
        visitor_id=1,
        nik="3508015507900002",
        name="Ayu Lestari",
        organisation="PT Jaringan Nusantara",
        phone="081234567890",
        purpose="Pemeliharaan server",
        duration_minutes=30,
        equipment="Laptop",
        ktp_file_id="file",
        officer_id=1001,
        started_at=at(0),
        form_done_at=at(8),
        submitted_at=at(11),
        handover_at=at(11.5),
        decided_at=at(17),
        decided_by=2001,
        entered_at=at(25),
        entry_escort_id=3001,
        exited_at=at(55),
        exit_escort_id=3001,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def test_a_visit_inside_every_standard() -> None:
    timings = measure(visit(), STANDARDS)
    assert [t.step for t in timings] == list(STEPS)
    assert [t.minutes for t in timings] == [8, 3, 0.5, 6, 30]
    assert [t.standard_minutes for t in timings] == [10, 5, 5, 10, 30]
    assert not any(t.breached or t.running for t in timings)
    assert breaches(visit(), STANDARDS) == []


def test_each_step_over_its_standard_is_a_breach() -> None:
    late = visit(
        form_done_at=at(10.5),
        submitted_at=at(16),
        handover_at=at(21.5),
        decided_at=at(27),
        entered_at=at(30),
        exited_at=at(61),
    )
    found = breaches(late, STANDARDS)
    assert [t.step for t in found] == list(STEPS)
    assert found[0].excess == timedelta(seconds=30)
    assert found[-1].excess == timedelta(minutes=1)


def test_exactly_the_standard_is_not_a_breach() -> None:
    timing = measure_step(Step.DECISION, visit(decided_at=at(21)), STANDARDS)
    assert timing.duration == timedelta(minutes=10) and not timing.breached
    assert timing.excess == timedelta(0)


def test_the_visit_standard_is_the_longer_of_standard_and_plan() -> None:
    short_plan = visit(duration_minutes=10)
    assert standard_for(Step.VISIT, short_plan, STANDARDS) == timedelta(minutes=15)
    assert standard_for(Step.VISIT, visit(), STANDARDS) == timedelta(minutes=30)
    # 30 minutes inside a 10-minute plan: over the 15-minute standard.
    assert [t.step for t in breaches(short_plan, STANDARDS)] == [Step.VISIT]


def test_configured_standards_are_used() -> None:
    strict = TimeStandards(form=5, recording=2, handover=1, decision=5, visit=60)
    found = [t.step for t in breaches(visit(), strict)]
    assert found == [Step.FORM, Step.RECORDING, Step.DECISION]
    assert standard_for(Step.VISIT, visit(), strict) == timedelta(minutes=60)


def test_pending_request_runs_its_handover_and_decision() -> None:
    pending = visit(
        status=VisitStatus.PENDING,
        handover_at=None,
        decided_at=None,
        decided_by=None,
        entered_at=None,
        exited_at=None,
    )
    timings = {t.step: t for t in measure(pending, STANDARDS, now=at(23))}
    assert timings[Step.DECISION].running and timings[Step.DECISION].breached
    assert timings[Step.DECISION].duration == timedelta(minutes=12)
    assert timings[Step.HANDOVER].running and timings[Step.HANDOVER].breached
    assert timings[Step.VISIT].duration is None and not timings[Step.VISIT].running
    # Without `now` nothing runs: a report of the past shows only what was recorded.
    assert not any(t.running for t in measure(pending, STANDARDS))
    assert measure_step(Step.DECISION, pending, STANDARDS).duration is None


def test_visitor_inside_runs_the_visit_step() -> None:
    inside = visit(status=VisitStatus.INSIDE, exited_at=None)
    early = measure_step(Step.VISIT, inside, STANDARDS, now=at(40))
    assert early.running and not early.breached and early.duration == timedelta(minutes=15)
    late = measure_step(Step.VISIT, inside, STANDARDS, now=at(56))
    assert late.running and late.breached


@pytest.mark.parametrize("status", [VisitStatus.DENIED, VisitStatus.CANCELLED])
def test_a_closed_request_never_runs_later_steps(status: VisitStatus) -> None:
    closed = visit(status=status, entered_at=None, exited_at=None, handover_at=None)
    if status == VisitStatus.CANCELLED:
        closed = replace(closed, decided_at=None, decided_by=None)
    timings = {t.step: t for t in measure(closed, STANDARDS, now=at(500))}
    assert not any(t.running for t in timings.values())
    assert timings[Step.VISIT].duration is None
    assert timings[Step.HANDOVER].duration is None


def test_a_visit_from_before_step_times_were_kept() -> None:
    old = visit(form_done_at=None, handover_at=None)
    timings = {t.step: t for t in measure(old, STANDARDS, now=at(100))}
    assert timings[Step.FORM].duration is None and timings[Step.RECORDING].duration is None
    assert not timings[Step.FORM].breached


def test_deadlines() -> None:
    pending = visit(status=VisitStatus.PENDING, decided_at=None, entered_at=None, exited_at=None)
    assert decision_deadline(pending, STANDARDS) == at(21)
    assert handover_deadline(pending, STANDARDS) == at(16)
    assert deadline(Step.DECISION, pending, STANDARDS) == at(21)
    assert deadline(Step.FORM, pending, STANDARDS) == at(10)
    assert visit_deadline(pending, STANDARDS) is None
    assert time_left(Step.DECISION, pending, STANDARDS, at(18)) == timedelta(minutes=3)
    assert time_left(Step.DECISION, pending, STANDARDS, at(25)) == timedelta(minutes=-4)
    assert time_left(Step.VISIT, pending, STANDARDS, at(25)) is None
    inside = visit(status=VisitStatus.INSIDE, exited_at=None, duration_minutes=10)
    assert visit_deadline(inside, STANDARDS) == at(25 + 15)
    assert inside.planned_end == at(35)  # the plan is shorter than the standard
