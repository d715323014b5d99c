"""A getUpdates answer is stored in one write before PTB reads it (bot/app/intake.py,
``IntakeRequest``), on the real Application and database.

Each update then goes on the queue once: a batch fetched again because PTB could not read
it the first time is still handled (its updates were stored, never queued), while an
update queued already, fetched again because the next getUpdates never confirmed it, is
not handled twice.
"""

from __future__ import annotations

import json
from typing import Any

from telegram import Update

from bot.app.intake import DurableUpdateQueue
from simulator import BotApiSimulator
from tests.conftest import OFFICER


def answer(*update_ids: int) -> bytes:
    chat = {"id": OFFICER, "type": "private", "first_name": "Sari"}
    sender = {"id": OFFICER, "is_bot": False, "first_name": "Sari"}
    updates = [
        {
            "update_id": n,
            "message": {
                "message_id": n,
                "date": 0,
                "chat": chat,
                "from": sender,
                "text": "/bantuan",
            },
        }
        for n in update_ids
    ]
    return json.dumps({"ok": True, "result": updates}).encode()


async def stored(app: Any) -> list[int]:
    rows = await app.bot_data.storage.database.read(
        "SELECT update_id FROM incoming_updates ORDER BY update_id"
    )
    return [row[0] for row in rows]


async def test_a_batch_is_stored_first_and_handled_once(sim: BotApiSimulator, app: Any) -> None:
    await app.updater.stop()  # the test is the poller now
    intake: DurableUpdateQueue = app.update_queue
    officer = sim.user(OFFICER)
    before = await stored(app)
    payload = answer(900_001, 900_002)
    await intake.prestore(payload)
    assert await stored(app) == [*before, 900_001, 900_002]  # before PTB read anything
    # PTB could not read the answer, and fetched it again: still taken in.
    await intake.prestore(payload)
    for data in json.loads(payload)["result"]:
        await intake.put(Update.de_json(data, app.bot))
    await sim.settle()
    answered = len(officer.bot_messages)
    assert answered == 2  # each /bantuan answered
    # Fetched once more (not confirmed yet): nothing is handled twice.
    await intake.prestore(payload)
    for data in json.loads(payload)["result"]:
        await intake.put(Update.de_json(data, app.bot))
    await sim.settle()
    assert len(officer.bot_messages) == answered


async def test_an_answer_that_is_not_updates_is_left_to_ptb(app: Any) -> None:
    await app.updater.stop()
    intake: DurableUpdateQueue = app.update_queue
    before = await stored(app)
    for payload in (
        b"",
        b"not json",
        b'{"ok": false}',
        b'{"ok": true, "result": {}}',
        b'{"ok": true, "result": [{"update_id": "1"}, 5]}',
    ):
        await intake.prestore(payload)
    assert await stored(app) == before
