"""Storage on a real aiosqlite database: guarded transitions, audit chain, migrations."""

from __future__ import annotations

import asyncio
import sqlite3
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.core import visits as lifecycle
from bot.core.roles import Role, mask_of, roles_named, roles_of
from bot.core.visits import EquipmentCheck, InvalidTransition, Visit, VisitDraft, VisitStatus
from storage.audit import GENESIS_HASH, keyed_hash
from storage.crypto import Cipher
from storage.db import Storage
from storage.migrations import MIGRATIONS
from storage.outbox import OutboxItem
from storage.visits import BadgeHashes
from tests.conftest import AUDIT_KEY, KEY

NOW = datetime(2026, 11, 28, 2, 0, tzinfo=UTC)
CIPHER = Cipher(KEY)
DRAFT = VisitDraft(
    nik="3508015507900002",
    name="Ayu Lestari",
    organisation="PT Jaringan Nusantara",
    phone="081234567890",
    purpose="Pemeliharaan server",
    duration_minutes=30,
    equipment="Laptop",
    ktp_file_id="file-1",
    started_at=NOW - timedelta(minutes=12),
    form_done_at=NOW - timedelta(minutes=3),
)

LETTER_DRAFT = replace(DRAFT, assignment_letter="090/123/ST/XI/2026")


async def approve(
    store: Storage, visit: Visit, approver: int, token: str = "t", decided_for: int | None = None
) -> Visit | None:
    change = lifecycle.approve(visit, approver, NOW, NOW + timedelta(hours=1), decided_for)
    return await store.visits.apply(change, badge=BadgeHashes(token, f"c-{token}"))


async def deny(store: Storage, visit: Visit, approver: int, reason: str) -> Visit | None:
    return await store.visits.apply(lifecycle.deny(visit, approver, NOW, reason))


@pytest.fixture
async def store(tmp_path: Path):
    storage = await Storage.open(tmp_path / "t.sqlite3", CIPHER, AUDIT_KEY)
    yield storage
    await storage.close()


async def test_submit_stores_visitor_and_pending_visit(store: Storage) -> None:
    visit = await store.visits.submit(DRAFT, 1001, NOW)
    assert visit.status == VisitStatus.PENDING
    assert visit.reference == f"KRS-2026-{visit.id:05d}"
    assert visit.form_done_at == NOW - timedelta(minutes=3) and visit.handover_at is None
    known = await store.visits.find_visitor(DRAFT.nik)
    assert known is not None and known.name == "Ayu Lestari"
    # A returning visitor is the same row, updated.
    again = await store.visits.submit(
        VisitDraft(**{**DRAFT.__dict__, "organisation": "PT Baru"}), 1001, NOW
    )
    assert again.visitor_id == visit.visitor_id
    assert (await store.visits.find_visitor(DRAFT.nik)).organisation == "PT Baru"  # type: ignore[union-attr]


async def test_the_same_form_submitted_again_stores_nothing_new(store: Storage) -> None:
    """A submit handled again after a crash (its update replayed) finds the request the
    first one stored: no second visit, card or audit event."""
    keyed = replace(DRAFT, submission_key="f" * 32)
    card = [OutboxItem("card:{visit}:2001", "card", 2001)]
    first = await store.visits.submit(keyed, 1001, NOW, messages=card)
    again = await store.visits.submit(keyed, 1001, NOW + timedelta(seconds=5), messages=card)
    assert again == first
    async with store.database.connection.execute(
        "SELECT (SELECT COUNT(*) FROM visits), (SELECT COUNT(*) FROM outbox),"
        " (SELECT COUNT(*) FROM audit_events)"
    ) as cur:
        assert tuple(await cur.fetchone()) == (1, 1, 1)
    other = await store.visits.submit(replace(DRAFT, submission_key="e" * 32), 1001, NOW)
    assert other.id != first.id  # another form is another request
    unkeyed = await store.visits.submit(DRAFT, 1001, NOW)  # a form saved before keys
    assert unkeyed.id not in (first.id, other.id)


async def test_two_approvers_at_once_yield_one_decision(store: Storage) -> None:
    visit = await store.visits.submit(DRAFT, 1001, NOW)
    results = await asyncio.gather(
        approve(store, visit, 2001, "t1"),
        deny(store, visit, 2002, "tidak terjadwal"),
        approve(store, visit, 2002, "t2"),
    )
    assert sum(r is not None for r in results) == 1
    events = await store.audit.events(visit.id)
    assert [e.action for e in events].count("approve") + [e.action for e in events].count(
        "deny"
    ) == 1


async def test_transitions_are_guarded(store: Storage) -> None:
    visit = await store.visits.submit(DRAFT, 1001, NOW)
    with pytest.raises(InvalidTransition):
        lifecycle.enter(visit, 3001, NOW)  # not approved yet
    approved = await approve(store, visit, 2001)
    assert approved is not None and approved.status == VisitStatus.APPROVED
    assert await approve(store, visit, 2002, "t2") is None  # a stale view loses
    with pytest.raises(InvalidTransition):
        lifecycle.exit_(approved, 3001, NOW)  # not inside yet
    entering = lifecycle.enter(approved, 3001, NOW)
    inside = await store.visits.apply(entering)
    assert inside is not None and inside.entry_escort_id == 3001
    assert await store.visits.apply(entering) is None  # double tap
    with pytest.raises(InvalidTransition):
        lifecycle.exit_(inside, 3001, NOW)  # equipment was listed: the escort must check it
    note = "Hard disk 2 TB tidak dibawa keluar"
    leaving = lifecycle.exit_(
        inside, 3001, NOW + timedelta(minutes=20), EquipmentCheck.DIFFERS, note
    )
    assert await store.visits.apply(leaving) is not None
    assert await store.visits.apply(leaving) is None
    done = await store.visits.get(visit.id)
    assert done is not None and done.status == VisitStatus.DONE
    assert (done.equipment_check, done.equipment_note) == (EquipmentCheck.DIFFERS, note)
    async with store.connection.execute(
        "SELECT equipment_check, equipment_note FROM visits"
    ) as cur:
        row = await cur.fetchone()
    assert row["equipment_check"] == "diff" and "Hard disk" not in row["equipment_note"]
    actions = [e.action for e in await store.audit.events(visit.id)]
    assert actions.count("equipment_discrepancy") == 1
    assert done.time_inside(NOW) == timedelta(minutes=20)
    assert await store.visits.badge_visit("token", "t") == visit.id
    async with store.connection.execute("SELECT revoked_at FROM badges") as cur:
        assert [row["revoked_at"] for row in await cur.fetchall()] == [
            (NOW + timedelta(minutes=20)).isoformat()
        ]


async def test_a_transition_is_stored_as_the_core_computed_it(store: Storage) -> None:
    """Everything the decision changes, "a.n." included, in one transaction with its
    audit events and messages: what apply() returns is what a later read sees."""
    visit = await store.visits.submit(DRAFT, 1001, NOW)
    change = lifecycle.approve(visit, 2002, NOW, NOW + timedelta(hours=1), decided_for=2001)
    notice = OutboxItem("approved:{visit}:1001", "text", 1001, payload={"text": "ok"})
    stored = await store.visits.apply(change, [notice], BadgeHashes("t", "c"))
    assert stored == change.after == await store.visits.get(visit.id)
    assert stored is not None and stored.decided_for == 2001
    actions = [(e.action, e.actor_id, e.detail) for e in await store.audit.events(visit.id)]
    assert actions[1:] == [("approve", 2002, ""), ("decided_on_behalf", 2002, "2001")]
    (queued,) = await store.outbox.heads()
    assert queued.key == f"approved:{visit.id}:1001"


async def test_a_transition_never_rewrites_the_request_itself(store: Storage) -> None:
    from dataclasses import replace

    visit = await store.visits.submit(DRAFT, 1001, NOW)
    change = lifecycle.cancel(visit, 1001, NOW, "salah tanggal")
    forged = replace(change, after=replace(change.after, purpose="lain"))
    with pytest.raises(ValueError, match="only"):
        await store.visits.apply(forged)
    assert (await store.visits.get(visit.id)) == visit


async def test_cancel_ends_a_pending_request(store: Storage) -> None:
    visit = await store.visits.submit(DRAFT, 1001, NOW)
    change = lifecycle.cancel(visit, 1002, NOW, "pengunjung tidak datang")
    cancelled = await store.visits.apply(change, detail="note")
    assert cancelled is not None and cancelled == change.after == await store.visits.get(visit.id)
    assert cancelled.cancel_reason == "pengunjung tidak datang" and cancelled.cancelled_by == 1002
    assert await approve(store, visit, 2001) is None
    events = await store.audit.events(visit.id)
    assert [(e.action, e.actor_id, e.detail) for e in events] == [
        ("submit", 1001, ""),
        ("cancel", 1002, "note"),
    ]


async def test_cancelling_an_approved_request_revokes_its_badge_once(store: Storage) -> None:
    visit = await store.visits.submit(DRAFT, 1001, NOW)
    approved = await approve(store, visit, 2001)
    assert approved is not None
    change = lifecycle.cancel(approved, 1001, NOW + timedelta(minutes=5), "salah tanggal")
    # Two officers at once: both computed from the approved visit, one write wins.
    first, second = await asyncio.gather(store.visits.apply(change), store.visits.apply(change))
    assert [first is None, second is None].count(True) == 1
    async with store.connection.execute("SELECT revoked_at FROM badges") as cur:
        assert [row["revoked_at"] for row in await cur.fetchall()] == [
            (NOW + timedelta(minutes=5)).isoformat()
        ]
    # The entry computed before the cancel is refused by the guard.
    assert await store.visits.apply(lifecycle.enter(approved, 3001, NOW)) is None
    assert [e.action for e in await store.audit.events(visit.id)].count("cancel") == 1


async def test_audit_events_are_chained_and_append_only(store: Storage, tmp_path: Path) -> None:
    visit = await store.visits.submit(DRAFT, 1001, NOW)
    await store.audit.record(NOW, 9001, "stranger_refused")
    await deny(store, visit, 2001, "alasan")
    events = await store.audit.events()
    prev = GENESIS_HASH
    for event in events:
        fields = (
            event.at.isoformat(),
            event.actor_id,
            event.action,
            event.visit_id,
            event.from_status,
            event.to_status,
            event.detail,
        )
        assert event.prev_hash == prev
        assert event.hash == keyed_hash(AUDIT_KEY, prev, fields)
        prev = event.hash
    raw = sqlite3.connect(tmp_path / "t.sqlite3")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        raw.execute("UPDATE audit_events SET detail = 'x'")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        raw.execute("DELETE FROM audit_events")
    raw.close()


async def test_migrations_run_once_and_set_user_version(tmp_path: Path) -> None:
    path = tmp_path / "m.sqlite3"
    for _ in range(2):
        storage = await Storage.open(path, CIPHER, AUDIT_KEY)
        await storage.close()
    raw = sqlite3.connect(path)
    assert raw.execute("PRAGMA user_version").fetchone()[0] == max(MIGRATIONS)
    assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    raw.close()


def _schema_at(path: Path, version: int) -> None:
    """A database as a release with ``version`` left it, with what that release stored."""
    raw = sqlite3.connect(path, isolation_level=None)
    raw.execute("PRAGMA journal_mode=WAL")
    for number in range(1, version + 1):
        step = MIGRATIONS[number]
        raw.executescript(f"BEGIN;\n{step}\nPRAGMA user_version = {number};\nCOMMIT;")
    if version >= 1:
        # A visit stored then; the NIK in the column that release kept it in, in plain text.
        nik_column = "nik" if version < 3 else "nik_hash"
        raw.execute(
            f"INSERT INTO visitors (id, {nik_column}, name, organisation, phone, created_at,"
            " updated_at) VALUES (1, '3508010102850001', 'Bayu', 'PT Lama', '0812', ?, ?)",
            (NOW.isoformat(), NOW.isoformat()),
        )
        raw.execute(
            "INSERT INTO visits (id, visitor_id, status, purpose, duration_minutes, equipment,"
            " ktp_file_id, officer_id, started_at, submitted_at) VALUES"
            " (1, 1, 'done', 'Audit', 30, '', 'f', 1001, ?, ?)",
            (NOW.isoformat(), NOW.isoformat()),
        )
    if version == 6:  # the only release that stored role names
        staff = [(1, "admin,officer"), (2, "approver"), (3, "escort"), (4, "")]
        invited = "escort,officer,approver"

        def stored(names: str) -> object:
            # Release 6 wrote role names; from 7 on, masks of the stable bits.
            roles = roles_named(names.split(","))
            return names if version == 6 else mask_of(roles)

        for user_id, roles in staff:
            raw.execute(
                "INSERT INTO staff (user_id, name, roles, added_at) VALUES (?, ?, ?, ?)",
                (user_id, f"S{user_id}", stored(roles), NOW.isoformat()),
            )
        raw.execute(
            "INSERT INTO staff_invitations (token_hash, roles, created_by, created_at,"
            " expires_at) VALUES ('h', ?, 1, ?, ?)",
            (stored(invited), NOW.isoformat(), NOW.isoformat()),
        )
    raw.close()


@pytest.mark.parametrize("version", range(max(MIGRATIONS)))
async def test_every_earlier_schema_migrates_to_the_current_one(
    tmp_path: Path, version: int
) -> None:
    path = tmp_path / f"v{version}.sqlite3"
    _schema_at(path, version)
    storage = await Storage.open(path, CIPHER, AUDIT_KEY)
    try:
        if version >= 1:
            # Migration 8: a visit from before the form asked for a letter has none.
            old = await storage.visits.get(1)
            assert old is not None and (old.name, old.assignment_letter) == ("Bayu", "")
        visit = await storage.visits.submit(LETTER_DRAFT, 1001, NOW)
        assert visit.assignment_letter == LETTER_DRAFT.assignment_letter
        assert await approve(storage, visit, 2001, decided_for=2002) is not None
        if version == 6:
            # Migration 7: comma-separated role names become masks of the stable bits.
            roles = {row.user_id: row.roles for row in await storage.staff.all()}
            assert roles == {
                1: {Role.ADMIN, Role.OFFICER},
                2: {Role.APPROVER},
                3: {Role.ESCORT},
                4: frozenset(),
            }
            async with storage.connection.execute("SELECT roles FROM staff_invitations") as cur:
                (row,) = await cur.fetchall()
            assert roles_of(row["roles"]) == {Role.ESCORT, Role.OFFICER, Role.APPROVER}
    finally:
        await storage.close()
    raw = sqlite3.connect(path)
    assert raw.execute("PRAGMA user_version").fetchone()[0] == max(MIGRATIONS)
    assert {r[1]: r[2] for r in raw.execute("PRAGMA table_info(staff)")}["roles"] == "INTEGER"
    raw.close()


async def test_roles_are_stored_as_masks_of_stable_bits(store: Storage) -> None:
    members = [(7, "Rina", frozenset({Role.APPROVER, Role.ESCORT}))]
    await store.staff.seed(members, NOW)
    async with store.connection.execute("SELECT roles FROM staff WHERE user_id = 7") as cur:
        row = await cur.fetchone()
    assert row is not None and row["roles"] == Role.APPROVER.bit + Role.ESCORT.bit
    (member,) = await store.staff.all()
    assert member.roles == {Role.APPROVER, Role.ESCORT}
    assert all(isinstance(role, Role) for role in member.roles)


async def test_the_period_query_leaves_only_the_columns_named_unopened(store: Storage) -> None:
    """The access log's query (issue 13) does not decrypt what the log never shows: those
    cells read as empty, everything else as stored; without the names, all is decrypted."""
    first = await store.visits.submit(LETTER_DRAFT, 1001, NOW)
    second = await store.visits.submit(LETTER_DRAFT, 1001, NOW + timedelta(minutes=1))
    denied = await deny(store, second, 2001, "KTP tidak cocok")
    assert denied is not None
    period = (NOW - timedelta(hours=1), NOW + timedelta(hours=1))
    full = await store.reports.visits_between(*period)
    assert full == [first, denied]
    shown = await store.reports.visits_between(*period, unopened={"phone", "ktp_file_id"})
    assert [(v.phone, v.ktp_file_id) for v in shown] == [("", ""), ("", "")]
    assert [replace(v, phone=DRAFT.phone, ktp_file_id=DRAFT.ktp_file_id) for v in shown] == full
    assert shown[1].deny_reason == "KTP tidak cocok" and shown[0].nik == DRAFT.nik
    # The map from a Row (one visit) and from its cells (a report) are the same visit.
    assert await store.visits.get(first.id) == full[0]


async def test_a_delivered_card_is_marked_sent_and_recorded_together(store: Storage) -> None:
    """The card's outbox item, the card a decision edits and the handover time are one
    write: a crash (here a failing insert) in between leaves none of them."""
    cards = [OutboxItem(f"card:{{visit}}:{chat}", "card", chat) for chat in (2001, 2002)]
    visit = await store.visits.submit(DRAFT, 1001, NOW, messages=cards)
    first, second = await store.outbox.waiting()
    later = NOW + timedelta(minutes=2)
    await store.visits.card_delivered(first.id, visit.id, 2001, 11, later, 1.0)
    assert [(c.chat_id, c.message_id) for c in await store.visits.cards(visit.id)] == [(2001, 11)]
    assert [w.id for w in await store.outbox.waiting()] == [second.id]
    stored = await store.visits.get(visit.id)
    assert stored is not None and stored.handover_at == later

    await store.database.connection.execute(
        "CREATE TRIGGER refuse BEFORE INSERT ON approval_cards WHEN NEW.chat_id = 2002"
        " BEGIN SELECT RAISE(ABORT, 'disk full'); END"
    )
    with pytest.raises(sqlite3.IntegrityError):
        await store.visits.card_delivered(second.id, visit.id, 2002, 12, NOW, 2.0)
    assert [w.id for w in await store.outbox.waiting()] == [second.id]  # sent again later
    assert [c.chat_id for c in await store.visits.cards(visit.id)] == [2001]
