"""The role an outbox message is for, stored with it; withholding is audited (issue 10)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from bot.core.roles import Role
from storage.crypto import Cipher
from storage.db import Storage
from storage.outbox import OutboxItem
from tests.conftest import AUDIT_KEY, KEY

NOW = datetime(2026, 11, 28, 2, 0, tzinfo=UTC)


async def test_the_role_travels_with_the_message_and_withholding_is_audited(
    tmp_path: Path,
) -> None:
    store = await Storage.open(tmp_path / "a.db", Cipher(KEY), AUDIT_KEY)
    items = [
        OutboxItem("badge_png:1:5", "photo", 5, 1, {"filename": "b.png"}, b"png", Role.OFFICER),
        OutboxItem("old:1:6", "text", 6, 1, {"text": "x"}),  # as queued before roles
    ]
    await store.audit.record(NOW, None, "test", 1, messages=items)
    heads = {q.chat_id: q for q in await store.outbox.heads()}
    assert heads[5].for_role is Role.OFFICER and heads[6].for_role is None
    replacement = OutboxItem("badge_png:1:7", "photo", 7, 1, heads[5].payload, heads[5].blob)
    assert await store.audit.withhold(NOW, heads[5].id, 1, "badge_png:5:officer", [replacement])
    assert not await store.audit.withhold(NOW, heads[5].id, 1, "again", [])  # once only
    assert {q.chat_id for q in await store.outbox.heads()} == {6, 7}
    assert (await store.outbox.counts())["withheld"] == 1
    events = [(e.action, e.detail) for e in await store.audit.events()]
    assert events[-1] == ("outbox_withheld", "badge_png:5:officer")
    await store.close()
