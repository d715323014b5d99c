"""Per-update latency as a person feels it, for benchmarks: offered in getUpdates -> answered.

Off unless `BotApiSimulator.update_timer` is set. An update counts as offered the first time
a getUpdates response carries it (a re-delivery after a lost response does not restart the
clock) and as answered when the bot's first call for it reaches the simulator:

- a message (or any other non-button update): the first call addressed to its chat;
- a button tap (callback_query): its answerCallbackQuery, or an edit or deletion of the
  message the button was on, whichever comes first. Cards and notices the bot sends to the
  same chat for other people's actions are not answers, so they are not counted as such.

Messages are matched oldest first per chat, which is exact while each person waits for the
bot before acting again (as people and the benchmark drivers do).
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from simulator.api import Params

__all__ = ["UpdateTimer", "UpdateTiming", "call_target"]


@dataclass(frozen=True)
class UpdateTiming:
    update_id: int
    kind: str  # "message", "callback_query", ...
    chat_id: int
    offered: float
    answered: float
    method: str  # the Bot API call that answered it

    @property
    def latency(self) -> float:
        return self.answered - self.offered


@dataclass
class _Pending:
    update_id: int
    kind: str
    chat_id: int
    offered: float


class UpdateTimer:
    def __init__(self, clock: Callable[[], float] = time.perf_counter) -> None:
        self.clock = clock
        self.samples: list[UpdateTiming] = []
        self._last_offered = -1
        self._messages: dict[int, deque[_Pending]] = {}  # chat -> updates, oldest first
        self._taps: dict[str, _Pending] = {}  # callback query id -> update
        self._tapped: dict[tuple[int, int], list[str]] = {}  # (chat, message) -> query ids

    @property
    def unanswered(self) -> int:
        return sum(len(q) for q in self._messages.values()) + len(self._taps)

    def offered(self, updates: list[dict]) -> None:
        """A getUpdates response is about to carry `updates`."""
        now = self.clock()
        for update in updates:
            update_id = update["update_id"]
            if update_id <= self._last_offered:
                continue  # delivered before and not yet confirmed
            self._last_offered = update_id
            kind = next(key for key in update if key != "update_id")
            payload = update[kind]
            if kind == "callback_query":
                message = payload.get("message") or {}
                chat_id = (message.get("chat") or payload["from"])["id"]
                self._taps[payload["id"]] = _Pending(update_id, kind, chat_id, now)
                key = (chat_id, message.get("message_id", 0))
                self._tapped.setdefault(key, []).append(payload["id"])
                continue
            chat = payload.get("chat") or payload.get("from")
            if isinstance(chat, dict):
                pending = _Pending(update_id, kind, chat["id"], now)
                self._messages.setdefault(chat["id"], deque()).append(pending)

    def called(
        self, method: str, chat_id: int | None, message_id: int | None, query_id: str | None
    ) -> None:
        """A Bot API call reached the simulator (see `call_target`)."""
        now = self.clock()
        if query_id is not None:
            self._answer_tap(query_id, method, now)
        if chat_id is None:
            return
        if message_id is not None:
            for tapped in self._tapped.pop((chat_id, message_id), []):
                self._answer_tap(tapped, method, now)
        queue = self._messages.get(chat_id)
        if queue:
            self._record(queue.popleft(), method, now)
            if not queue:
                del self._messages[chat_id]

    def _answer_tap(self, query_id: str, method: str, now: float) -> None:
        pending = self._taps.pop(query_id, None)
        if pending is not None:
            self._record(pending, method, now)

    def _record(self, pending: _Pending, method: str, now: float) -> None:
        self.samples.append(
            UpdateTiming(
                pending.update_id, pending.kind, pending.chat_id, pending.offered, now, method
            )
        )


def call_target(method: str, p: Params) -> tuple[int | None, int | None, str | None]:
    """(chat id, message id, callback query id) a Bot API call is about, where it has them.

    answerCallbackQuery answers its tap only, never a message waiting in the same chat.
    """
    if method == "answerCallbackQuery":
        return None, None, str(p.raw.get("callback_query_id"))
    chat_id = _int(p.raw.get("chat_id"))
    message_id = _int(p.raw.get("message_id")) if method.startswith(("edit", "delete")) else None
    return chat_id, message_id, None


def _int(value: object) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lstrip("-").isdigit():
        return int(value)
    return None
