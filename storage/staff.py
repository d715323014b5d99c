"""Staff, invitations and delegations in SQLite (migrations 6, 7). Every change is audited;
removing someone, or their escort role, ends their duty (storage/duty.py) in the same step.

The config's ``[[staff]]`` list is the seed: :meth:`Staff.seed` inserts people the database does
not know yet and leaves everyone else as the admins last set them in the chat, except that
a config admin is always active and always keeps the admin role (nobody can lock the
deployment out of its own administration). Removing someone from the config does not
remove them from the database; an admin removes them with /staf.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import aiosqlite

from bot.core.roles import Role, mask_of, roles_of
from storage.audit import AuditLog
from storage.base import Database, fetch_all, fetch_one
from storage.duty import end_open_shift


@dataclass(frozen=True)
class StaffRow:
    user_id: int
    name: str
    roles: frozenset[Role]
    active: bool
    opened: bool = True  # has written to the bot at least once (False: messages cannot reach them)


@dataclass(frozen=True)
class Invitation:
    id: int
    roles: frozenset[Role]
    created_by: int
    expires_at: datetime
    claimed_by: int | None
    claimed_name: str | None
    decided: bool


def _names(roles: Iterable[Role | str]) -> str:
    """A role set as the audit log writes it, e.g. 'approver,officer'."""
    return ",".join(sorted({Role(r).value for r in roles}))


def _staff_row(row: aiosqlite.Row) -> StaffRow:
    return StaffRow(
        user_id=row["user_id"],
        name=row["name"],
        roles=roles_of(row["roles"]),
        active=bool(row["active"]),
        opened=row["opened_at"] is not None,
    )


def _invitation(row: aiosqlite.Row) -> Invitation:
    return Invitation(
        id=row["id"],
        roles=roles_of(row["roles"]),
        created_by=row["created_by"],
        expires_at=datetime.fromisoformat(row["expires_at"]),
        claimed_by=row["claimed_by"],
        claimed_name=row["claimed_name"],
        decided=row["decided_at"] is not None,
    )


def _delegation(row: aiosqlite.Row) -> Delegation:
    return Delegation(
        id=row["id"],
        approver_id=row["approver_id"],
        delegate_id=row["delegate_id"],
        starts_at=datetime.fromisoformat(row["starts_at"]),
        ends_at=datetime.fromisoformat(row["ends_at"]),
    )


@dataclass(frozen=True)
class Delegation:
    id: int
    approver_id: int
    delegate_id: int
    starts_at: datetime
    ends_at: datetime


class Staff:
    """Everyone who may use the bot, how they were invited, and who stands in for whom."""

    def __init__(self, database: Database, audit: AuditLog) -> None:
        self._database = database
        self._audit = audit

    async def all(self) -> list[StaffRow]:
        """Everyone ever added, active or not (names of former staff stay in old records)."""
        sql = "SELECT user_id, name, roles, active, opened_at FROM staff ORDER BY name, user_id"
        return [_staff_row(row) for row in await fetch_all(self._database.connection, sql)]

    async def mark_opened(self, user_id: int, now: datetime) -> bool:
        """The first update from a staff member: their chat with the bot exists now. True
        only the first time; the caller remembers it, so this is written once per person."""
        changed = await self._database.write(
            "UPDATE staff SET opened_at = ? WHERE user_id = ? AND opened_at IS NULL",
            (now.isoformat(), user_id),
        )
        return changed == 1

    async def seed(
        self, members: Iterable[tuple[int, str, frozenset[Role]]], now: datetime
    ) -> None:
        """Insert config staff the database lacks; config admins stay active admins."""
        async with self._database.transaction() as db:
            for user_id, name, roles in members:
                row = await fetch_one(
                    db, "SELECT roles, active FROM staff WHERE user_id = ?", (user_id,)
                )
                if row is None:
                    await db.execute(
                        "INSERT INTO staff (user_id, name, roles, active, added_by, added_at)"
                        " VALUES (?, ?, ?, 1, NULL, ?)",
                        (user_id, name, mask_of(roles), now.isoformat()),
                    )
                    await self._audit.append(
                        db, now, None, "staff_seeded", detail=f"{user_id}:{_names(roles)}"
                    )
                    continue
                stored, active = roles_of(row["roles"]), bool(row["active"])
                if Role.ADMIN in roles and (Role.ADMIN not in stored or not active):
                    kept = stored | {Role.ADMIN} if active else frozenset(roles)
                    await db.execute(
                        "UPDATE staff SET roles = ?, active = 1 WHERE user_id = ?",
                        (mask_of(kept), user_id),
                    )
                    await self._audit.append(
                        db, now, None, "staff_admin_restored", detail=f"{user_id}:{_names(kept)}"
                    )

    async def set_roles(
        self, user_id: int, roles: frozenset[Role], actor_id: int, now: datetime
    ) -> bool:
        """Change an active member's roles; False if they are not active staff.

        Setting the roles they already have (a double tap on a role button carries the same
        role set twice) changes and audits nothing."""
        async with self._database.transaction() as db:
            row = await fetch_one(
                db, "SELECT roles FROM staff WHERE user_id = ? AND active = 1", (user_id,)
            )
            if row is None:
                return False
            if row["roles"] == mask_of(roles):
                return True
            await db.execute(
                "UPDATE staff SET roles = ? WHERE user_id = ?", (mask_of(roles), user_id)
            )
            await self._audit.append(
                db, now, actor_id, "staff_roles", detail=f"{user_id}:{_names(roles)}"
            )
            if Role.ESCORT not in roles:  # no longer an escort: no longer on duty
                await end_open_shift(db, self._audit, user_id, actor_id, now, "role")
        return True

    async def deactivate(self, user_id: int, actor_id: int, now: datetime) -> bool:
        """Remove someone from the staff at once (the row stays for old records' names)."""
        async with self._database.transaction() as db:
            cur = await db.execute(
                "UPDATE staff SET active = 0 WHERE user_id = ? AND active = 1", (user_id,)
            )
            if cur.rowcount != 1:
                return False
            await self._audit.append(db, now, actor_id, "staff_removed", detail=str(user_id))
            await end_open_shift(db, self._audit, user_id, actor_id, now, "removed")
            await db.execute(
                "UPDATE delegations SET revoked_at = ? WHERE revoked_at IS NULL"
                " AND (approver_id = ? OR delegate_id = ?)",
                (now.isoformat(), user_id, user_id),
            )
        return True

    # --- invitations ------------------------------------------------------------------------

    async def create_invitation(
        self,
        token_hash: str,
        roles: frozenset[Role],
        admin_id: int,
        now: datetime,
        expires_at: datetime,
    ) -> int:
        async with self._database.transaction() as db:
            cur = await db.execute(
                "INSERT INTO staff_invitations (token_hash, roles, created_by, created_at,"
                " expires_at) VALUES (?, ?, ?, ?, ?)",
                (token_hash, mask_of(roles), admin_id, now.isoformat(), expires_at.isoformat()),
            )
            invitation_id = cur.lastrowid
            assert invitation_id is not None
            await self._audit.append(
                db, now, admin_id, "staff_invited", detail=f"inv{invitation_id}:{_names(roles)}"
            )
        return invitation_id

    async def claim_invitation(
        self, token_hash: str, user_id: int, name: str, now: datetime
    ) -> Invitation | None:
        """The first opening of an unexpired link claims it; any later opening gets None."""
        async with self._database.transaction() as db:
            cur = await db.execute(
                "UPDATE staff_invitations SET claimed_by = ?, claimed_name = ?, claimed_at = ?"
                " WHERE token_hash = ? AND claimed_by IS NULL AND expires_at > ?",
                (user_id, name, now.isoformat(), token_hash, now.isoformat()),
            )
            claimed = cur.rowcount == 1
            await self._audit.append(
                db, now, user_id, "invitation_opened" if claimed else "invitation_refused"
            )
        if not claimed:
            return None
        return await self._invitation("token_hash", token_hash)

    async def decide_invitation(
        self, invitation_id: int, admin_id: int, accept: bool, now: datetime
    ) -> Invitation | None:
        """The admin's one tap: on accept the claimant becomes (or again becomes) staff."""
        invitation = await self._invitation("id", invitation_id)
        if invitation is None or invitation.claimed_by is None:
            return None
        async with self._database.transaction() as db:
            cur = await db.execute(
                "UPDATE staff_invitations SET decided_at = ?, accepted = ?"
                " WHERE id = ? AND decided_at IS NULL AND claimed_by IS NOT NULL",
                (now.isoformat(), int(accept), invitation_id),
            )
            if cur.rowcount != 1:
                return None
            if accept:
                # Claiming the link meant opening the bot: their chat exists (opened_at).
                await db.execute(
                    "INSERT INTO staff (user_id, name, roles, active, added_by, added_at,"
                    " opened_at) VALUES (?, ?, ?, 1, ?, ?, ?) ON CONFLICT(user_id) DO UPDATE SET"
                    " name = excluded.name, roles = excluded.roles, active = 1,"
                    " added_by = excluded.added_by, added_at = excluded.added_at,"
                    " opened_at = COALESCE(staff.opened_at, excluded.opened_at)",
                    (
                        invitation.claimed_by,
                        invitation.claimed_name or str(invitation.claimed_by),
                        mask_of(invitation.roles),
                        admin_id,
                        now.isoformat(),
                        now.isoformat(),
                    ),
                )
            action = "staff_added" if accept else "invitation_declined"
            detail = f"inv{invitation_id}:{invitation.claimed_by}:{_names(invitation.roles)}"
            await self._audit.append(db, now, admin_id, action, detail=detail)
        return invitation

    async def _invitation(self, column: str, value: object) -> Invitation | None:
        assert column in ("id", "token_hash")
        sql = (
            "SELECT id, roles, created_by, expires_at, claimed_by, claimed_name, decided_at"
            f" FROM staff_invitations WHERE {column} = ?"
        )
        row = await fetch_one(self._database.connection, sql, (value,))
        return _invitation(row) if row else None

    # --- delegations ------------------------------------------------------------------------

    async def add_delegation(
        self, approver_id: int, delegate_id: int, starts: datetime, ends: datetime, now: datetime
    ) -> None:
        async with self._database.transaction() as db:
            await db.execute(
                "INSERT INTO delegations (approver_id, delegate_id, starts_at, ends_at,"
                " created_at) VALUES (?, ?, ?, ?, ?)",
                (approver_id, delegate_id, starts.isoformat(), ends.isoformat(), now.isoformat()),
            )
            detail = f"{delegate_id}:{starts.isoformat()}..{ends.isoformat()}"
            await self._audit.append(db, now, approver_id, "delegation_added", detail=detail)

    async def current_delegations(self, now: datetime) -> list[Delegation]:
        """Delegations not revoked and not yet over (the caller checks the start)."""
        sql = (
            "SELECT id, approver_id, delegate_id, starts_at, ends_at FROM delegations"
            " WHERE revoked_at IS NULL AND ends_at > ? ORDER BY id"
        )
        return [
            _delegation(row)
            for row in await fetch_all(self._database.connection, sql, (now.isoformat(),))
        ]

    async def void_delegation(self, delegation: Delegation, reason: str, now: datetime) -> bool:
        """End a delegation that may no longer run (its delegate is not an approver), audited
        under the approver who gave it; False if it had ended already."""
        async with self._database.transaction() as db:
            cur = await db.execute(
                "UPDATE delegations SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
                (now.isoformat(), delegation.id),
            )
            if cur.rowcount != 1:
                return False
            detail = f"{delegation.delegate_id}:{reason}"
            await self._audit.append(
                db, now, delegation.approver_id, "delegation_void", detail=detail
            )
        return True

    # --- a departing officer's open requests ------------------------------------------------

    async def open_visits_of(self, officer_id: int) -> list[int]:
        """Requests an officer registered that still need an officer: waiting for a decision,
        or approved and not yet used. (A visitor inside is the escort's to check out.)"""
        sql = (
            "SELECT id FROM visits WHERE officer_id = ? AND status IN ('pending', 'approved')"
            " ORDER BY id"
        )
        return [
            int(row["id"])
            for row in await fetch_all(self._database.connection, sql, (officer_id,))
        ]

    async def reassign_visit(
        self, visit_id: int, from_id: int, to_id: int, actor_id: int, now: datetime
    ) -> bool:
        """Move an open request to another officer (its badge and notices follow), audited;
        False if it is no longer open or no longer the departing officer's."""
        async with self._database.transaction() as db:
            cur = await db.execute(
                "UPDATE visits SET officer_id = ? WHERE id = ? AND officer_id = ?"
                " AND status IN ('pending', 'approved')",
                (to_id, visit_id, from_id),
            )
            if cur.rowcount != 1:
                return False
            # What is queued for the departing officer about this visit (a badge, a notice)
            # goes to the new one: checked only when sent, it would reach the departing
            # officer until the role change that follows the move is made.
            old, new = f":{from_id}", f":{to_id}"
            await db.execute(
                "UPDATE OR IGNORE outbox SET chat_id = ?, key = CASE"
                " WHEN substr(key, -length(?)) = ?"
                " THEN substr(key, 1, length(key) - length(?)) || ? ELSE key END"
                " WHERE visit_id = ? AND chat_id = ? AND status = 'pending' AND for_role = ?",
                (to_id, old, old, old, new, visit_id, from_id, Role.OFFICER.value),
            )
            await self._audit.append(
                db, now, actor_id, "visit_reassigned", visit_id, detail=f"{from_id}->{to_id}"
            )
        return True
