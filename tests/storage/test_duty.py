"""The duty roster in SQLite: one open shift per escort, each start and end audited once,
a lapsed shift closed at its day's end, and duty ended with the role or the staff place."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from bot.core.roles import Role
from storage.base import fetch_all
from storage.db import Storage
from tests.conftest import AUDIT_KEY
from tests.storage.test_storage import CIPHER, NOW

UNTIL = NOW + timedelta(hours=10)
ESCORT = 3001


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Storage]:
    storage = await Storage.open(tmp_path / "t.sqlite3", CIPHER, AUDIT_KEY)
    await storage.staff.seed([(ESCORT, "Dewi", frozenset({Role.ESCORT}))], NOW)
    yield storage
    await storage.close()


async def rows(store: Storage, sql: str) -> list[tuple[object, ...]]:
    return [tuple(row) for row in await fetch_all(store.database.connection, sql)]


async def actions(store: Storage) -> list[str]:
    return [e.action for e in await store.audit.events() if e.action.startswith("duty_")]


async def test_start_and_end_once_each(store: Storage) -> None:
    assert await store.duty.start(ESCORT, NOW, UNTIL)
    assert not await store.duty.start(ESCORT, NOW + timedelta(minutes=1), UNTIL)
    (shift,) = await store.duty.open_shifts()
    assert shift.started_at == NOW and shift.until == UNTIL and shift.running(NOW)
    later = NOW + timedelta(hours=2)
    assert await store.duty.end(ESCORT, later)
    assert not await store.duty.end(ESCORT, later)
    assert await store.duty.open_shifts() == []
    assert await actions(store) == ["duty_started", "duty_ended"]


async def test_a_lapsed_shift_is_closed_at_its_days_end_without_an_event(store: Storage) -> None:
    assert await store.duty.start(ESCORT, NOW, UNTIL)
    tomorrow = UNTIL + timedelta(hours=9)
    assert not await store.duty.end(ESCORT, tomorrow)  # it had lapsed: nothing to end
    assert await store.duty.start(ESCORT, tomorrow, tomorrow + timedelta(hours=15))
    history = await rows(store, "SELECT started_at, ended_at FROM escort_duty ORDER BY id")
    assert history == [(NOW.isoformat(), UNTIL.isoformat()), (tomorrow.isoformat(), None)]
    assert await actions(store) == ["duty_started", "duty_started"]


@pytest.mark.parametrize("change", ["role", "removed"])
async def test_losing_the_role_or_the_place_ends_duty(store: Storage, change: str) -> None:
    assert await store.duty.start(ESCORT, NOW, UNTIL)
    later = NOW + timedelta(hours=1)
    if change == "role":
        assert await store.staff.set_roles(ESCORT, frozenset({Role.OFFICER}), 4001, later)
    else:
        assert await store.staff.deactivate(ESCORT, 4001, later)
    assert await store.duty.open_shifts() == []
    events = [e for e in await store.audit.events() if e.action == "duty_ended"]
    assert [(e.actor_id, e.detail) for e in events] == [(4001, f"{ESCORT}:{change}")]


async def test_keeping_the_escort_role_keeps_duty(store: Storage) -> None:
    assert await store.duty.start(ESCORT, NOW, UNTIL)
    roles = frozenset({Role.ESCORT, Role.OFFICER})
    assert await store.staff.set_roles(ESCORT, roles, 4001, NOW + timedelta(hours=1))
    assert len(await store.duty.open_shifts()) == 1
