"""Update concurrency: one chat in order, different chats at the same time.

PTB's default processor either handles every update in sequence (one slow Bot API
call stalls everyone) or everything concurrently (an officer's two quick messages
could race through the conversation). This keeps a lock per chat instead.

A tap on a visit's own button (a section head's Setujui on an approval card, an escort's
MASUK / KELUAR, the escort's "open the visit") is ordered per visit instead (issue 13): it
reads and writes only that visit, never the chat's conversation or user data, so a section
head's taps on two cards run at the same time, while two taps on one card still go one
after the other (the second finds the first's decision). Everything else, the officer's
form above all, keeps its chat's order.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable
from contextlib import asynccontextmanager

from telegram import Update
from telegram.ext import BaseUpdateProcessor

from bot.core import callbacks

# Taps that touch only their visit: no conversation (Tolak starts the reason prompt, so it
# keeps the chat's order), no user data.
PER_VISIT = frozenset(
    {
        callbacks.APPROVE,
        callbacks.ENTER,
        callbacks.EXIT,
        callbacks.DOOR_ENTER,
        callbacks.DOOR_EXIT,
        callbacks.OPEN_VISIT,
    }
)


class PerChatUpdateProcessor(BaseUpdateProcessor):
    def __init__(self, max_concurrent_updates: int = 64) -> None:
        super().__init__(max_concurrent_updates)
        # Called after each update, under the chat's lock: the persistence flush, which also
        # marks the update done (bot/app/intake.py). It gets the update once handled, None
        # when its handling was cut short (it stays open and is handled again at start).
        self.after_update: Callable[[object | None], Awaitable[None]] | None = None
        self._locks: dict[Hashable, asyncio.Lock] = {}
        self._waiting: dict[Hashable, int] = {}

    async def do_process_update(self, update: object, coroutine: Awaitable[object]) -> None:
        key = order_key(update)
        if key is None:
            await self._handle(update, coroutine)
            return
        async with self.chat_lock(key):
            await self._handle(update, coroutine)

    @asynccontextmanager
    async def chat_lock(self, key: Hashable) -> AsyncIterator[None]:
        """Hold a chat's lock: no update of that chat is handled meanwhile (a job changing
        what a conversation holds, such as the draft expiry, takes it too)."""
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._waiting[key] = self._waiting.get(key, 0) + 1
        try:
            async with lock:
                yield
        finally:
            # Drop the lock once nobody holds or awaits it, so idle chats cost nothing.
            self._waiting[key] -= 1
            if not self._waiting[key]:
                del self._waiting[key]
                del self._locks[key]

    async def _handle(self, update: object, coroutine: Awaitable[object]) -> None:
        handled = None
        try:
            await coroutine
            # Nothing awaits between the handling and this hook's first line, so the update
            # counts as handled before any other chat's flush can collect its state.
            handled = update
        finally:
            if self.after_update is not None:
                await self.after_update(handled)

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to tear down."""


def order_key(update: object) -> Hashable | None:
    """What an update is ordered with: its visit for a visit's own button, else its chat."""
    if isinstance(update, Update) and update.callback_query is not None:
        tap = callbacks.parse(update.callback_query.data)
        if isinstance(tap, callbacks.VisitTap | callbacks.DoorTap) and tap.action in PER_VISIT:
            return ("visit", tap.visit_id)
    return _chat_key(update)


def _chat_key(update: object) -> int | None:
    if not isinstance(update, Update):
        return None
    if update.effective_chat is not None:
        return update.effective_chat.id
    return update.effective_user.id if update.effective_user else None
