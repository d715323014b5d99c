"""`Delivery.wait_idle`, which the tests and the demo lean on, waits for what was queued.

A pass of the outbox worker reads the queue, then decides. A message queued while a pass
is between the two must not make `wait_idle` return before it is sent: the pass read the
queue before the message was there.
"""

from __future__ import annotations

import asyncio
from typing import Any

from bot.app.services import Services
from bot.core.roles import Role
from simulator import BotApiSimulator
from storage.outbox import OutboxItem, Waiting
from tests.conftest import OFFICER


async def test_a_message_queued_during_a_pass_is_sent_before_wait_idle_returns(
    sim: BotApiSimulator, app: Any, services: Services
) -> None:
    await services.delivery.wait_idle()
    outbox = services.storage.outbox
    real_newer = outbox.newer
    read, resume = asyncio.Event(), asyncio.Event()

    async def newer_then_pause(after_id: int, limit: int = 1000) -> list[Waiting]:
        # The next pass reads what was queued since the last (nothing), then pauses before
        # it decides.
        heads = await real_newer(after_id, limit)
        outbox.newer = real_newer  # type: ignore[method-assign]
        read.set()
        await resume.wait()
        return heads

    outbox.newer = newer_then_pause  # type: ignore[method-assign]
    services.delivery.kick()
    await asyncio.wait_for(read.wait(), 5)
    # Queued after that pass read the queue, then waited for.
    item = OutboxItem(
        "idle-test", "text", OFFICER, payload={"text": "Pesan uji"}, for_role=Role.OFFICER
    )
    await outbox.queue([item], services.now())
    waiter = asyncio.create_task(services.delivery.wait_idle())
    await asyncio.sleep(0)
    resume.set()
    await waiter
    assert (await outbox.counts()).get("pending", 0) == 0
    assert any(m.text_or_caption == "Pesan uji" for m in sim.user(OFFICER).bot_messages)
