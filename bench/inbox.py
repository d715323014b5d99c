"""Waiting for the bot's messages without rescanning every chat on every change.

`SimUser.wait_for` is right for tests, but each change in any chat wakes every waiting
person, who then rescans their whole chat. With 102 people and section heads whose chats
grow by two messages per visit, that more than doubled the harness's CPU time in a
50-officer run (11.4 s against 4.9 s here), CPU the bot would then compete with. Here one
task reads the simulator's change feed and tests each new or edited message only against
the waits registered for its chat.

Register a wait *before* acting (`expect`, then act, then `wait`), so a fast answer cannot
slip past it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field

from simulator import BotApiSimulator, SimCallback, SimMessage

Predicate = Callable[[SimMessage], bool]


@dataclass(eq=False)
class Expectation:
    chat_id: int
    describe: str
    matches: Predicate
    future: asyncio.Future = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


class Inbox:
    def __init__(self, sim: BotApiSimulator, timeout: float = 60.0) -> None:
        self.sim = sim
        self.timeout = timeout
        self._messages: dict[int, list[Expectation]] = {}
        self._answers: dict[str, asyncio.Future] = {}  # callback query id -> future
        self._queue: asyncio.Queue | None = None
        self._task: asyncio.Task | None = None

    async def __aenter__(self) -> Inbox:
        self._queue = self.sim.subscribe()
        self._task = asyncio.create_task(self._route())
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        assert self._task is not None and self._queue is not None
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)
        self.sim.unsubscribe(self._queue)

    def expect(
        self, chat_id: int, text: str | None = None, predicate: Predicate | None = None
    ) -> Expectation:
        """The next bot message (new or edited) in the chat containing `text` and matching."""

        def matches(message: SimMessage) -> bool:
            if text is not None and text not in message.text_or_caption:
                return False
            return predicate is None or predicate(message)

        expectation = Expectation(chat_id, f"text={text!r} predicate={predicate}", matches)
        self._messages.setdefault(chat_id, []).append(expectation)
        return expectation

    def expect_answer(self, callback: SimCallback) -> asyncio.Future:
        """Resolves when the bot answers this button tap (answerCallbackQuery)."""
        future = asyncio.get_running_loop().create_future()
        if callback.answer is not None:
            future.set_result(callback.answer)
        else:
            self._answers[callback.id] = future
        return future

    async def wait(self, expectation: Expectation) -> SimMessage:
        try:
            return await asyncio.wait_for(expectation.future, self.timeout)
        except TimeoutError:
            waits = self._messages.get(expectation.chat_id, [])
            if expectation in waits:
                waits.remove(expectation)
            recent = "\n".join(f"  {m}" for m in self.sim.messages(expectation.chat_id)[-6:])
            raise TimeoutError(
                f"chat {expectation.chat_id}: no bot message matching {expectation.describe} "
                f"within {self.timeout}s; last messages:\n{recent or '  none'}"
            ) from None

    async def wait_answer(self, future: asyncio.Future, chat_id: int) -> None:
        try:
            await asyncio.wait_for(future, self.timeout)
        except TimeoutError:
            raise TimeoutError(f"chat {chat_id}: a button tap was not answered") from None

    async def _route(self) -> None:
        assert self._queue is not None
        state = self.sim.state
        while True:
            event = await self._queue.get()
            kind = event["type"]
            if kind == "alert":
                future = self._answers.pop(event["alert"]["query_id"], None)
                if future is not None and not future.done():
                    future.set_result(event["alert"])
                continue
            if kind not in ("message", "edit"):
                continue
            waits = self._messages.get(event["chat_id"])
            if not waits:
                continue
            message = state.get_message(event["chat_id"], event["message"]["message_id"])
            if message is None or not message.from_bot or message.deleted:
                continue
            for expectation in list(waits):
                if expectation.future.done():
                    waits.remove(expectation)
                elif expectation.matches(message):
                    expectation.future.set_result(message)
                    waits.remove(expectation)
