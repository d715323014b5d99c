"""Per-chat ordering with cross-chat concurrency."""

from __future__ import annotations

import asyncio

import pytest
from telegram import Chat, Message, Update, User

from bot.app.processor import PerChatUpdateProcessor


def update(update_id: int, chat_id: int) -> Update:
    user = User(chat_id, "x", is_bot=False)
    chat = Chat(chat_id, Chat.PRIVATE)
    return Update(update_id, message=Message(update_id, None, chat, from_user=user, text="hi"))  # type: ignore[arg-type]


async def test_one_chat_in_order_other_chats_concurrently() -> None:
    processor = PerChatUpdateProcessor(16)
    log: list[str] = []
    release_a1 = asyncio.Event()

    async def work(name: str, wait: asyncio.Event | None = None) -> None:
        log.append(f"start {name}")
        if wait is not None:
            await wait.wait()
        log.append(f"end {name}")

    a1 = asyncio.create_task(processor.process_update(update(1, 10), work("a1", release_a1)))
    a2 = asyncio.create_task(processor.process_update(update(2, 10), work("a2")))
    b1 = asyncio.create_task(processor.process_update(update(3, 20), work("b1")))
    await b1  # chat 20 is not held up by chat 10's slow update
    assert "end b1" in log and "start a2" not in log
    release_a1.set()
    await asyncio.gather(a1, a2)
    assert log.index("end a1") < log.index("start a2")
    assert processor._locks == {}  # idle chats leave nothing behind


async def test_the_hook_learns_which_updates_were_handled() -> None:
    """The after-update hook (the intake's done mark) gets the update once it was handled,
    None when its handling was cut short: that update must stay open."""
    processor = PerChatUpdateProcessor(4)
    seen: list[object] = []

    async def after(update: object | None) -> None:
        seen.append(update)

    processor.after_update = after

    async def fine() -> None:
        return None

    async def broken() -> None:
        raise RuntimeError("cut short")

    ok, bad = update(1, 10), update(2, 10)
    await processor.process_update(ok, fine())
    with pytest.raises(RuntimeError):
        await processor.process_update(bad, broken())
    assert seen == [ok, None]
