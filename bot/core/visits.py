"""The visit lifecycle (DESIGN.md, "The domain"): states, transitions, durations."""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, tzinfo

from bot.core.duty import day_end
from bot.core.planning import Plan


class VisitStatus(enum.StrEnum):
    PENDING = "pending"
    SCHEDULED = "scheduled"  # a planned visit approved in advance; the visitor has not come
    APPROVED = "approved"
    DENIED = "denied"
    CANCELLED = "cancelled"
    INSIDE = "inside"
    DONE = "done"
    EXPIRED = "expired"


class EquipmentCheck(enum.StrEnum):
    """What the escort found at KELUAR, when the form listed equipment brought in."""

    MATCHES = "ok"  # the same equipment goes out
    DIFFERS = "diff"  # something is missing or extra: a note says what


class Action(enum.StrEnum):
    SUBMIT = "submit"
    APPROVE = "approve"
    APPROVE_AHEAD = "approve_ahead"  # a planned visit decided before the day
    ARRIVE = "arrive"  # the planned visitor at the desk: KTP checked, badge issued
    DENY = "deny"
    CANCEL = "cancel"
    ENTER = "enter"
    EXIT = "exit"
    EXPIRE = "expire"


# (action) -> (the states it may start from, the state it leads to); the draft lives in the
# officer's conversation, so SUBMIT starts at None. Storage guards each write on the state the
# visit was read in, so an action with several sources still yields exactly one winner.
TRANSITIONS: dict[Action, tuple[frozenset[VisitStatus | None], VisitStatus]] = {
    Action.SUBMIT: (frozenset({None}), VisitStatus.PENDING),
    Action.APPROVE: (frozenset({VisitStatus.PENDING}), VisitStatus.APPROVED),
    # A planned visit is decided on the same card, before the day; the badge waits for the
    # visitor (SOP step 2 happens on the day), so it is not APPROVED yet.
    Action.APPROVE_AHEAD: (frozenset({VisitStatus.PENDING}), VisitStatus.SCHEDULED),
    Action.ARRIVE: (frozenset({VisitStatus.SCHEDULED}), VisitStatus.APPROVED),
    Action.DENY: (frozenset({VisitStatus.PENDING}), VisitStatus.DENIED),
    # The officer withdraws a request nobody has used yet: still waiting, or approved and
    # not entered (the visitor gave up, or came on the wrong day).
    Action.CANCEL: (
        frozenset({VisitStatus.PENDING, VisitStatus.SCHEDULED, VisitStatus.APPROVED}),
        VisitStatus.CANCELLED,
    ),
    Action.ENTER: (frozenset({VisitStatus.APPROVED}), VisitStatus.INSIDE),
    Action.EXIT: (frozenset({VisitStatus.INSIDE}), VisitStatus.DONE),
    # An unused badge, a planned visit whose window passed without the visitor, or a
    # walk-in request nobody decided by the end of its day (the visitor has long gone).
    Action.EXPIRE: (
        frozenset({VisitStatus.APPROVED, VisitStatus.SCHEDULED, VisitStatus.PENDING}),
        VisitStatus.EXPIRED,
    ),
}


class InvalidTransition(Exception):
    """The visit is not in the state the action needs (a stale button, a double tap)."""


def transition(action: Action, current: VisitStatus | None) -> VisitStatus:
    """Return the state after ``action``, or raise InvalidTransition."""
    sources, target = TRANSITIONS[action]
    if current not in sources:
        needs = " or ".join(sorted(str(source) for source in sources))
        raise InvalidTransition(f"{action} needs {needs}, visit is {current}")
    return target


def allows(action: Action, current: VisitStatus) -> bool:
    """Whether ``action`` may start from ``current`` (for listing what can still be done)."""
    return current in TRANSITIONS[action][0]


@dataclass(frozen=True)
class VisitDraft:
    """What the officer's conversation collects before submitting (SOP steps 1-2)."""

    nik: str
    name: str
    organisation: str
    phone: str
    purpose: str
    duration_minutes: int
    equipment: str
    ktp_file_id: str
    started_at: datetime  # the form was opened (SOP step 1 starts)
    form_done_at: datetime  # every field filled in; checking and confirming remain (step 2)
    assignment_letter: str = ""  # the visitor's surat tugas number, if they brought one
    # When the visitor agreed to the server-room rules (ISO, office time), if they were asked.
    rules_agreed_at: str | None = None
    plan: Plan | None = None  # planned ahead (/jadwal): no KTP photo until the day
    # The form's own key: submitting the same form again (a replay after a crash) stores
    # nothing new and finds the request stored the first time.
    submission_key: str | None = None


@dataclass(frozen=True)
class Visit:
    id: int
    status: VisitStatus
    visitor_id: int
    nik: str
    name: str
    organisation: str
    phone: str
    purpose: str
    duration_minutes: int
    equipment: str
    ktp_file_id: str
    officer_id: int
    started_at: datetime
    submitted_at: datetime
    form_done_at: datetime | None = None
    handover_at: datetime | None = None  # the first approval card reached a section head
    decided_at: datetime | None = None
    decided_by: int | None = None
    decided_for: int | None = None  # the approver a delegate decided for ("a.n.")
    deny_reason: str | None = None
    valid_until: datetime | None = None
    entered_at: datetime | None = None
    entry_escort_id: int | None = None
    exited_at: datetime | None = None
    exit_escort_id: int | None = None
    cancelled_at: datetime | None = None
    cancelled_by: int | None = None  # the officer who withdrew the request
    cancel_reason: str | None = None
    assignment_letter: str = ""  # empty for visits stored before the form asked it
    rules_agreed_at: str | None = None  # ISO, office time; None when the rules were not asked
    # Each evacuation roll call the visitor was on (bot/core/rollcall.py): (its start, when
    # they were marked safe, None while not), oldest first. Read with the visit, for notes.
    roll_calls: tuple[tuple[datetime, datetime | None], ...] = ()
    # The NIK was on the watchlist when the request was submitted (bot/flows/workflow.py):
    # the cards say "blokir" and approving takes a second tap. Kept after an unblock.
    watchlisted: bool = False
    plan: Plan | None = None  # a visit planned ahead: its day and window (None: walk-in)
    # Filled in by the visitor through a self-registration link (bot/core/guests.py).
    self_registered: bool = False
    arrived_at: datetime | None = None  # planned: the officer opened it, visitor at the desk
    checked_at: datetime | None = None  # planned: KTP checked against the person, badge issued
    checked_by: int | None = None  # planned: the officer who did it (and holds the badge)

    @property
    def planned(self) -> bool:
        return self.plan is not None

    @property
    def desk_officer(self) -> int:
        """Who holds the badge and hears about the door: the officer who checked a planned
        visitor in (a section head may have planned it), else whoever registered it."""
        return self.checked_by if self.checked_by is not None else self.officer_id

    # At KELUAR, when equipment was listed: the escort's check and, for a discrepancy, the note.
    equipment_check: EquipmentCheck | None = None
    equipment_note: str | None = None

    @property
    def needs_equipment_check(self) -> bool:
        """Equipment was listed on the form: KELUAR records what the escort found."""
        return bool(self.equipment)

    @property
    def reference(self) -> str:
        return visit_reference(self.id, self.submitted_at)

    @property
    def planned_end(self) -> datetime | None:
        if self.entered_at is None:
            return None
        return self.entered_at + timedelta(minutes=self.duration_minutes)

    def time_inside(self, now: datetime) -> timedelta | None:
        if self.entered_at is None:
            return None
        return (self.exited_at or now) - self.entered_at

    def overstayed(self, now: datetime) -> bool:
        end = self.planned_end
        return self.status == VisitStatus.INSIDE and end is not None and now > end


@dataclass(frozen=True)
class Change:
    """One transition, described once: storage persists ``after`` if the visit is still
    in ``before``'s state, and texts are rendered from ``after``."""

    action: Action
    actor_id: int
    at: datetime
    before: Visit
    after: Visit


def approve(
    visit: Visit,
    approver_id: int,
    now: datetime,
    valid_until: datetime,
    decided_for: int | None = None,
) -> Change:
    """``decided_for`` is the approver a delegate stands in for (None when deciding alone)."""
    after = replace(
        visit,
        status=transition(Action.APPROVE, visit.status),
        decided_at=now,
        decided_by=approver_id,
        decided_for=decided_for,
        valid_until=valid_until,
    )
    return Change(Action.APPROVE, approver_id, now, visit, after)


def deny(
    visit: Visit, approver_id: int, now: datetime, reason: str, decided_for: int | None = None
) -> Change:
    after = replace(
        visit,
        status=transition(Action.DENY, visit.status),
        decided_at=now,
        decided_by=approver_id,
        decided_for=decided_for,
        deny_reason=reason,
    )
    return Change(Action.DENY, approver_id, now, visit, after)


def approve_ahead(
    visit: Visit, approver_id: int, now: datetime, decided_for: int | None = None
) -> Change:
    """A planned visit approved before the day: no badge yet, it comes with ``arrive``."""
    if visit.plan is None:
        raise InvalidTransition("only a planned visit is approved ahead")
    after = replace(
        visit,
        status=transition(Action.APPROVE_AHEAD, visit.status),
        decided_at=now,
        decided_by=approver_id,
        decided_for=decided_for,
    )
    return Change(Action.APPROVE_AHEAD, approver_id, now, visit, after)


def arrive(
    visit: Visit,
    officer_id: int,
    arrived_at: datetime,
    now: datetime,
    ktp_file_id: str,
    valid_until: datetime,
) -> Change:
    """The planned visitor is at the desk: the KTP photo taken and checked against them (SOP
    step 2), the badge valid from now. The time standards count from ``arrived_at``."""
    after = replace(
        visit,
        status=transition(Action.ARRIVE, visit.status),
        ktp_file_id=ktp_file_id,
        arrived_at=arrived_at,
        checked_at=now,
        checked_by=officer_id,
        valid_until=valid_until,
    )
    return Change(Action.ARRIVE, officer_id, now, visit, after)


def cancel(visit: Visit, officer_id: int, now: datetime, reason: str) -> Change:
    """Any officer may withdraw it, not only the registrant (shifts change): who is kept.

    The approval stays on record (who approved, when, the window); the badge it issued dies
    with the same write (storage revokes it)."""
    after = replace(
        visit,
        status=transition(Action.CANCEL, visit.status),
        cancelled_at=now,
        cancelled_by=officer_id,
        cancel_reason=reason,
    )
    return Change(Action.CANCEL, officer_id, now, visit, after)


def enter(visit: Visit, escort_id: int, now: datetime) -> Change:
    after = replace(
        visit,
        status=transition(Action.ENTER, visit.status),
        entered_at=now,
        entry_escort_id=escort_id,
    )
    return Change(Action.ENTER, escort_id, now, visit, after)


def exit_(
    visit: Visit,
    escort_id: int,
    now: datetime,
    check: EquipmentCheck | None = None,
    note: str | None = None,
) -> Change:
    """``check`` (and ``note``, for a discrepancy) is kept only when equipment was listed;
    a visit that brought none exits as it always has."""
    status = transition(Action.EXIT, visit.status)
    if not visit.needs_equipment_check:
        check, note = None, None
    elif check is None:
        raise InvalidTransition("equipment was listed: the exit needs the escort's check")
    elif check == EquipmentCheck.MATCHES:
        note = None
    elif not note:
        raise InvalidTransition("a discrepancy needs a note")
    after = replace(
        visit,
        status=status,
        exited_at=now,
        exit_escort_id=escort_id,
        equipment_check=check,
        equipment_note=note,
    )
    return Change(Action.EXIT, escort_id, now, visit, after)


# The sweep acts for nobody; the audit log has always recorded it as actor 0.
SYSTEM_ACTOR = 0


def expire(visit: Visit, now: datetime) -> Change:
    after = replace(visit, status=transition(Action.EXPIRE, visit.status))
    return Change(Action.EXPIRE, SYSTEM_ACTOR, now, visit, after)


def visit_reference(visit_id: int, submitted_at: datetime) -> str:
    """The reference printed on the badge and in the log, e.g. KRS-2026-00042."""
    return f"KRS-{submitted_at.year}-{visit_id:05d}"


_REFERENCE = re.compile(r"KRS-(\d{4})-(\d{5,12})")


def parse_reference(text: str) -> tuple[int, int] | None:
    """(year, visit id) of a typed reference, case and spaces forgiven; None if not one.

    The year is returned too: a reference is only the visit's if its year matches."""
    match = _REFERENCE.fullmatch(text.strip().upper())
    if match is None:
        return None
    return int(match.group(1)), int(match.group(2))


def badge_valid_until(approved_at: datetime, entry_window_minutes: int, duration: int) -> datetime:
    """The badge admits entry until the approved window closes (PCI DSS 9.3.2: it expires)."""
    return approved_at + timedelta(minutes=entry_window_minutes + duration)


# An undecided walk-in request lapses at the end of the day it was submitted (its visitor does
# not wait at the desk overnight), but never sooner than this after it was submitted: one
# sent at 23:55 for a night-time incident would otherwise lapse five minutes later, before
# any section head could read its card (the decision standard alone is 10 minutes).
LAPSE_GRACE = timedelta(hours=2)


def lapses_at(submitted_at: datetime, tz: tzinfo) -> datetime:
    """When a walk-in request still undecided lapses (bot/flows/workflow.py expires it)."""
    return max(day_end(submitted_at, tz), submitted_at + LAPSE_GRACE)
