"""Staff, invitations and delegations in SQLite (migration 6). Every change is audited.

The config's ``[[staff]]`` list is the seed: :func:`seed` inserts people the database does
not know yet and leaves everyone else as the admins last set them in the chat, except that
a config admin is always active and always keeps the admin role (nobody can lock the
deployment out of its own administration). Removing someone from the config does not
remove them from the database; an admin removes them with /staf.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from bot.core.roles import Role

if TYPE_CHECKING:
    from storage.db import Storage

MIGRATION = """
CREATE TABLE staff (
    user_id  INTEGER PRIMARY KEY,
    name     TEXT NOT NULL,
    roles    TEXT NOT NULL,           -- comma-separated, e.g. 'approver,officer'
    active   INTEGER NOT NULL DEFAULT 1,
    added_by INTEGER,
    added_at TEXT NOT NULL
);
CREATE TABLE staff_invitations (
    id           INTEGER PRIMARY KEY,
    token_hash   TEXT NOT NULL UNIQUE,
    roles        TEXT NOT NULL,
    created_by   INTEGER NOT NULL,
    created_at   TEXT NOT NULL,
    expires_at   TEXT NOT NULL,
    claimed_by   INTEGER,             -- who opened the link (once; the link dies then)
    claimed_name TEXT,
    claimed_at   TEXT,
    decided_at   TEXT,                -- the admin's confirm or refusal
    accepted     INTEGER
);
CREATE TABLE delegations (
    id           INTEGER PRIMARY KEY,
    approver_id  INTEGER NOT NULL,
    delegate_id  INTEGER NOT NULL,
    starts_at    TEXT NOT NULL,
    ends_at      TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    revoked_at   TEXT
);
CREATE INDEX delegations_delegate ON delegations(delegate_id, ends_at);
ALTER TABLE visits ADD COLUMN decided_for INTEGER;
"""


@dataclass(frozen=True)
class StaffRow:
    user_id: int
    name: str
    roles: frozenset[str]
    active: bool


@dataclass(frozen=True)
class Invitation:
    id: int
    roles: frozenset[str]
    created_by: int
    expires_at: datetime
    claimed_by: int | None
    claimed_name: str | None
    decided: bool


def _roles(text: str) -> frozenset[str]:
    return frozenset(r for r in text.split(",") if r)


def _text(roles: Iterable[str]) -> str:
    return ",".join(sorted(roles))


async def all_staff(store: Storage) -> list[StaffRow]:
    """Everyone ever added, active or not (names of former staff stay in old records)."""
    sql = "SELECT user_id, name, roles, active FROM staff ORDER BY name, user_id"
    async with store.connection.execute(sql) as cur:
        rows = await cur.fetchall()
    return [StaffRow(r[0], r[1], _roles(r[2]), bool(r[3])) for r in rows]


async def seed(
    store: Storage, members: Iterable[tuple[int, str, frozenset[str]]], now: datetime
) -> None:
    """Insert config staff the database lacks; config admins stay active admins."""
    async with store.transaction() as db:
        for user_id, name, roles in members:
            async with db.execute(
                "SELECT roles, active FROM staff WHERE user_id = ?", (user_id,)
            ) as cur:
                row = await cur.fetchone()
            if row is None:
                await db.execute(
                    "INSERT INTO staff (user_id, name, roles, active, added_by, added_at)"
                    " VALUES (?, ?, ?, 1, NULL, ?)",
                    (user_id, name, _text(roles), now.isoformat()),
                )
                await store._audit(
                    db, now, None, "staff_seeded", detail=f"{user_id}:{_text(roles)}"
                )
            elif Role.ADMIN in roles and (Role.ADMIN not in _roles(row[0]) or not row[1]):
                kept = _roles(row[0]) | {Role.ADMIN} if row[1] else frozenset(roles)
                await db.execute(
                    "UPDATE staff SET roles = ?, active = 1 WHERE user_id = ?",
                    (_text(kept), user_id),
                )
                await store._audit(
                    db, now, None, "staff_admin_restored", detail=f"{user_id}:{_text(kept)}"
                )


async def set_roles(
    store: Storage, user_id: int, roles: frozenset[str], actor_id: int, now: datetime
) -> bool:
    """Change an active member's roles; False if they are not active staff."""
    async with store.transaction() as db:
        cur = await db.execute(
            "UPDATE staff SET roles = ? WHERE user_id = ? AND active = 1",
            (_text(roles), user_id),
        )
        if cur.rowcount != 1:
            return False
        await store._audit(db, now, actor_id, "staff_roles", detail=f"{user_id}:{_text(roles)}")
    return True


async def deactivate(store: Storage, user_id: int, actor_id: int, now: datetime) -> bool:
    """Remove someone from the staff at once (the row stays for old records' names)."""
    async with store.transaction() as db:
        cur = await db.execute(
            "UPDATE staff SET active = 0 WHERE user_id = ? AND active = 1", (user_id,)
        )
        if cur.rowcount != 1:
            return False
        await store._audit(db, now, actor_id, "staff_removed", detail=str(user_id))
        await db.execute(
            "UPDATE delegations SET revoked_at = ? WHERE revoked_at IS NULL"
            " AND (approver_id = ? OR delegate_id = ?)",
            (now.isoformat(), user_id, user_id),
        )
    return True


# --- invitations ----------------------------------------------------------------------------


async def create_invitation(
    store: Storage,
    token_hash: str,
    roles: frozenset[str],
    admin_id: int,
    now: datetime,
    expires_at: datetime,
) -> int:
    async with store.transaction() as db:
        cur = await db.execute(
            "INSERT INTO staff_invitations (token_hash, roles, created_by, created_at, expires_at)"
            " VALUES (?, ?, ?, ?, ?)",
            (token_hash, _text(roles), admin_id, now.isoformat(), expires_at.isoformat()),
        )
        invitation_id = cur.lastrowid
        assert invitation_id is not None
        await store._audit(
            db, now, admin_id, "staff_invited", detail=f"inv{invitation_id}:{_text(roles)}"
        )
    return invitation_id


async def claim_invitation(
    store: Storage, token_hash: str, user_id: int, name: str, now: datetime
) -> Invitation | None:
    """The first opening of an unexpired link claims it; any later opening gets None."""
    async with store.transaction() as db:
        cur = await db.execute(
            "UPDATE staff_invitations SET claimed_by = ?, claimed_name = ?, claimed_at = ?"
            " WHERE token_hash = ? AND claimed_by IS NULL AND expires_at > ?",
            (user_id, name, now.isoformat(), token_hash, now.isoformat()),
        )
        claimed = cur.rowcount == 1
        await store._audit(
            db, now, user_id, "invitation_opened" if claimed else "invitation_refused"
        )
    if not claimed:
        return None
    return await _invitation(store, "token_hash", token_hash)


async def decide_invitation(
    store: Storage, invitation_id: int, admin_id: int, accept: bool, now: datetime
) -> Invitation | None:
    """The admin's one tap: on accept the claimant becomes (or again becomes) staff."""
    invitation = await _invitation(store, "id", invitation_id)
    if invitation is None or invitation.claimed_by is None:
        return None
    async with store.transaction() as db:
        cur = await db.execute(
            "UPDATE staff_invitations SET decided_at = ?, accepted = ?"
            " WHERE id = ? AND decided_at IS NULL AND claimed_by IS NOT NULL",
            (now.isoformat(), int(accept), invitation_id),
        )
        if cur.rowcount != 1:
            return None
        if accept:
            await db.execute(
                "INSERT INTO staff (user_id, name, roles, active, added_by, added_at)"
                " VALUES (?, ?, ?, 1, ?, ?) ON CONFLICT(user_id) DO UPDATE SET"
                " name = excluded.name, roles = excluded.roles, active = 1,"
                " added_by = excluded.added_by, added_at = excluded.added_at",
                (
                    invitation.claimed_by,
                    invitation.claimed_name or str(invitation.claimed_by),
                    _text(invitation.roles),
                    admin_id,
                    now.isoformat(),
                ),
            )
        action = "staff_added" if accept else "invitation_declined"
        detail = f"inv{invitation_id}:{invitation.claimed_by}:{_text(invitation.roles)}"
        await store._audit(db, now, admin_id, action, detail=detail)
    return invitation


async def _invitation(store: Storage, column: str, value: object) -> Invitation | None:
    assert column in ("id", "token_hash")
    sql = (
        "SELECT id, roles, created_by, expires_at, claimed_by, claimed_name, decided_at"
        f" FROM staff_invitations WHERE {column} = ?"
    )
    async with store.connection.execute(sql, (value,)) as cur:
        row = await cur.fetchone()
    if row is None:
        return None
    return Invitation(
        row[0],
        _roles(row[1]),
        row[2],
        datetime.fromisoformat(row[3]),
        row[4],
        row[5],
        row[6] is not None,
    )


# --- delegations ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Delegation:
    approver_id: int
    delegate_id: int
    starts_at: datetime
    ends_at: datetime


async def add_delegation(
    store: Storage,
    approver_id: int,
    delegate_id: int,
    starts: datetime,
    ends: datetime,
    now: datetime,
) -> None:
    async with store.transaction() as db:
        await db.execute(
            "INSERT INTO delegations (approver_id, delegate_id, starts_at, ends_at, created_at)"
            " VALUES (?, ?, ?, ?, ?)",
            (approver_id, delegate_id, starts.isoformat(), ends.isoformat(), now.isoformat()),
        )
        detail = f"{delegate_id}:{starts.isoformat()}..{ends.isoformat()}"
        await store._audit(db, now, approver_id, "delegation_added", detail=detail)


async def current_delegations(store: Storage, now: datetime) -> list[Delegation]:
    """Delegations not revoked and not yet over (the caller checks the start)."""
    sql = (
        "SELECT approver_id, delegate_id, starts_at, ends_at FROM delegations"
        " WHERE revoked_at IS NULL AND ends_at > ? ORDER BY id"
    )
    async with store.connection.execute(sql, (now.isoformat(),)) as cur:
        rows = await cur.fetchall()
    return [
        Delegation(r[0], r[1], datetime.fromisoformat(r[2]), datetime.fromisoformat(r[3]))
        for r in rows
    ]


async def record_on_behalf(
    store: Storage, visit_id: int, delegate_id: int, approver_id: int, now: datetime
) -> None:
    """A delegate's decision: keep whose behalf it was taken on (visits.decided_for)."""
    async with store.transaction() as db:
        await db.execute(
            "UPDATE visits SET decided_for = ? WHERE id = ? AND decided_by = ?",
            (approver_id, visit_id, delegate_id),
        )
        await store._audit(
            db, now, delegate_id, "decided_on_behalf", visit_id, detail=str(approver_id)
        )


async def decided_for(store: Storage, visit_id: int) -> int | None:
    async with store.connection.execute(
        "SELECT decided_for FROM visits WHERE id = ?", (visit_id,)
    ) as cur:
        row = await cur.fetchone()
    return row[0] if row else None
