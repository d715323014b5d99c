"""The permission policy, whole: every act for every role, delegation, the config admin rule."""

from __future__ import annotations

import ast
from dataclasses import replace
from pathlib import Path

import pytest

from bot.core.policy import (
    Act,
    decides_for,
    fixed_roles,
    may,
    may_stand_in,
    opens_self_approval,
    registered,
)
from bot.core.roles import Role, StaffMember
from tests.unit.test_visits import PENDING

ROOT = Path(__file__).resolve().parents[2]
EVERYONE = frozenset(Role)

# Who may do each act today. A new Act fails test_every_act_is_decided until it is listed here.
MATRIX: dict[Act, frozenset[Role]] = {
    Act.USE_BOT: EVERYONE,
    Act.REGISTER: frozenset({Role.OFFICER}),
    Act.PLAN: frozenset({Role.OFFICER, Role.APPROVER}),
    Act.INVITE_VISITOR: frozenset({Role.OFFICER}),
    Act.CANCEL: frozenset({Role.OFFICER}),
    Act.DECIDE: frozenset({Role.APPROVER}),
    Act.RECORD_DOOR: frozenset({Role.ESCORT}),
    Act.VIEW_BADGE: EVERYONE,
    Act.USE_CODE: EVERYONE,
    Act.OVERSEE: EVERYONE,
    Act.VIEW_REPORTS: frozenset({Role.OFFICER, Role.APPROVER, Role.ADMIN}),
    Act.ADMINISTER_STAFF: frozenset({Role.ADMIN}),
    Act.DELEGATE: frozenset({Role.APPROVER}),
    Act.ROLL_CALL: EVERYONE,
    Act.WATCHLIST: frozenset({Role.APPROVER}),
    Act.TAKE_DUTY: frozenset({Role.ESCORT}),
}


def member(*roles: Role, user_id: int = 7) -> StaffMember:
    return StaffMember(user_id, "Nama", frozenset(roles))


def test_every_act_is_decided() -> None:
    assert set(MATRIX) == set(Act)


@pytest.mark.parametrize("act", list(Act))
@pytest.mark.parametrize("role", list(Role))
def test_each_role_alone(act: Act, role: Role) -> None:
    assert may(member(role), act) is (role in MATRIX[act])


@pytest.mark.parametrize("act", list(Act))
def test_roles_add_up_and_strangers_may_nothing(act: Act) -> None:
    assert may(member(*Role), act)
    assert not may(None, act)
    # Staff whose stored roles this version does not know still pass the gate, nothing more.
    assert may(member(), act) is (MATRIX[act] == EVERYONE)


def test_only_an_approver_stands_in_and_then_decides_on_behalf() -> None:
    boss, deputy = member(Role.APPROVER, user_id=1), member(Role.APPROVER, user_id=2)
    escort, officer = member(Role.ESCORT, user_id=3), member(Role.OFFICER, user_id=4)
    assert may_stand_in(deputy) and not may_stand_in(escort) and not may_stand_in(officer)
    assert not may_stand_in(None)
    # A delegation never grants the right to decide: a non-approver holding one may not.
    assert not may(escort, Act.DECIDE, acting_for=boss)
    assert not may(officer, Act.DECIDE, acting_for=boss)
    assert decides_for(escort, boss) is None
    # An approver standing in decides "a.n." the section head while the delegation runs.
    assert may(deputy, Act.DECIDE, acting_for=boss)
    assert decides_for(deputy, boss) == boss
    assert decides_for(deputy, None) is None
    assert decides_for(deputy, deputy) is None


def test_a_delegation_from_someone_who_may_not_decide_names_nobody() -> None:
    former_boss, deputy = member(Role.OFFICER, user_id=1), member(Role.APPROVER, user_id=2)
    assert decides_for(deputy, former_boss) is None


def test_never_on_behalf_of_whoever_registered_the_request() -> None:
    boss = member(Role.OFFICER, Role.APPROVER, user_id=1)
    deputy = member(Role.APPROVER, user_id=2)
    own, other = replace(PENDING, officer_id=1), replace(PENDING, officer_id=9)
    assert decides_for(deputy, boss, own) is None  # in the deputy's own name
    assert decides_for(deputy, boss, other) == boss


def test_config_admins_keep_the_admin_role_and_nothing_else_is_fixed() -> None:
    assert fixed_roles(member(Role.ADMIN, Role.ESCORT)) == {Role.ADMIN}
    assert fixed_roles(member(Role.APPROVER, Role.OFFICER)) == frozenset()
    assert fixed_roles(None) == frozenset()


def _acts_asked() -> set[str]:
    """Every ``Act.X`` named in product code outside the policy itself."""
    names: set[str] = set()
    for folder in ("bot", "handlers"):
        for path in (ROOT / folder).rglob("*.py"):
            if path == ROOT / "bot" / "core" / "policy.py":
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if (
                    isinstance(node, ast.Attribute)
                    and isinstance(node.value, ast.Name)
                    and node.value.id == "Act"
                ):
                    names.add(node.attr)
    return names


def test_every_act_is_asked_somewhere() -> None:
    """An act nothing asks about is a permission nobody enforces."""
    assert {a.name for a in Act} <= _acts_asked()


def test_four_eyes_whoever_registered_a_request_never_decides_it() -> None:
    both = member(Role.OFFICER, Role.APPROVER, user_id=5)
    own, other = replace(PENDING, officer_id=5), replace(PENDING, officer_id=6)
    assert registered(both, own) and not registered(both, other)
    assert not may(both, Act.DECIDE, own)
    assert may(both, Act.DECIDE, other)
    # Not while standing in for another approver either, and only deciding is barred: the
    # registrant may cancel it.
    boss = member(Role.APPROVER, user_id=1)
    assert not may(both, Act.DECIDE, own, acting_for=boss)
    assert may(both, Act.DECIDE, other, acting_for=boss)
    assert may(both, Act.CANCEL, own)


def test_a_grant_opening_a_self_approval_path_is_recognised() -> None:
    none, officer = frozenset(), frozenset({Role.OFFICER})
    both = frozenset({Role.OFFICER, Role.APPROVER})
    assert opens_self_approval(officer, both)
    assert opens_self_approval(none, both)  # an invitation with both roles
    assert not opens_self_approval(both, both | {Role.ESCORT})  # already held: no news
    assert not opens_self_approval(officer, officer | {Role.ESCORT})
    assert not opens_self_approval(none, frozenset({Role.APPROVER}))  # another's, alone
    admin = frozenset({Role.ADMIN})
    assert opens_self_approval(admin, admin | {Role.APPROVER}, own=True)
    assert not opens_self_approval(admin, admin | {Role.ESCORT}, own=True)
