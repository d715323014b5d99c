"""HTTP to the Bot API that rides out a flaky connection.

A patchy network (or Telegram itself) answers some calls with 429, 5xx, a timeout or
a dropped connection. Each call is tried a few more times with a short backoff
before the error reaches the handler, so the officer's next question still arrives.
Messages the workflow depends on are in the outbox as well (bot.flows.delivery), which
keeps retrying across restarts.
"""

from __future__ import annotations

import asyncio
import json
import random
import re
from typing import Any

from telegram.error import NetworkError, TimedOut
from telegram.request import HTTPXRequest

RETRY_STATUS = {500, 502, 503, 504}
MAX_INLINE_RETRY_AFTER = 10.0  # longer waits are left to the outbox
MAX_BACKOFF = 4.0  # between attempts; someone is waiting for an answer
_TRUE = json.dumps({"ok": True, "result": True}).encode()
# What Telegram says when a retried call finds that the first attempt did arrive.
_ALREADY_DONE = re.compile(rb"message is not modified|query ID is invalid")
# A tap handled late (stored before a crash and handled after the restart, see
# bot/app/intake.py) can no longer be answered: "query is too old and response timeout
# expired or query ID is invalid". The answer only stops the spinner on the person's phone
# (https://core.telegram.org/bots/api#answercallbackquery); the tap itself still counts.
_STALE_QUERY = re.compile(rb"query is too old")


class RetryingRequest(HTTPXRequest):
    def __init__(self, *args: Any, retries: int = 3, retry_base: float = 0.5, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._retries = retries
        self._retry_base = retry_base

    async def do_request(self, *args: Any, **kwargs: Any) -> tuple[int, bytes]:
        timed_out = False
        for attempt in range(self._retries + 1):
            last = attempt == self._retries
            try:
                code, payload = await super().do_request(*args, **kwargs)
            except TimedOut:
                # The request may have reached Telegram; a retry can show a duplicate.
                if last:
                    raise
                timed_out = True
            except NetworkError:
                if last:
                    raise
            else:
                if code == 400 and timed_out and _ALREADY_DONE.search(payload):
                    return 200, _TRUE  # the timed-out edit or callback answer did happen
                if code == 400 and _answers_query(args, kwargs) and _STALE_QUERY.search(payload):
                    return 200, _TRUE
                if code == 429 and not last:
                    wait = _retry_after(payload)
                    if wait is not None and wait <= MAX_INLINE_RETRY_AFTER:
                        await asyncio.sleep(wait)
                        continue
                if code not in RETRY_STATUS or last:
                    return code, payload
            backoff = min(MAX_BACKOFF, self._retry_base * 2**attempt)
            await asyncio.sleep(backoff * random.uniform(0.5, 1.0))
        raise AssertionError("unreachable")


def _answers_query(args: tuple[Any, ...], kwargs: dict[str, Any]) -> bool:
    url = kwargs.get("url", args[0] if args else "")
    return isinstance(url, str) and url.endswith("/answerCallbackQuery")


def _retry_after(payload: bytes) -> float | None:
    try:
        return float(json.loads(payload)["parameters"]["retry_after"])
    except (ValueError, KeyError, TypeError):
        return None
