"""Roll calls in SQLite: one open at a time, each visitor marked once, the end recorded."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from bot.core import visits as lifecycle
from bot.core.rollcall import MarkOutcome
from storage.db import Storage
from storage.outbox import OutboxItem
from tests.conftest import AUDIT_KEY
from tests.storage.test_storage import CIPHER, DRAFT, NOW


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Storage]:
    storage = await Storage.open(tmp_path / "t.sqlite3", CIPHER, AUDIT_KEY)
    yield storage
    await storage.close()


def messages(roll_id: int, marked: int) -> list[OutboxItem]:
    return [OutboxItem(f"rc:{roll_id}:{marked}:7", "text", 7, payload={"text": "x"})]


async def inside(store: Storage, escort: int) -> int:
    visit = await store.visits.submit(DRAFT, 1001, NOW)
    visit = (
        await store.visits.apply(lifecycle.approve(visit, 2001, NOW, NOW + timedelta(hours=1)))
        or visit
    )
    entered = await store.visits.apply(lifecycle.enter(visit, escort, NOW))
    assert entered is not None
    return entered.id


async def test_one_open_roll_call_and_each_visitor_marked_once(store: Storage) -> None:
    a, b = await inside(store, 3001), await inside(store, 3002)
    roll, began = await store.rollcalls.start(NOW, 3001, messages)
    assert began and roll.open and [e.visit_id for e in roll.entries] == [a, b]
    again, began = await store.rollcalls.start(NOW, 1001, messages)
    assert not began and again.id == roll.id  # the open one, nothing written
    later = NOW + timedelta(minutes=4)
    # Two people tap the same visitor at the same moment: one mark.
    results = await asyncio.gather(
        store.rollcalls.mark(roll.id, a, 3001, later, messages),
        store.rollcalls.mark(roll.id, a, 4001, later, messages),
    )
    assert sorted(outcome for outcome, _ in results) == [MarkOutcome.ALREADY, MarkOutcome.MARKED]
    assert (await store.rollcalls.mark(roll.id, 999, 3001, later, messages))[0] == (
        MarkOutcome.UNKNOWN
    )
    outcome, done = await store.rollcalls.mark(roll.id, b, 3002, later, messages)
    assert outcome == MarkOutcome.ENDED and done is not None and done.ended_at == later
    assert await store.rollcalls.current() is None
    visit = await store.visits.get(a)
    assert visit is not None and visit.roll_calls == ((NOW, later),)
    events = [e.action for e in await store.audit.events() if e.action.startswith("roll")]
    assert events == [
        "roll_call_started",
        "roll_call_marked",
        "roll_call_marked",
        "roll_call_ended",
    ]
    keys = await store.outbox.counts()
    assert keys == {"pending": 3}  # the start and one per mark, not per tap


async def test_a_visitor_entering_as_the_roll_call_begins_is_counted(store: Storage) -> None:
    """Who is inside is read under the roll call's own write lock: a MASUK whose
    transaction is open when the roll call is called is counted once it commits."""
    a = await inside(store, 3001)
    visit = await store.visits.submit(DRAFT, 1001, NOW)
    approved = await store.visits.apply(
        lifecycle.approve(visit, 2001, NOW, NOW + timedelta(hours=1))
    )
    assert approved is not None
    entering = lifecycle.enter(approved, 3002, NOW)
    async with store.database.transaction() as db:  # a MASUK being written
        await db.execute(
            "UPDATE visits SET status = ?, entered_at = ?, entry_escort_id = ? WHERE id = ?",
            (entering.after.status.value, NOW.isoformat(), 3002, visit.id),
        )
        starting = asyncio.create_task(store.rollcalls.start(NOW, 3001, messages))
        await asyncio.sleep(0.05)
        assert not starting.done()  # it waits for the write lock
    roll, began = await starting
    assert began and [e.visit_id for e in roll.entries] == [a, visit.id]


async def test_no_masuk_is_written_once_a_roll_call_has_begun(store: Storage) -> None:
    """The other order: workflow.enter found no roll call, then one began before the MASUK
    was written. The write finds it and records nothing, so nobody is inside who is not on
    the roll call; after the roll call ends, the same MASUK is written."""
    await inside(store, 3001)
    visit = await store.visits.submit(DRAFT, 1001, NOW)
    approved = await store.visits.apply(
        lifecycle.approve(visit, 2001, NOW, NOW + timedelta(hours=1))
    )
    assert approved is not None
    roll, began = await store.rollcalls.start(NOW, 3001, messages)
    assert began
    assert await store.visits.apply(lifecycle.enter(approved, 3002, NOW)) is None
    still = await store.visits.get(visit.id)
    assert still is not None and still.status == lifecycle.VisitStatus.APPROVED
    (entry,) = roll.entries
    assert (await store.rollcalls.mark(roll.id, entry.visit_id, 3001, NOW, messages))[0] in (
        MarkOutcome.MARKED,
        MarkOutcome.ENDED,
    )
    assert await store.visits.apply(lifecycle.enter(approved, 3002, NOW)) is not None
