"""A tap handled late (stored before a crash, handled after the restart) cannot be answered
any more; RetryingRequest lets the handler go on, and only for that one refusal."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from telegram import Bot
from telegram.error import BadRequest

from bot.app.request import RetryingRequest
from simulator import BotApiSimulator

USER = 1001


@pytest.fixture
async def sim() -> AsyncIterator[BotApiSimulator]:
    simulator = BotApiSimulator(token="123456:TEST", bot_username="AksesServerBot")
    await simulator.start()
    simulator.add_user(USER, "Sari")
    yield simulator
    await simulator.stop()


async def test_a_stale_callback_answer_counts_as_done(sim: BotApiSimulator) -> None:
    request = RetryingRequest(retries=0)
    async with Bot(sim.token, base_url=sim.base_url, request=request) as bot:
        message = await bot.send_message(USER, "pilih")
        callback = await sim.user(USER).send_callback(sim.messages(USER)[-1], "x")
        assert await bot.answer_callback_query(callback.id) is True
        # Answered already (as by the process that was killed): too old now. Not an error,
        # but False, so an alert can be said another way (handlers/edits.py).
        assert await bot.answer_callback_query(callback.id) is False
        # Any other refusal still reaches the handler.
        with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
            await bot.edit_message_text("x", chat_id=USER, message_id=message.message_id + 99)
