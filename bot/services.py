"""Shared objects handlers reach through the typed context (never a bot_data grab-bag)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from bot.config import Config, StaffMember
from storage.db import Storage

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(UTC)


class Services:
    """The application's bot_data: config and clock set at build, storage in post_init."""

    config: Config
    storage: Storage
    clock: Clock = staticmethod(system_clock)
    bot_username: str = ""

    def __init__(self) -> None:
        # approver user id -> visit id whose deny reason we are waiting for
        self.deny_pending: dict[int, int] = {}

    def now(self) -> datetime:
        return self.clock()

    def member(self, user_id: int | None) -> StaffMember | None:
        return self.config.member(user_id)

    def name_of(self, user_id: int | None) -> str:
        member = self.config.member(user_id)
        return member.name if member else "-"
