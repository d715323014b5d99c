"""Conversation state in the bot's SQLite database, so a restart loses no half-filled form.

PTB loads persistence during Application.initialize(), before post_init, so the
Storage is opened here on first use and shared with the rest of the bot: one
connection, so a write here can never collide with a transaction there.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import aiosqlite
from telegram.ext import BasePersistence, PersistenceInput
from telegram.ext._utils.types import CDCData, ConversationDict, ConversationKey

if TYPE_CHECKING:
    from storage.db import Storage

MIGRATION = """
CREATE TABLE conversation_state (
    name  TEXT NOT NULL,
    key   TEXT NOT NULL,
    state INTEGER NOT NULL,
    PRIMARY KEY (name, key)
);
CREATE TABLE user_state (
    user_id INTEGER PRIMARY KEY,
    data    TEXT NOT NULL
);
"""


class SqlitePersistence(BasePersistence[dict[str, Any], dict[str, Any], dict[str, Any]]):
    """User data (the officer's draft) and conversation states; nothing else is kept."""

    def __init__(self, open_storage: Callable[[], Awaitable[Storage]]) -> None:
        # Writes are driven after every update (see bot.app.processor), so the interval is
        # only a safety net.
        super().__init__(
            store_data=PersistenceInput(
                bot_data=False, chat_data=False, user_data=True, callback_data=False
            ),
            update_interval=30,
        )
        self._open_storage = open_storage
        self._storage: Storage | None = None

    async def storage(self) -> Storage:
        """The bot's Storage, opened (and migrated) on first use."""
        if self._storage is None:
            self._storage = await self._open_storage()
        return self._storage

    async def _read(self) -> aiosqlite.Connection:
        return (await self.storage()).connection

    async def _write(self, sql: str, params: tuple[Any, ...]) -> None:
        async with (await self.storage()).transaction() as db:
            await db.execute(sql, params)

    async def get_user_data(self) -> dict[int, dict[str, Any]]:
        storage = await self.storage()
        async with storage.connection.execute("SELECT user_id, data FROM user_state") as cur:
            rows = await cur.fetchall()
        return {row[0]: json.loads(storage.cipher.decrypt_text(row[1])) for row in rows}

    async def update_user_data(self, user_id: int, data: dict[str, Any]) -> None:
        if data:
            # A half-filled form holds a NIK and a phone number: encrypted like the rest.
            cipher = (await self.storage()).cipher
            await self._write(
                "INSERT OR REPLACE INTO user_state (user_id, data) VALUES (?, ?)",
                (user_id, cipher.encrypt_text(json.dumps(data, ensure_ascii=False))),
            )
        else:
            await self._write("DELETE FROM user_state WHERE user_id = ?", (user_id,))

    async def drop_user_data(self, user_id: int) -> None:
        await self._write("DELETE FROM user_state WHERE user_id = ?", (user_id,))

    async def refresh_user_data(self, user_id: int, user_data: dict[str, Any]) -> None:
        """The database is only written by this process; nothing to refresh."""

    async def get_conversations(self, name: str) -> ConversationDict:
        db = await self._read()
        async with db.execute(
            "SELECT key, state FROM conversation_state WHERE name = ?", (name,)
        ) as cur:
            return {tuple(json.loads(row[0])): row[1] for row in await cur.fetchall()}

    async def update_conversation(
        self, name: str, key: ConversationKey, new_state: object | None
    ) -> None:
        encoded = json.dumps(list(key))
        if new_state is None:
            await self._write(
                "DELETE FROM conversation_state WHERE name = ? AND key = ?", (name, encoded)
            )
        else:
            await self._write(
                "INSERT OR REPLACE INTO conversation_state (name, key, state) VALUES (?, ?, ?)",
                (name, encoded, int(new_state)),  # type: ignore[call-overload]
            )

    async def flush(self) -> None:
        """Every write is committed as it happens; the Storage is closed at post_shutdown."""

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
