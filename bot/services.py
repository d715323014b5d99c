"""Shared objects handlers reach through the typed context (never a bot_data grab-bag)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from bot.config import Config, StaffMember
from storage.db import Storage

if TYPE_CHECKING:
    from bot.delivery import Delivery

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(UTC)


class Services:
    """The application's bot_data: config and clock set at build, storage in post_init."""

    config: Config
    storage: Storage
    delivery: Delivery
    delivery_task: asyncio.Task[None] | None = None
    retry_base: float = 1.0
    clock: Clock = staticmethod(system_clock)
    bot_username: str = ""

    def now(self) -> datetime:
        return self.clock()

    def member(self, user_id: int | None) -> StaffMember | None:
        return self.config.member(user_id)

    def name_of(self, user_id: int | None) -> str:
        member = self.config.member(user_id)
        return member.name if member else "-"
