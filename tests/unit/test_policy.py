"""The permission policy, whole: every act for every role, delegation, the config admin rule."""

from __future__ import annotations

import ast
from dataclasses import replace
from pathlib import Path

import pytest

from bot.core.policy import Act, decides_for, fixed_roles, may, registered
from bot.core.roles import Role, StaffMember
from tests.unit.test_visits import PENDING

ROOT = Path(__file__).resolve().parents[2]
EVERYONE = frozenset(Role)

# Who may do each act today. A new Act fails test_every_act_is_decided until it is listed here.
MATRIX: dict[Act, frozenset[Role]] = {
    Act.USE_BOT: EVERYONE,
    Act.REGISTER: frozenset({Role.OFFICER}),
    Act.CANCEL: frozenset({Role.OFFICER}),
    Act.DECIDE: frozenset({Role.APPROVER}),
    Act.RECORD_DOOR: frozenset({Role.ESCORT}),
    Act.VIEW_BADGE: EVERYONE,
    Act.USE_CODE: EVERYONE,
    Act.OVERSEE: EVERYONE,
    Act.VIEW_REPORTS: frozenset({Role.OFFICER, Role.APPROVER, Role.ADMIN}),
    Act.ADMINISTER_STAFF: frozenset({Role.ADMIN}),
    Act.DELEGATE: frozenset({Role.APPROVER}),
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


def test_a_delegate_decides_while_standing_in_for_an_approver() -> None:
    boss, escort = member(Role.APPROVER, user_id=1), member(Role.ESCORT, user_id=2)
    assert not may(escort, Act.DECIDE)
    assert may(escort, Act.DECIDE, acting_for=boss)
    assert decides_for(escort, boss) == boss
    # Standing in is for decisions only: no delegating on, no reports, no staff admin.
    for act in (Act.DELEGATE, Act.VIEW_REPORTS, Act.ADMINISTER_STAFF, Act.REGISTER):
        assert not may(escort, act, acting_for=boss)


def test_a_delegation_from_someone_who_may_not_decide_grants_nothing() -> None:
    former_boss, escort = member(Role.OFFICER, user_id=1), member(Role.ESCORT, user_id=2)
    assert not may(escort, Act.DECIDE, acting_for=former_boss)
    assert decides_for(escort, former_boss) is None


def test_an_approver_decides_in_their_own_name_even_as_a_delegate() -> None:
    boss, deputy = member(Role.APPROVER, user_id=1), member(Role.APPROVER, user_id=2)
    assert may(deputy, Act.DECIDE, acting_for=boss)
    assert decides_for(deputy, boss) is None


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
    # Not as a delegate either, and only deciding is barred: the registrant may cancel it.
    officer, boss = member(Role.OFFICER, user_id=5), member(Role.APPROVER, user_id=1)
    assert not may(officer, Act.DECIDE, own, acting_for=boss)
    assert may(officer, Act.DECIDE, other, acting_for=boss)
    assert may(both, Act.CANCEL, own)
