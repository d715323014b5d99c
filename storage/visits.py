"""Visitors, visits, their badges and approval cards.

A transition arrives as a :class:`bot.core.visits.Change` computed by the core; it is
written with one guarded UPDATE of exactly the columns it changes, with its audit event,
its messages and its badge row, in one transaction.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

import aiosqlite

from bot.core.form import DECLARED
from bot.core.planning import Plan
from bot.core.visits import (
    Action,
    Change,
    EquipmentCheck,
    Visit,
    VisitDraft,
    VisitStatus,
    transition,
)
from storage.audit import AuditLog
from storage.base import Database, dt, fetch_all, fetch_one, ts
from storage.crypto import DATA_KEY_COLUMNS, Cipher
from storage.guests import GuestLinks
from storage.outbox import Outbox, OutboxItem
from storage.privacy import late_redraws

# The visitors' and visits' columns encrypted with the data key (storage/crypto.py), by the
# Visit attribute they hold (the same name); the NIK is mapped apart.
SEALED = frozenset((*DATA_KEY_COLUMNS["visitors"], *DATA_KEY_COLUMNS["visits"])) - {"nik_enc"}

# The form's answers come from the spec (bot/core/form.py): remembered ones from the visitor's
# row, the rest from the visit's, each in the column named as its Visit attribute.
_ANSWERS = ", ".join(
    [*(f"p.{c}" for c in DECLARED.visitor_columns), *(f"v.{c}" for c in DECLARED.visit_columns)]
)
VISIT_SELECT = f"""
    SELECT v.id, v.status, v.visitor_id, p.nik_enc, {_ANSWERS}, v.officer_id, v.started_at,
           v.submitted_at, v.decided_at, v.decided_by, v.decided_for, v.deny_reason,
           v.valid_until, v.entered_at, v.entry_escort_id, v.exited_at, v.exit_escort_id,
           v.form_done_at, v.handover_at,
           v.cancelled_at, v.cancelled_by, v.cancel_reason, v.watchlisted,
           v.planned_date, v.planned_window, v.arrived_at, v.checked_at,
           v.checked_by, v.equipment_check, v.equipment_note, v.self_registered,
           (SELECT json_group_array(json_array(r.started_at, e.safe_at))
              FROM roll_call_entries e JOIN roll_calls r ON r.id = e.roll_call_id
             WHERE e.visit_id = v.id) AS roll_calls
    FROM visits v JOIN visitors p ON p.id = v.visitor_id
"""
_VISITOR_SELECT = f"SELECT id, nik_enc, {', '.join(DECLARED.visitor_columns)} FROM visitors"


@dataclass(frozen=True)
class Visitor:
    id: int
    nik: str
    remembered: dict[str, Any]  # the form's remembered answers, by Visit attribute

    def __getattr__(self, attr: str) -> Any:
        """A remembered answer by its Visit attribute (``visitor.organisation``)."""
        try:
            # Through __dict__: during copy or unpickling the field may not be set yet.
            return self.__dict__["remembered"][attr]
        except KeyError:
            raise AttributeError(attr) from None


@dataclass(frozen=True)
class Card:
    visit_id: int
    chat_id: int
    message_id: int


@dataclass(frozen=True)
class BadgeHashes:
    """The keyed hashes of a new badge's token and short code (never the values)."""

    token_hash: str
    code_hash: str


def nik_of(nik_enc: str | None, cipher: Cipher) -> str:
    """The NIK decrypted; empty once the record is anonymized."""
    return cipher.decrypt_text(nik_enc) if nik_enc else ""


Opener = Callable[[str | None], str | None]


def visit_from_row(
    row: aiosqlite.Row | Mapping[str, Any],
    cipher: Cipher,
    unseal: Opener | None = None,
    unopened: Collection[str] = (),
) -> Visit:
    """Maps a row of :data:`VISIT_SELECT`, decrypting its encrypted cells with ``unseal``
    (a report passes a memoised one: a returning visitor's cells repeat).

    ``row`` may be the row's cells by column name already (a report of many rows makes
    them once per row: a Row's lookup by name scans its columns). The encrypted columns
    named in ``unopened`` are not decrypted, and read as empty: for a caller that never
    shows them (the access log has no phone and no KTP file id, storage/reports.py).
    """
    if isinstance(row, aiosqlite.Row):
        row = dict(zip(row.keys(), row, strict=True))
    unseal = unseal or cipher.unseal

    def cell(column: str) -> Any:
        if column not in SEALED:
            return row[column]
        return "" if column in unopened else unseal(row[column])

    answers: dict[str, Any] = {
        c: cell(c) for c in (*DECLARED.visitor_columns, *DECLARED.visit_columns)
    }
    nik = DECLARED.identifying.visit_attr
    answers[nik] = "" if nik in unopened else unseal(row["nik_enc"]) or ""
    return Visit(
        id=row["id"],
        status=VisitStatus(row["status"]),
        visitor_id=row["visitor_id"],
        **answers,
        officer_id=row["officer_id"],
        started_at=datetime.fromisoformat(row["started_at"]),
        submitted_at=datetime.fromisoformat(row["submitted_at"]),
        form_done_at=dt(row["form_done_at"]),
        handover_at=dt(row["handover_at"]),
        decided_at=dt(row["decided_at"]),
        decided_by=row["decided_by"],
        decided_for=row["decided_for"],
        deny_reason=cell("deny_reason"),
        valid_until=dt(row["valid_until"]),
        entered_at=dt(row["entered_at"]),
        entry_escort_id=row["entry_escort_id"],
        exited_at=dt(row["exited_at"]),
        exit_escort_id=row["exit_escort_id"],
        cancelled_at=dt(row["cancelled_at"]),
        cancelled_by=row["cancelled_by"],
        cancel_reason=cell("cancel_reason"),
        roll_calls=_roll_calls(row["roll_calls"]),
        watchlisted=bool(row["watchlisted"]),
        plan=_plan(row["planned_date"], row["planned_window"]),
        self_registered=bool(row["self_registered"]),
        arrived_at=dt(row["arrived_at"]),
        checked_at=dt(row["checked_at"]),
        checked_by=row["checked_by"],
        equipment_check=EquipmentCheck(row["equipment_check"]) if row["equipment_check"] else None,
        equipment_note=cell("equipment_note"),
    )


def _plan(day: str | None, window: str | None) -> Plan | None:
    return Plan.of(day, window) if day and window else None


def _roll_calls(cell: str | None) -> tuple[tuple[datetime, datetime | None], ...]:
    """The roll calls' [start, safe] pairs of VISIT_SELECT's json_group_array."""
    pairs = json.loads(cell) if cell else []
    found = [(datetime.fromisoformat(start), dt(safe)) for start, safe in pairs]
    return tuple(sorted(found, key=lambda pair: pair[0]))


def _marks(count: int) -> str:
    return ", ".join("?" * count)


def _same(value: object) -> object:
    return value


def _status(value: object) -> object:
    assert isinstance(value, VisitStatus)
    return value.value


def _check(value: object) -> object:
    assert value is None or isinstance(value, EquipmentCheck)
    return value.value if value is not None else None


def _time(value: object) -> object:
    assert value is None or isinstance(value, datetime)
    return ts(value)


# The Visit fields a transition may change, each with how it is stored (same column name).
_TRANSITION_COLUMNS: dict[str, Callable[[object], object]] = {
    "status": _status,
    "decided_at": _time,
    "decided_by": _same,
    "decided_for": _same,
    "deny_reason": _same,
    "valid_until": _time,
    "entered_at": _time,
    "entry_escort_id": _same,
    "exited_at": _time,
    "exit_escort_id": _same,
    "cancelled_at": _time,
    "cancelled_by": _same,
    "cancel_reason": _same,
    # A planned visit's arrival: the KTP photo comes on the day (sealed: storage/crypto.py).
    "ktp_file_id": _same,
    "arrived_at": _time,
    "checked_at": _time,
    "checked_by": _same,
    "equipment_check": _check,
    "equipment_note": _same,
}
_FIXED = frozenset(f.name for f in fields(Visit)) - _TRANSITION_COLUMNS.keys()

# The audit action of a request whose NIK is on the watchlist (detail: the entry id).
WATCHLIST_MATCH = "watchlist_match"

# After these the badge admits nobody (check-out, expiry, a cancelled request).
_BADGE_DIES = frozenset({Action.EXIT, Action.EXPIRE, Action.CANCEL})


class Visits:
    def __init__(self, database: Database, audit: AuditLog, outbox: Outbox) -> None:
        self._database = database
        self._audit = audit
        self._outbox = outbox

    @property
    def _cipher(self) -> Cipher:
        return self._database.cipher

    def _stored(self, column: str, value: object) -> object:
        """A value as its column keeps it: encrypted if the column is in SEALED."""
        if column in SEALED:
            assert value is None or isinstance(value, str)
            return self._cipher.seal(value)
        return value

    async def find_visitor(self, nik: str) -> Visitor | None:
        row = await fetch_one(
            self._database.connection,
            _VISITOR_SELECT + " WHERE nik_hash = ?",
            (self._cipher.nik_hash(nik),),
        )
        if row is None:
            return None
        remembered = {
            column: self._cipher.unseal(row[column]) if column in SEALED else row[column]
            for column in DECLARED.visitor_columns
        }
        return Visitor(row["id"], nik_of(row["nik_enc"], self._cipher), remembered)

    async def submit(
        self,
        draft: VisitDraft,
        officer_id: int,
        now: datetime,
        messages: Sequence[OutboxItem] = (),
        watchlisted: int | None = None,
        guest_link: int | None = None,
    ) -> Visit:
        """Store the visitor (updating a returning one) and a PENDING visit, audited.

        ``messages`` (the approval cards) are queued in the same transaction.
        ``watchlisted``: the id of the watchlist entry the NIK matched; the visit is marked
        and the match is its own audit event, in the same transaction.
        ``guest_link``: the self-registration link the visitor filled it in through; it is
        used up in the same transaction, and if it was used or expired meanwhile nothing is
        stored (storage.guests.LinkGone).
        """
        status = transition(Action.SUBMIT, None)
        async with self._database.transaction() as db:
            if draft.submission_key is not None:
                stored = await fetch_one(
                    db, "SELECT id FROM visits WHERE submission_key = ?", (draft.submission_key,)
                )
                if stored is not None:  # this very form, submitted before: nothing new
                    found = await self._get(db, stored["id"])
                    assert found is not None
                    return found
            nik_hash = self._cipher.nik_hash(draft.nik)
            visitor = DECLARED.visitor_columns
            await db.execute(
                f"INSERT INTO visitors (nik_hash, nik_enc, {', '.join(visitor)}, created_at,"
                f" updated_at) VALUES ({_marks(len(visitor) + 4)}) ON CONFLICT(nik_hash) DO"
                f" UPDATE SET {''.join(f'{c} = excluded.{c}, ' for c in visitor)}"
                " updated_at = excluded.updated_at",
                (
                    nik_hash,
                    self._cipher.encrypt_text(draft.nik),
                    *(self._stored(column, getattr(draft, column)) for column in visitor),
                    ts(now),
                    ts(now),
                ),
            )
            row = await fetch_one(db, "SELECT id FROM visitors WHERE nik_hash = ?", (nik_hash,))
            assert row is not None
            answers = DECLARED.visit_columns
            plan = draft.plan
            cur2 = await db.execute(
                f"INSERT INTO visits (visitor_id, status, {', '.join(answers)}, officer_id,"
                " started_at, form_done_at, submitted_at, watchlisted, planned_date,"
                " planned_window, self_registered, submission_key)"
                f" VALUES ({_marks(len(answers) + 11)})",
                (
                    row["id"],
                    status.value,
                    *(self._stored(column, getattr(draft, column)) for column in answers),
                    officer_id,
                    ts(draft.started_at),
                    ts(draft.form_done_at),
                    ts(now),
                    int(watchlisted is not None),
                    plan.day.isoformat() if plan else None,
                    plan.window if plan else None,
                    int(guest_link is not None),
                    draft.submission_key,
                ),
            )
            visit_id = cur2.lastrowid
            assert visit_id is not None
            if guest_link is not None:
                await GuestLinks(self._database, self._audit).claim(db, guest_link, visit_id, now)
            await self._audit.append(db, now, officer_id, Action.SUBMIT, visit_id, None, status)
            if watchlisted is not None:
                await self._audit.append(
                    db, now, officer_id, WATCHLIST_MATCH, visit_id, detail=str(watchlisted)
                )
            await self._outbox.enqueue(db, messages, now, visit_id)
            visit = await self._get(db, visit_id)
        assert visit is not None
        return visit

    async def apply(
        self,
        change: Change,
        messages: Sequence[OutboxItem] = (),
        badge: BadgeHashes | None = None,
        detail: str = "",
    ) -> Visit | None:
        """Persist a transition if the visit is still where ``change.before`` saw it: the
        same status and the same person (an erasure or the retention purge moves a visit to
        an anonymous visitor row, and a change drawn from the visit before it, such as an
        approval whose badge carries the erased name, must not land after it).

        One transaction: the guarded UPDATE of the columns that differ, its audit event,
        the messages it causes and the badge issued or revoked. Returns the stored visit,
        or None when someone else moved it first (a second approver, a double tap).
        ``detail`` is the audit event's short note (never personal data).
        """
        before, after = change.before, change.after
        if before.id != after.id or any(
            getattr(before, name) != getattr(after, name) for name in _FIXED
        ):
            raise ValueError("a transition changes only the visit's decision and step fields")
        changed = {
            name: self._stored(name, encode(getattr(after, name)))
            for name, encode in _TRANSITION_COLUMNS.items()
            if getattr(before, name) != getattr(after, name)
        }
        assignments = ", ".join(f"{name} = ?" for name in changed)
        # No one goes in while an evacuation roll call runs (workflow.enter refuses it first;
        # this closes the moment between that check and the write: a roll call started in
        # it lists everyone inside when it commits, so an entry after it must not happen).
        closed = " AND NOT EXISTS (SELECT 1 FROM roll_calls WHERE ended_at IS NULL)"
        guard = closed if change.action == Action.ENTER else ""
        async with self._database.transaction() as db:
            won = (
                await fetch_one(
                    db,
                    f"UPDATE visits SET {assignments} WHERE id = ? AND status = ?"
                    f" AND visitor_id = ?{guard} RETURNING id",
                    (*changed.values(), before.id, before.status.value, before.visitor_id),
                )
                is not None
            )
            if not won:
                return None
            await self._audit.append(
                db,
                change.at,
                change.actor_id,
                change.action,
                before.id,
                before.status,
                after.status,
                detail=detail,
            )
            if after.decided_for is not None and before.decided_for != after.decided_for:
                # Kept as its own event: the audit trail has always named the principal.
                await self._audit.append(
                    db,
                    change.at,
                    change.actor_id,
                    "decided_on_behalf",
                    before.id,
                    detail=str(after.decided_for),
                )
            if after.equipment_check == EquipmentCheck.DIFFERS != before.equipment_check:
                # Its own event, so the review finds it; the note stays in the visit (encrypted).
                await self._audit.append(
                    db, change.at, change.actor_id, "equipment_discrepancy", before.id
                )
            await self._outbox.enqueue(db, messages, change.at, before.id)
            if badge is not None:
                assert after.valid_until is not None
                await db.execute(
                    "INSERT INTO badges (visit_id, token_hash, code_hash, issued_at, expires_at)"
                    " VALUES (?, ?, ?, ?, ?)",
                    (
                        before.id,
                        badge.token_hash,
                        badge.code_hash,
                        ts(change.at),
                        ts(after.valid_until),
                    ),
                )
            if change.action in _BADGE_DIES:
                await db.execute(
                    "UPDATE badges SET revoked_at = ? WHERE visit_id = ? AND revoked_at IS NULL",
                    (ts(change.at), before.id),
                )
            stored = await self._get(db, before.id)
        assert stored is not None
        return stored

    async def late_discrepancy(
        self,
        visit_id: int,
        note: str,
        escort_id: int,
        now: datetime,
        messages: Sequence[OutboxItem],
    ) -> bool:
        """A discrepancy note from an escort whose KELUAR another escort recorded first, as
        "perangkat sesuai": the visit keeps its exit and now shows the discrepancy with the
        note, audited as one (detail "late"), with the messages that tell of it, in one
        transaction. False (nothing changed) unless the visit is done and was recorded as
        matching."""
        async with self._database.transaction() as db:
            cursor = await db.execute(
                "UPDATE visits SET equipment_check = ?, equipment_note = ?"
                " WHERE id = ? AND status = ? AND equipment_check = ?",
                (
                    EquipmentCheck.DIFFERS.value,
                    self._stored("equipment_note", note),
                    visit_id,
                    VisitStatus.DONE.value,
                    EquipmentCheck.MATCHES.value,
                ),
            )
            if cursor.rowcount != 1:
                return False
            await self._audit.append(
                db, now, escort_id, "equipment_discrepancy", visit_id, detail="late"
            )
            await self._outbox.enqueue(db, messages, now, visit_id)
        return True

    async def reissue_badge(
        self,
        visit_id: int,
        badge: BadgeHashes,
        messages: Sequence[OutboxItem],
        now: datetime,
        officer_id: int,
    ) -> bool:
        """A new token and code for the badge of an approved visit nobody has entered on,
        with the messages that carry it (to ``officer_id``), audited, in one transaction:
        the old badge image never reached its officer, and its token and code open nothing
        from now on. False (nothing changed) when the visit no longer waits at the door, its
        badge is void, or it was handed to another officer meanwhile."""
        async with self._database.transaction() as db:
            cursor = await db.execute(
                "UPDATE badges SET token_hash = ?, code_hash = ?, issued_at = ?"
                " WHERE visit_id = ? AND revoked_at IS NULL AND EXISTS (SELECT 1 FROM visits"
                " WHERE id = ? AND status = ? AND entered_at IS NULL"
                " AND COALESCE(checked_by, officer_id) = ?)",
                (
                    badge.token_hash,
                    badge.code_hash,
                    ts(now),
                    visit_id,
                    visit_id,
                    VisitStatus.APPROVED.value,
                    officer_id,
                ),
            )
            if cursor.rowcount != 1:
                return False
            await self._audit.append(db, now, officer_id, "badge_reissued", visit_id)
            await self._outbox.enqueue(db, messages, now, visit_id)
        return True

    async def get(self, visit_id: int) -> Visit | None:
        row = await self._database.read_one(VISIT_SELECT + " WHERE v.id = ?", (visit_id,))
        return visit_from_row(row, self._cipher) if row else None

    async def _get(self, db: aiosqlite.Connection, visit_id: int) -> Visit | None:
        row = await fetch_one(db, VISIT_SELECT + " WHERE v.id = ?", (visit_id,))
        return visit_from_row(row, self._cipher) if row else None

    async def with_status(self, *statuses: VisitStatus) -> list[Visit]:
        """Visits in any of ``statuses``, oldest first."""
        marks = ", ".join("?" * len(statuses))
        return [
            visit_from_row(row, self._cipher)
            for row in await fetch_all(
                self._database.connection,
                VISIT_SELECT + f" WHERE v.status IN ({marks}) ORDER BY v.id",
                tuple(status.value for status in statuses),
            )
        ]

    async def badge_visit(self, column: str, value_hash: str) -> int | None:
        """The visit id for a token or code hash; column is 'token' or 'code'."""
        if column not in ("token", "code"):
            raise ValueError(column)
        row = await fetch_one(
            self._database.connection,
            f"SELECT visit_id FROM badges WHERE {column}_hash = ?",
            (value_hash,),
        )
        return int(row["visit_id"]) if row else None

    async def card_delivered(
        self,
        item_id: int,
        visit_id: int,
        chat_id: int,
        message_id: int,
        now: datetime,
        sent_at: float,
    ) -> None:
        """A section head's card reached them: its outbox item is marked sent, the card is
        recorded (later decisions edit it) and the handover time kept, in one transaction.
        Apart, a crash between the two left a delivered card no decision could edit, its
        Setujui live for good."""
        await self._database.write_all(
            [
                self._outbox.marked_sent(item_id, chat_id, sent_at, message_id),
                # A card delivered as the visit's KTP photo was deleted or its person erased:
                # the redraw forget() could not queue for a card it had no record of.
                *late_redraws(self._cipher, visit_id, chat_id, message_id, "card", now),
                (
                    "INSERT OR REPLACE INTO approval_cards (visit_id, chat_id, message_id)"
                    " VALUES (?, ?, ?)",
                    (visit_id, chat_id, message_id),
                ),
                (
                    "UPDATE visits SET handover_at = ? WHERE id = ? AND handover_at IS NULL",
                    (ts(now), visit_id),
                ),
            ]
        )

    async def cards(self, visit_id: int) -> list[Card]:
        rows = await self._database.read(
            "SELECT visit_id, chat_id, message_id FROM approval_cards WHERE visit_id = ?",
            (visit_id,),
        )
        return [Card(row["visit_id"], row["chat_id"], row["message_id"]) for row in rows]
