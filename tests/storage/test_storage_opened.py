"""Whether a staff member has opened the bot (staff.opened_at): Telegram delivers nothing to
someone who never wrote to it, and /staf says who that is (issue 10)."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from bot.core.roles import Role
from storage.audit import GENESIS_HASH, audit_hash
from storage.crypto import Cipher
from storage.db import Storage
from storage.migrations import MIGRATIONS
from tests.conftest import AUDIT_KEY, KEY

NOW = datetime(2026, 11, 28, 2, 0, tzinfo=UTC)
CIPHER = Cipher(KEY)
# The migration that added the column (numbers are assigned at merge; found by content).
OPENED = next(n for n, step in MIGRATIONS.items() if "opened_at" in step)


async def test_the_migration_counts_who_acted_or_received_a_message_as_opened(
    tmp_path: Path,
) -> None:
    path = tmp_path / "before.sqlite3"
    raw = sqlite3.connect(path, isolation_level=None)
    for number in range(1, OPENED):
        step = MIGRATIONS[number]
        raw.executescript(f"BEGIN;\n{step}\nPRAGMA user_version = {number};\nCOMMIT;")
    for user_id in (1, 2, 3):
        raw.execute(
            "INSERT INTO staff (user_id, name, roles, added_at) VALUES (?, ?, ?, ?)",
            (user_id, f"S{user_id}", Role.OFFICER.bit, NOW.isoformat()),
        )
    fields = (NOW.isoformat(), 1, "submit", None, None, None, "")
    raw.execute(  # 1 did something (an unkeyed chain, as that release wrote it)
        "INSERT INTO audit_events (at, actor_id, action, prev_hash, hash)"
        " VALUES (?, 1, 'submit', ?, ?)",
        (NOW.isoformat(), GENESIS_HASH, audit_hash(GENESIS_HASH, fields)),
    )
    raw.execute(  # 2 was sent something; 3 neither
        "INSERT INTO outbox (key, kind, chat_id, status, created_at, sent_at)"
        " VALUES ('text:1:2', 'text', 2, 'sent', ?, ?)",
        (NOW.timestamp(), NOW.timestamp()),
    )
    raw.close()
    storage = await Storage.open(path, CIPHER, AUDIT_KEY)
    try:
        opened = {row.user_id: row.opened for row in await storage.staff.all()}
        assert opened == {1: True, 2: True, 3: False}
        assert await storage.staff.mark_opened(3, NOW) is True
        assert await storage.staff.mark_opened(3, NOW) is False  # written once only
        assert all(row.opened for row in await storage.staff.all())
    finally:
        await storage.close()
