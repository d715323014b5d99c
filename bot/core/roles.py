"""Staff roles (DESIGN.md, "The domain"): who may do what is decided from these alone.

Each role has an explicit, stable bit: callback data carries a role set as the sum of
its bits (and the database may store it the same way), so a role added later takes a
new bit and never renumbers the ones already on people's phones. What each role allows
is bot/core/policy.py's business, not this module's.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass


class Role(enum.StrEnum):
    OFFICER = "officer"  # petugas: registers visitors
    APPROVER = "approver"  # kepala seksi (and delegates): decides requests
    ESCORT = "escort"  # pendamping: records entry and exit at the door
    ADMIN = "admin"  # administers staff

    @property
    def bit(self) -> int:
        return _BITS[self]


# Never renumber: the bits are on buttons already sent. A new role takes the next free bit.
_BITS = {Role.OFFICER: 1, Role.APPROVER: 2, Role.ESCORT: 4, Role.ADMIN: 8}
ALL_ROLES_MASK = sum(_BITS.values())


def mask_of(roles: Iterable[Role]) -> int:
    """The stored form of a role set."""
    return sum(role.bit for role in set(roles))


def roles_of(mask: int) -> frozenset[Role]:
    """The role set a stored mask stands for; unknown bits are ignored."""
    return frozenset(role for role in Role if mask & role.bit)


def role_named(name: str) -> Role | None:
    """The role a config file or a database row names, or None for a name we do not know."""
    try:
        return Role(name)
    except ValueError:
        return None


def roles_named(names: Iterable[str]) -> frozenset[Role]:
    """A stored role set; a name this version does not know (a newer one's) grants nothing."""
    return frozenset(role for name in names if (role := role_named(name)) is not None)


@dataclass(frozen=True)
class StaffMember:
    user_id: int
    name: str
    roles: frozenset[Role]

    def has(self, role: Role) -> bool:
        return role in self.roles
