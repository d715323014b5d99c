"""Group chats in the simulator: added, written to, left, as the Bot API reports them."""

from __future__ import annotations

import pytest
from telegram import Bot
from telegram.constants import ChatMemberStatus
from telegram.error import BadRequest, Forbidden
from telegram.request import HTTPXRequest

from simulator import BotApiSimulator
from simulator.groups import add_group

USER = 1001


@pytest.fixture
async def sim():
    simulator = BotApiSimulator(token="123456:TEST", bot_username="AksesServerBot")
    await simulator.start()
    simulator.add_user(USER, "Sari")
    yield simulator
    await simulator.stop()
    assert simulator.errors == []


@pytest.fixture
async def bot(sim):
    request = HTTPXRequest(httpx_kwargs={"trust_env": False})
    async with Bot(sim.token, base_url=sim.base_url, request=request) as telegram_bot:
        yield telegram_bot


async def test_added_written_to_and_left(sim: BotApiSimulator, bot: Bot) -> None:
    group = add_group(sim, "Grup TI")
    group.add_bot(USER)
    await group.send_text(USER, "/riwayat 1")
    added, message = await bot.get_updates(timeout=0)
    assert added.my_chat_member is not None
    assert (
        added.my_chat_member.chat.type == "supergroup"
        and added.my_chat_member.from_user.id == USER
    )
    assert added.my_chat_member.new_chat_member.status == ChatMemberStatus.MEMBER
    assert message.message is not None and message.message.chat.id == group.id
    assert (
        message.message.text == "/riwayat 1" and message.message.entities[0].type == "bot_command"
    )
    sent = await bot.send_message(group.id, "halo")  # a member may post
    assert sent.chat.id == group.id and group.bot_sent == ["sendMessage"]
    assert await bot.leave_chat(group.id) is True
    updates = await bot.get_updates(offset=message.update_id + 1, timeout=0)
    assert updates[-1].my_chat_member.new_chat_member.status == ChatMemberStatus.LEFT
    await group.send_text(USER, "/menunggu")  # nothing reaches a bot that left
    assert await bot.get_updates(offset=updates[-1].update_id + 1, timeout=0) == ()
    with pytest.raises(Forbidden, match="not a member"):
        await bot.send_message(group.id, "masih di sini?")
    with pytest.raises(BadRequest, match=r"[Cc]hat not found"):
        await bot.leave_chat(group.id)


async def test_leaving_a_private_chat_is_refused(sim: BotApiSimulator, bot: Bot) -> None:
    with pytest.raises(BadRequest, match="private chats"):
        await bot.leave_chat(USER)
    assert sim.state.groups == {}
