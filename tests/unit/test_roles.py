"""Roles: stable bits (they are on buttons already sent) and the one way names become Roles."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bot.core.roles import ALL_ROLES_MASK, Role, StaffMember, mask_of, roles_named, roles_of

role_sets = st.frozensets(st.sampled_from(list(Role)))


def test_bits_are_the_ones_already_on_peoples_phones() -> None:
    # Before the bits were explicit, handlers/staff.py numbered roles by their place in
    # ("officer", "approver", "escort", "admin"); those masks are on buttons already sent.
    assert {r.value: r.bit for r in Role} == {"officer": 1, "approver": 2, "escort": 4, "admin": 8}


def test_bits_are_distinct_single_bits() -> None:
    bits = [r.bit for r in Role]
    assert len(set(bits)) == len(bits)
    assert all(b > 0 and b & (b - 1) == 0 for b in bits)
    assert sum(bits) == ALL_ROLES_MASK


@given(role_sets)
def test_mask_round_trip(roles: frozenset[Role]) -> None:
    assert roles_of(mask_of(roles)) == roles
    assert 0 <= mask_of(roles) <= ALL_ROLES_MASK


@given(st.integers(min_value=0, max_value=2**20))
def test_unknown_bits_grant_nothing(mask: int) -> None:
    assert roles_of(mask) == roles_of(mask & ALL_ROLES_MASK)


def test_stored_names_this_version_does_not_know_grant_nothing() -> None:
    assert roles_named(["officer", "auditor", "", "admin"]) == {Role.OFFICER, Role.ADMIN}
    assert roles_named([]) == frozenset()


def test_member_has() -> None:
    m = StaffMember(1, "A", frozenset({Role.ESCORT}))
    assert m.has(Role.ESCORT) and not m.has(Role.APPROVER)
