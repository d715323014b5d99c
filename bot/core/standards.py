"""The SOP's time standards (*mutu baku*) measured on a visit: each step against its standard.

SOP.md: every deviation from a time standard is a failure the executor answers for, so
each step's duration is computed from the visit's timestamps and compared here. Reports
use the measurements; reminders and escalation use the deadlines.

| step      | from          | to            | standard                                   |
|-----------|---------------|---------------|--------------------------------------------|
| form      | started_at    | form_done_at  | standards.form (SOP step 1)                |
| recording | form_done_at  | submitted_at  | standards.recording (step 2)               |
| handover  | submitted_at  | handover_at   | standards.handover (step 3)                |
| decision  | submitted_at  | decided_at    | standards.decision (steps 4-5)             |
| visit     | entered_at    | exited_at     | max(standards.visit, planned duration) (6) |

A step exceeds its standard only when it took strictly longer than the standard.

A visit planned ahead (/jadwal) counts from the visitor's arrival, not from planning: its
form was typed and its decision taken before the day, while nobody waited, so those steps
are not measured; its recording (step 2) runs from the officer opening it at the desk
(``arrived_at``) to the KTP checked and the badge issued (``checked_at``).

Pure module: no Telegram, no storage.
"""

from __future__ import annotations

import enum
import functools
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.core.visits import Visit, VisitStatus


@dataclass(frozen=True)
class TimeStandards:
    """The SOP's mutu baku, in minutes (SOP.md steps 1, 2, 3, 4-5, 6)."""

    form: int = 10
    recording: int = 5
    handover: int = 5
    decision: int = 10
    visit: int = 15


class Step(enum.StrEnum):
    FORM = "form"
    RECORDING = "recording"
    HANDOVER = "handover"
    DECISION = "decision"
    VISIT = "visit"


STEPS = tuple(Step)

# A step still running can only be the one its visit's status waits for; a cancelled or
# denied visit never runs the later steps, so those stay "not reached" rather than "late".
_RUNNING_IN = {
    Step.HANDOVER: VisitStatus.PENDING,
    Step.DECISION: VisitStatus.PENDING,
    Step.VISIT: VisitStatus.INSIDE,
}


@dataclass(frozen=True)
class StepTiming:
    """One step of one visit measured against its standard.

    ``duration`` is end - start for a finished step, now - start for a running one (so a
    running step can already be ``breached``), and None for a step not reached.
    """

    step: Step
    standard: timedelta
    start: datetime | None
    end: datetime | None
    duration: timedelta | None
    running: bool
    breached: bool

    @property
    def standard_minutes(self) -> int:
        return int(self.standard.total_seconds() // 60)

    @property
    def minutes(self) -> float | None:
        return None if self.duration is None else self.duration.total_seconds() / 60

    @property
    def excess(self) -> timedelta:
        """How far past the standard the step went (zero when within it)."""
        if self.duration is None:
            return timedelta(0)
        return max(timedelta(0), self.duration - self.standard)


# Each step's start and end: attribute names on Visit.
_BOUNDS = {
    Step.FORM: ("started_at", "form_done_at"),
    Step.RECORDING: ("form_done_at", "submitted_at"),
    Step.HANDOVER: ("submitted_at", "handover_at"),
    Step.DECISION: ("submitted_at", "decided_at"),
    Step.VISIT: ("entered_at", "exited_at"),
}


@functools.lru_cache(maxsize=16)
def _fixed_standards(standards: TimeStandards) -> dict[Step, timedelta]:
    return {step: timedelta(minutes=getattr(standards, step.value)) for step in STEPS}


def standard_for(step: Step, visit: Visit, standards: TimeStandards) -> timedelta:
    """The standard that applies to this visit's step (the visit's own plan may be longer)."""
    fixed = _fixed_standards(standards)[step]
    if step == Step.VISIT:
        return max(fixed, timedelta(minutes=visit.duration_minutes))
    return fixed


# A planned visit's steps: from arrival; None where the step happened before the day.
_PLANNED_BOUNDS: dict[Step, tuple[str, str] | None] = {
    Step.FORM: None,
    Step.RECORDING: ("arrived_at", "checked_at"),
    Step.HANDOVER: None,
    Step.DECISION: None,
    Step.VISIT: _BOUNDS[Step.VISIT],
}


def step_bounds(step: Step, visit: Visit) -> tuple[datetime | None, datetime | None]:
    """When the step started and ended on this visit (None where not recorded)."""
    bounds = _PLANNED_BOUNDS[step] if visit.planned else _BOUNDS[step]
    if bounds is None:
        return None, None
    start, end = bounds
    return getattr(visit, start), getattr(visit, end)


def measure_step(
    step: Step, visit: Visit, standards: TimeStandards, now: datetime | None = None
) -> StepTiming:
    """One step's duration against its standard; pass ``now`` to measure running steps."""
    standard = standard_for(step, visit, standards)
    start, end = step_bounds(step, visit)
    running = False
    duration: timedelta | None = None
    if start is not None and end is not None:
        duration = end - start
    elif start is not None and now is not None and _RUNNING_IN.get(step) == visit.status:
        running = True
        duration = max(timedelta(0), now - start)
    return StepTiming(
        step=step,
        standard=standard,
        start=start,
        end=end,
        duration=duration,
        running=running,
        breached=duration is not None and duration > standard,
    )


def measure(
    visit: Visit, standards: TimeStandards, now: datetime | None = None
) -> list[StepTiming]:
    """Every SOP step of the visit, in order."""
    return [measure_step(step, visit, standards, now) for step in STEPS]


def breaches(
    visit: Visit, standards: TimeStandards, now: datetime | None = None
) -> list[StepTiming]:
    """The steps that took (or, running, have already taken) longer than their standard."""
    return [timing for timing in measure(visit, standards, now) if timing.breached]


# --- deadlines (for reminders and escalation) ------------------------------------------------


def deadline(step: Step, visit: Visit, standards: TimeStandards) -> datetime | None:
    """When the step misses its standard, or None when it has not started."""
    start, _ = step_bounds(step, visit)
    return None if start is None else start + standard_for(step, visit, standards)


def decision_deadline(visit: Visit, standards: TimeStandards) -> datetime:
    """The section head must decide by this time (SOP steps 4-5)."""
    return visit.submitted_at + timedelta(minutes=standards.decision)


def handover_deadline(visit: Visit, standards: TimeStandards) -> datetime:
    """The request must reach a section head by this time (SOP step 3)."""
    return visit.submitted_at + timedelta(minutes=standards.handover)


def visit_deadline(visit: Visit, standards: TimeStandards) -> datetime | None:
    """The escorted visit's standard runs out (None before entry).

    The planned end (``Visit.planned_end``) is the same moment unless the plan is shorter
    than the standard.
    """
    return deadline(Step.VISIT, visit, standards)


def time_left(
    step: Step, visit: Visit, standards: TimeStandards, now: datetime
) -> timedelta | None:
    """Time until the step misses its standard (negative once missed); None if not started."""
    due = deadline(step, visit, standards)
    return None if due is None else due - now
