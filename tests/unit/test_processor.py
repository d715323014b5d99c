"""Per-chat ordering with cross-chat concurrency."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest
from telegram import CallbackQuery, Chat, Message, Update, User

from bot.app.processor import PerChatUpdateProcessor, order_key
from bot.core import callbacks
from bot.core.callbacks import DoorTap, FormWord, VisitTap
from bot.core.tokens import DOOR_NONCE_LENGTH


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


def tap(update_id: int, chat_id: int, data: str) -> Update:
    user = User(chat_id, "x", is_bot=False)
    chat = Chat(chat_id, Chat.PRIVATE)
    card = Message(update_id, None, chat, from_user=user, text="card")  # type: ignore[arg-type]
    query = CallbackQuery(str(update_id), user, "chat-instance", message=card, data=data)
    return Update(update_id, callback_query=query)


async def test_a_section_heads_taps_on_two_cards_run_at_once_one_card_in_order() -> None:
    """Issue 13: approval and door taps are ordered per visit, not per chat."""
    processor = PerChatUpdateProcessor(16)
    log: list[str] = []
    release = asyncio.Event()

    async def work(name: str, wait: asyncio.Event | None = None) -> None:
        log.append(f"start {name}")
        if wait is not None:
            await wait.wait()
        log.append(f"end {name}")

    head = 2001
    card_1 = VisitTap(callbacks.APPROVE, 1).data
    card_2 = VisitTap(callbacks.APPROVE, 2).data
    first = asyncio.create_task(processor.process_update(tap(1, head, card_1), work("1", release)))
    again = asyncio.create_task(processor.process_update(tap(2, head, card_1), work("1 again")))
    other = asyncio.create_task(processor.process_update(tap(3, head, card_2), work("2")))
    # The same head's tap on card 2 is handled while card 1's first tap is still held ...
    await asyncio.wait_for(other, timeout=10)
    # ... while the second tap on card 1 waits for the first.
    assert "end 2" in log and "start 1 again" not in log
    release.set()
    await asyncio.gather(first, again)
    assert log.index("end 1") < log.index("start 1 again")
    assert processor._locks == {}


@pytest.mark.parametrize(
    "second",
    [
        pytest.param(lambda: update(2, 1001), id="a typed answer"),
        pytest.param(lambda: tap(2, 1001, FormWord("back").data), id="a form button"),
        pytest.param(lambda: tap(2, 1001, VisitTap(callbacks.DENY, 7).data), id="Tolak"),
    ],
)
async def test_the_form_and_the_deny_prompt_keep_their_chats_order(
    second: Callable[[], Update],
) -> None:
    """Anything that may change the chat's conversation waits for the chat's earlier update,
    as before; door taps on one visit are ordered with each other."""
    processor = PerChatUpdateProcessor(16)
    log: list[str] = []
    release = asyncio.Event()

    async def work(name: str, wait: asyncio.Event | None = None) -> None:
        log.append(f"start {name}")
        if wait is not None:
            await wait.wait()
        log.append(f"end {name}")

    first = asyncio.create_task(processor.process_update(update(1, 1001), work("1", release)))
    later = asyncio.create_task(processor.process_update(second(), work("2")))
    for _ in range(20):  # let the second one run, if it could
        await asyncio.sleep(0)
    assert log == ["start 1"]
    release.set()
    await asyncio.gather(first, later)
    assert log == ["start 1", "end 1", "start 2", "end 2"]


def test_which_taps_are_ordered_per_visit() -> None:
    nonce = "A" * DOOR_NONCE_LENGTH
    assert order_key(tap(1, 5, VisitTap(callbacks.APPROVE, 3).data)) == ("visit", 3)
    assert order_key(tap(1, 5, DoorTap(callbacks.DOOR_ENTER, 3, nonce).data)) == ("visit", 3)
    assert order_key(tap(1, 5, VisitTap(callbacks.OPEN_VISIT, 3).data)) == ("visit", 3)
    for data in (
        VisitTap(callbacks.DENY, 3).data,
        VisitTap(callbacks.DENY_ABORT, 3).data,
        VisitTap(callbacks.CANCEL, 3).data,
        FormWord("send").data,
        "v1:ok:not-a-visit",
    ):
        assert order_key(tap(1, 5, data)) == 5, data
