"""The visit lifecycle (DESIGN.md, "The domain"): states, transitions, durations."""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, replace
from datetime import datetime, timedelta


class VisitStatus(enum.StrEnum):
    PENDING = "pending"
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
    Action.DENY: (frozenset({VisitStatus.PENDING}), VisitStatus.DENIED),
    # The officer withdraws a request nobody has used yet: still waiting, or approved and
    # not entered (the visitor gave up, or came on the wrong day).
    Action.CANCEL: (
        frozenset({VisitStatus.PENDING, VisitStatus.APPROVED}),
        VisitStatus.CANCELLED,
    ),
    Action.ENTER: (frozenset({VisitStatus.APPROVED}), VisitStatus.INSIDE),
    Action.EXIT: (frozenset({VisitStatus.INSIDE}), VisitStatus.DONE),
    Action.EXPIRE: (frozenset({VisitStatus.APPROVED}), VisitStatus.EXPIRED),
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
