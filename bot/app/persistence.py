"""Conversation state in the bot's SQLite database, so a restart loses no half-filled form.

PTB loads persistence during Application.initialize(), before post_init, so the
Storage is opened here on first use and shared with the rest of the bot: one
connection, so a write here can never collide with a transaction there. The SQL is
storage/conversations.py; this adapts it to PTB's interface.

PTB hands changes over one user or conversation at a time; they are collected here and
written by commit(), in one transaction with the updates that produced them marked done
(bot/app/intake.py), so a crash never keeps a step's state without its update or the
reverse.

PTB hands over the user data of everyone whose update was handled, changed or not (a
section head's tap, an escort's scan), and every conversation state a handler returned,
even the same one. Only what differs from what the database holds is written (and so
encrypted): this process is the only writer of those tables, so what it last wrote, or
read at start, is what they hold (issue 13).
"""

from __future__ import annotations

import copy
from collections.abc import Awaitable, Callable, Collection
from datetime import UTC, datetime
from typing import Any

from telegram.ext import BasePersistence, PersistenceInput
from telegram.ext._utils.types import CDCData, ConversationDict, ConversationKey

from storage.db import Storage


class SqlitePersistence(BasePersistence[dict[str, Any], dict[str, Any], dict[str, Any]]):
    """User data (the officer's draft) and conversation states; nothing else is kept."""

    def __init__(self, open_storage: Callable[[], Awaitable[Storage]]) -> None:
        # Writes are driven after every update (bot.app.intake, under the chat's lock), each
        # with the updates it records; PTB's own timer would collect a change whose update
        # is not marked yet, so it is pushed out of the way (a day: asyncio's limit is far).
        super().__init__(
            store_data=PersistenceInput(
                bot_data=False, chat_data=False, user_data=True, callback_data=False
            ),
            update_interval=24 * 3600,
        )
        self._open_storage = open_storage
        self._storage: Storage | None = None
        self._users: dict[int, dict[str, Any] | None] = {}
        self._states: dict[tuple[str, ConversationKey], int | None] = {}
        # What the database holds: a user's non-empty data, an open conversation's state.
        self._saved_users: dict[int, dict[str, Any]] = {}
        self._saved_states: dict[tuple[str, ConversationKey], int] = {}

    async def storage(self) -> Storage:
        """The bot's Storage, opened (and migrated) on first use."""
        if self._storage is None:
            self._storage = await self._open_storage()
        return self._storage

    async def get_user_data(self) -> dict[int, dict[str, Any]]:
        users = await (await self.storage()).conversations.user_data()
        # PTB keeps these dicts as its live user data: remember a copy of what is stored.
        self._saved_users = {user_id: copy.deepcopy(data) for user_id, data in users.items()}
        return users

    async def update_user_data(self, user_id: int, data: dict[str, Any]) -> None:
        self._users[user_id] = data

    async def drop_user_data(self, user_id: int) -> None:
        self._users[user_id] = None

    async def refresh_user_data(self, user_id: int, user_data: dict[str, Any]) -> None:
        """The database is only written by this process; nothing to refresh."""

    async def get_conversations(self, name: str) -> ConversationDict:
        states = await (await self.storage()).conversations.states(name)
        self._saved_states.update({(name, key): state for key, state in states.items()})
        conversations: ConversationDict = {key: state for key, state in states.items()}
        return conversations

    async def update_conversation(
        self, name: str, key: ConversationKey, new_state: object | None
    ) -> None:
        # PTB types states as object; every state of ours is an IntEnum, stored as its int.
        if new_state is not None and not isinstance(new_state, int):
            raise TypeError(f"conversation {name}: state {new_state!r} is not an int")
        self._states[(name, key)] = None if new_state is None else int(new_state)

    async def commit(self, handled: Collection[int], now: datetime) -> None:
        """Write what PTB handed over since the last commit, and mark `handled` done, in
        one transaction. On failure the changes stay for the next commit."""
        users, states = self._users, self._states
        self._users, self._states = {}, {}
        # What the database already holds is not written again (PTB gave copies: kept as is).
        changed_users = {
            user_id: data
            for user_id, data in users.items()
            if (data or None) != self._saved_users.get(user_id)
        }
        changed_states = {
            key: state for key, state in states.items() if state != self._saved_states.get(key)
        }
        if not (changed_users or changed_states or handled):
            return
        try:
            await (await self.storage()).conversations.save(
                changed_users, changed_states, handled, now
            )
        except BaseException:
            # Newer changes made meanwhile win over the ones put back.
            self._users, self._states = {**users, **self._users}, {**states, **self._states}
            raise
        for user_id, data in changed_users.items():
            if data:
                self._saved_users[user_id] = data
            else:
                self._saved_users.pop(user_id, None)
        for key, state in changed_states.items():
            if state is None:
                self._saved_states.pop(key, None)
            else:
                self._saved_states[key] = state

    async def flush(self) -> None:
        """At a clean stop: whatever is left (every update is handled by then)."""
        if self._storage is not None:
            await self.commit((), datetime.now(UTC))

    # Chat data, bot data and callback data are not stored (store_data above).
    async def get_chat_data(self) -> dict[int, dict[str, Any]]:
        return {}

    async def get_bot_data(self) -> dict[str, Any]:
        return {}

    async def get_callback_data(self) -> CDCData | None:
        return None

    async def update_chat_data(self, chat_id: int, data: dict[str, Any]) -> None:
        """Not stored."""

    async def update_bot_data(self, data: dict[str, Any]) -> None:
        """Not stored."""

    async def update_callback_data(self, data: CDCData) -> None:
        """Not stored."""

    async def drop_chat_data(self, chat_id: int) -> None:
        """Not stored."""

    async def refresh_chat_data(self, chat_id: int, chat_data: dict[str, Any]) -> None:
        """Not stored."""

    async def refresh_bot_data(self, bot_data: dict[str, Any]) -> None:
        """Not stored."""
