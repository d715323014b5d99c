"""Conversation state (the officer's half-filled form, a deny reason being typed).

The SQL behind bot/app/persistence.py, which adapts it to PTB's persistence interface;
nothing here knows Telegram. A form holds a NIK and a phone number: user data is
encrypted like the rest of the personal data.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from datetime import datetime
from typing import Any

from storage.base import Database, Statement, fetch_all
from storage.updates import IncomingUpdates

ConversationKey = tuple[str | int, ...]


class Conversations:
    def __init__(self, database: Database) -> None:
        self._database = database

    async def user_data(self) -> dict[int, dict[str, Any]]:
        rows = await fetch_all(self._database.connection, "SELECT user_id, data FROM user_state")
        cipher = self._database.cipher
        return {row["user_id"]: json.loads(cipher.decrypt_text(row["data"])) for row in rows}

    async def set_user_data(self, user_id: int, data: dict[str, Any]) -> None:
        """Store ``data`` for the user; empty data removes the row."""
        if not data:
            await self.drop_user_data(user_id)
            return
        encrypted = self._database.cipher.encrypt_text(json.dumps(data, ensure_ascii=False))
        async with self._database.transaction() as db:
            await db.execute(
                "INSERT OR REPLACE INTO user_state (user_id, data) VALUES (?, ?)",
                (user_id, encrypted),
            )

    async def drop_user_data(self, user_id: int) -> None:
        async with self._database.transaction() as db:
            await db.execute("DELETE FROM user_state WHERE user_id = ?", (user_id,))

    async def states(self, name: str) -> dict[tuple[str | int, ...], int]:
        """Every open conversation of handler ``name``: its key and state."""
        return {
            tuple(json.loads(row["key"])): row["state"]
            for row in await fetch_all(
                self._database.connection,
                "SELECT key, state FROM conversation_state WHERE name = ?",
                (name,),
            )
        }

    async def set_state(self, name: str, key: tuple[str | int, ...], state: int | None) -> None:
        """Record where a conversation stands; None ends it."""
        encoded = json.dumps(list(key))
        async with self._database.transaction() as db:
            if state is None:
                await db.execute(
                    "DELETE FROM conversation_state WHERE name = ? AND key = ?", (name, encoded)
                )
            else:
                await db.execute(
                    "INSERT OR REPLACE INTO conversation_state (name, key, state)"
                    " VALUES (?, ?, ?)",
                    (name, encoded, state),
                )

    async def save(
        self,
        users: Mapping[int, dict[str, Any] | None],
        states: Mapping[tuple[str, ConversationKey], int | None],
        handled: Collection[int],
        now: datetime,
    ) -> None:
        """One transaction: users' data (None or empty removes it), conversation states
        (None ends one) and the updates whose handling produced them, marked done. So an
        update is either handled and recorded, or neither (and is handled again)."""
        cipher = self._database.cipher
        statements: list[Statement] = []
        for user_id, data in users.items():
            if data:
                encrypted = cipher.encrypt_text(json.dumps(data, ensure_ascii=False))
                statements.append(
                    (
                        "INSERT OR REPLACE INTO user_state (user_id, data) VALUES (?, ?)",
                        (user_id, encrypted),
                    )
                )
            else:
                statements.append(("DELETE FROM user_state WHERE user_id = ?", (user_id,)))
        for (name, key), state in states.items():
            encoded = json.dumps(list(key))
            if state is None:
                statements.append(
                    (
                        "DELETE FROM conversation_state WHERE name = ? AND key = ?",
                        (name, encoded),
                    )
                )
            else:
                statements.append(
                    (
                        "INSERT OR REPLACE INTO conversation_state (name, key, state)"
                        " VALUES (?, ?, ?)",
                        (name, encoded, state),
                    )
                )
        statements += IncomingUpdates.marked_done(handled, now)
        # One trip to the database thread for the whole transaction: this runs after every
        # update.
        await self._database.write_all(statements)
