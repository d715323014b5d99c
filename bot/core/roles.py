"""Staff roles (DESIGN.md, "The domain"): who may do what is decided from these alone.

Each role has an explicit, stable bit: the database stores a member's roles as the sum
of their bits and callback data carries role sets the same way, so a role added later
takes a new bit and never renumbers the ones already stored.
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


_BITS = {Role.OFFICER: 1, Role.APPROVER: 2, Role.ESCORT: 4, Role.ADMIN: 8}
ALL_ROLES_MASK = sum(_BITS.values())


def mask_of(roles: Iterable[Role | str]) -> int:
    """The stored form of a role set."""
    return sum(Role(r).bit for r in set(roles))


def roles_of(mask: int) -> frozenset[Role]:
    """The role set a stored mask stands for; unknown bits are ignored."""
    return frozenset(role for role in Role if mask & role.bit)


@dataclass(frozen=True)
class StaffMember:
    user_id: int
    name: str
    roles: frozenset[Role]

    def has(self, role: Role | str) -> bool:
        return role in self.roles
