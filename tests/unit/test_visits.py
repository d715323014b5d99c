"""The visit lifecycle in the core: each transition computes the new Visit from the old."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import fields, replace
from datetime import UTC, datetime, timedelta

import pytest

from bot.core import visits as lifecycle
from bot.core.visits import Action, EquipmentCheck, InvalidTransition, Visit, VisitStatus

NOW = datetime(2026, 11, 28, 2, 0, tzinfo=UTC)
PENDING = Visit(
    id=7,
    status=VisitStatus.PENDING,
    visitor_id=1,
    nik="3508015507900002",
    name="Ayu Lestari",
    organisation="PT Jaringan Nusantara",
    phone="081234567890",
    purpose="Pemeliharaan server",
    duration_minutes=30,
    equipment="",
    ktp_file_id="f",
    officer_id=1001,
    started_at=NOW - timedelta(minutes=10),
    submitted_at=NOW - timedelta(minutes=5),
)


def changed(change: lifecycle.Change) -> dict[str, object]:
    return {
        f.name: getattr(change.after, f.name)
        for f in fields(Visit)
        if getattr(change.before, f.name) != getattr(change.after, f.name)
    }


def test_approve_by_a_delegate_records_the_principal() -> None:
    until = NOW + timedelta(hours=1)
    change = lifecycle.approve(PENDING, 3001, NOW, until, decided_for=2001)
    assert (change.action, change.actor_id, change.at, change.before) == (
        Action.APPROVE,
        3001,
        NOW,
        PENDING,
    )
    assert changed(change) == {
        "status": VisitStatus.APPROVED,
        "decided_at": NOW,
        "decided_by": 3001,
        "decided_for": 2001,
        "valid_until": until,
    }


def test_deny_keeps_the_reason() -> None:
    change = lifecycle.deny(PENDING, 2001, NOW, "tidak terjadwal")
    assert changed(change) == {
        "status": VisitStatus.DENIED,
        "decided_at": NOW,
        "decided_by": 2001,
        "deny_reason": "tidak terjadwal",
    }


def test_the_door_steps_follow_approval() -> None:
    approved = lifecycle.approve(PENDING, 2001, NOW, NOW + timedelta(hours=1)).after
    inside = lifecycle.enter(approved, 4001, NOW + timedelta(minutes=5))
    assert changed(inside) == {
        "status": VisitStatus.INSIDE,
        "entered_at": NOW + timedelta(minutes=5),
        "entry_escort_id": 4001,
    }
    done = lifecycle.exit_(inside.after, 4002, NOW + timedelta(minutes=40))
    assert changed(done) == {
        "status": VisitStatus.DONE,
        "exited_at": NOW + timedelta(minutes=40),
        "exit_escort_id": 4002,
    }
    assert done.after.time_inside(NOW) == timedelta(minutes=35)
    expired = lifecycle.expire(approved, NOW + timedelta(hours=2))
    assert changed(expired) == {"status": VisitStatus.EXPIRED}
    assert expired.actor_id == lifecycle.SYSTEM_ACTOR


def test_cancel_keeps_who_when_and_why() -> None:
    change = lifecycle.cancel(PENDING, 1002, NOW, "pengunjung tidak datang")
    assert (change.action, change.actor_id, change.at) == (Action.CANCEL, 1002, NOW)
    assert changed(change) == {
        "status": VisitStatus.CANCELLED,
        "cancelled_at": NOW,
        "cancelled_by": 1002,
        "cancel_reason": "pengunjung tidak datang",
    }


def test_an_approved_request_not_entered_can_be_cancelled_and_keeps_its_approval() -> None:
    approved = lifecycle.approve(PENDING, 2001, NOW, NOW + timedelta(hours=1)).after
    change = lifecycle.cancel(approved, 1001, NOW + timedelta(minutes=3), "salah tanggal")
    assert changed(change) == {
        "status": VisitStatus.CANCELLED,
        "cancelled_at": NOW + timedelta(minutes=3),
        "cancelled_by": 1001,
        "cancel_reason": "salah tanggal",
    }
    assert change.after.decided_by == 2001 and change.after.valid_until is not None


def test_cancel_only_before_the_visitor_enters() -> None:
    approved = lifecycle.approve(PENDING, 2001, NOW, NOW + timedelta(hours=1)).after
    inside = lifecycle.enter(approved, 4001, NOW).after
    done = lifecycle.exit_(inside, 4001, NOW).after
    closed = [
        inside,
        done,
        lifecycle.expire(approved, NOW).after,
        lifecycle.deny(PENDING, 2001, NOW, "x").after,
        lifecycle.cancel(PENDING, 1001, NOW, "x").after,
    ]
    for visit in closed:
        assert not lifecycle.allows(Action.CANCEL, visit.status)
        with pytest.raises(InvalidTransition):
            lifecycle.cancel(visit, 1001, NOW, "x")
    assert lifecycle.allows(Action.CANCEL, VisitStatus.PENDING)
    assert lifecycle.allows(Action.CANCEL, VisitStatus.APPROVED)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("KRS-2026-00042", (2026, 42)),
        (" krs-2026-00042 ", (2026, 42)),
        ("KRS-2027-123456", (2027, 123456)),
        ("KRS-2026-42", None),
        ("KRS-26-00042", None),
        ("2026-00042", None),
        ("KRS-2026-00042x", None),
        ("", None),
    ],
)
def test_a_typed_reference_is_read_strictly(typed: str, expected: tuple[int, int] | None) -> None:
    assert lifecycle.parse_reference(typed) == expected
    if expected is not None:
        year, visit_id = expected
        at = datetime(year, 6, 1, tzinfo=UTC)
        assert lifecycle.parse_reference(lifecycle.visit_reference(visit_id, at)) == expected


@pytest.mark.parametrize(
    "step",
    [
        lambda v: lifecycle.enter(v, 4001, NOW),
        lambda v: lifecycle.exit_(v, 4001, NOW),
    ],
)
def test_a_pending_visit_cannot_skip_the_decision(
    step: Callable[[Visit], lifecycle.Change],
) -> None:
    with pytest.raises(InvalidTransition):
        step(PENDING)


def test_an_undecided_request_may_lapse_and_then_be_decided_no_more() -> None:
    """A walk-in request nobody decided by the end of its day is closed (workflow.expire)."""
    lapsed = lifecycle.expire(PENDING, NOW).after
    assert lapsed.status == VisitStatus.EXPIRED and lapsed.decided_by is None
    with pytest.raises(InvalidTransition):
        lifecycle.approve(lapsed, 2001, NOW, NOW + timedelta(hours=1))


def test_a_decided_visit_cannot_be_decided_again() -> None:
    denied = lifecycle.deny(PENDING, 2001, NOW, "x").after
    with pytest.raises(InvalidTransition):
        lifecycle.approve(denied, 2002, NOW, NOW + timedelta(hours=1))


def test_keluar_records_the_equipment_check_only_when_equipment_was_listed() -> None:
    approved = lifecycle.approve(PENDING, 2001, NOW, NOW + timedelta(hours=1)).after
    bare = lifecycle.enter(approved, 4001, NOW).after
    # Nothing listed: nothing to check, whatever a button claims.
    done = lifecycle.exit_(bare, 4001, NOW, EquipmentCheck.DIFFERS, "x").after
    assert (done.equipment_check, done.equipment_note) == (None, None)
    laptop = replace(bare, equipment="Laptop")
    with pytest.raises(InvalidTransition):
        lifecycle.exit_(laptop, 4001, NOW)  # no check
    with pytest.raises(InvalidTransition):
        lifecycle.exit_(laptop, 4001, NOW, EquipmentCheck.DIFFERS, "")  # no note
    ok = lifecycle.exit_(laptop, 4001, NOW, EquipmentCheck.MATCHES, "ignored").after
    assert (ok.equipment_check, ok.equipment_note) == (EquipmentCheck.MATCHES, None)
    diff = lifecycle.exit_(laptop, 4001, NOW, EquipmentCheck.DIFFERS, "kabel hilang").after
    assert (diff.equipment_check, diff.equipment_note) == (EquipmentCheck.DIFFERS, "kabel hilang")
