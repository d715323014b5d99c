"""getUpdates: long polling with Telegram's offset and conflict semantics."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field

from simulator.api import ApiError, Params, bad_request
from simulator.state import SimState
from simulator.webhook import CONFLICT_WEBHOOK, TERMINATED_BY_SET_WEBHOOK

__all__ = ["CONFLICT", "LongPoll"]

CONFLICT = (
    "Conflict: terminated by other getUpdates request; "
    "make sure that only one bot instance is running"
)


@dataclass(eq=False)
class _Request:
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    terminated: bool = False


class LongPoll:
    """Holds at most one getUpdates request open until updates exist or it times out.

    Updates stay queued until a later call's offset confirms them, so a response lost on
    the way (a dropped connection, a client timeout) is delivered again, as on Telegram.
    """

    def __init__(self, state: SimState, on_confirm: Callable[[], None]):
        self.state = state
        self.closing = False
        self._on_confirm = on_confirm
        self._current: _Request | None = None

    def wake(self) -> None:
        if self._current is not None:
            self._current.wake.set()

    def close(self) -> None:
        """Answer the open request now (with whatever is queued); used on shutdown."""
        self.closing = True
        self.wake()

    async def get_updates(self, p: Params) -> list[dict]:
        if self.state.webhook is not None:
            raise ApiError(409, CONFLICT_WEBHOOK)
        offset = p.integer("offset")
        limit = min(max(p.integer("limit", 100) or 100, 1), 100)
        timeout = max(0.0, p.number("timeout", 0.0) or 0.0)
        allowed = p.json("allowed_updates", invalid="can't parse allowed updates")
        if allowed is not None:
            if not isinstance(allowed, list):
                raise bad_request("can't parse allowed updates")
            # An empty list means "the default set", like leaving it out the first time.
            self.state.allowed_updates = {str(kind) for kind in allowed} or None
        if self.state.confirm(offset):
            self._on_confirm()
        if self._current is not None:
            # Telegram keeps the newest request and ends the older one with 409.
            self._current.terminated = True
            self._current.wake.set()
        request = self._current = _Request()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        try:
            while True:
                if request.terminated:
                    raise ApiError(409, CONFLICT)
                if self.state.webhook is not None:
                    raise ApiError(409, TERMINATED_BY_SET_WEBHOOK)
                updates = self.state.deliverable(limit)
                remaining = deadline - loop.time()
                if updates or remaining <= 0 or self.closing:
                    return updates
                request.wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(request.wake.wait(), remaining)
        finally:
            if self._current is request:
                self._current = None
