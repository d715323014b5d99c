"""No update lost: each update is stored before Telegram is told it arrived.

PTB's Updater, polling or webhook, hands every update to ``Application.update_queue``
with ``await update_queue.put(update)``, and only then confirms it: polling by the offset
of its next getUpdates, the webhook by answering 200 to Telegram's POST. This queue
stores the update (encrypted, storage/updates.py) inside that ``put``, so a process
killed after the confirmation still has it; when polling, the whole getUpdates answer is
stored in one write as it arrives (``IntakeRequest``), before PTB reads it, and ``put``
finds each update stored. After handling, ``after_update`` (run by the
update processor under the chat's lock) writes the conversation state PTB collected and
marks the handled updates done in one transaction. At start ``replay`` queues what was
stored but not done, in update_id order, before the Updater fetches anything new.
"""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from telegram import Bot, Update
from telegram.error import TelegramError

from bot.app.persistence import SqlitePersistence
from bot.app.request import AiohttpRequest

if TYPE_CHECKING:
    from bot.app.context import BotApp
    from bot.app.services import Services

log = logging.getLogger(__name__)

# Telegram keeps an unconfirmed update for 24 hours; a handled one is remembered as long,
# so a late re-delivery (a restart before the next getUpdates confirmed it) is recognised.
KEEP_HANDLED = timedelta(hours=24)
# An update whose handling took down this many processes in a row is set aside (and
# logged), so one poisonous update cannot keep the bot from starting.
MAX_ATTEMPTS = 3
# Test hook (tests/system/test_kill.py): seconds to wait between taking an update off the
# queue and handling it, so a SIGKILL can land after its confirmation and before handling.
HANDLE_DELAY_ENV = "AKSES_TEST_HANDLE_DELAY"


class IntakeError(TelegramError):
    """The update could not be stored. A TelegramError, so PTB's polling loop retries
    (the offset stays, so it is fetched again) and the webhook answers 500 (Telegram
    delivers it again)."""


# Updates in one getUpdates answer at most (Telegram's own limit is 100).
MAX_BATCH = 100


class IntakeRequest(AiohttpRequest):
    """getUpdates' HTTP client: a batch of updates is stored in one write as it arrives,
    before PTB reads it. PTB hands the updates to ``put`` one after another, and the next
    getUpdates waits for the last: stored one by one, each waited for the write lock and a
    trip to the database thread, which under load held every update of the batch (and the
    next batch) for milliseconds each."""

    def __init__(self, intake: DurableUpdateQueue, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._intake = intake

    async def do_request(self, *args: Any, **kwargs: Any) -> tuple[int, bytes]:
        code, payload = await super().do_request(*args, **kwargs)
        if code == 200:
            await self._intake.prestore(payload)
        return code, payload


class DurableUpdateQueue(asyncio.Queue[object]):
    """``Application.update_queue``, with every update stored before ``put`` returns."""

    def __init__(self, handle_delay: float = 0.0) -> None:
        super().__init__()
        self.handle_delay = handle_delay
        self._handled: set[int] = set()
        # update_id -> stored now (False: it was here already), for the batch IntakeRequest
        # stored just before PTB hands it to ``put``.
        self._prestored: dict[int, bool] = {}
        self._unqueued: set[int] = set()  # stored by IntakeRequest, not yet put on the queue
        self._flush_lock = asyncio.Lock()
        self._app: BotApp | None = None

    def attach(self, app: BotApp) -> None:
        self._app = app

    @property
    def _services(self) -> Services:
        assert self._app is not None, "attach() the application first"
        return self._app.bot_data

    async def prestore(self, payload: bytes) -> None:
        """Store the updates of a getUpdates answer (IntakeRequest) in one write; ``put``
        then finds each one stored. An answer that is not a list of updates is left to PTB,
        whose own parsing reports it; ``put`` stores what it gets."""
        self._prestored = {}
        try:
            body = json.loads(payload)
        except ValueError:
            return
        batch = body.get("result") if isinstance(body, dict) and body.get("ok") else None
        if not isinstance(batch, list):
            return
        updates = [
            (u["update_id"], u)
            for u in batch[:MAX_BATCH]
            if isinstance(u, dict) and type(u.get("update_id")) is int
        ]
        if not updates:
            return
        try:
            fresh = await self._services.storage.updates.store_many(updates, self._services.now())
        except Exception as exc:
            # Nothing is confirmed: PTB's polling loop asks for the same updates again.
            raise IntakeError(f"{len(updates)} updates could not be stored") from exc
        # Stored here but not yet queued counts as fresh too: a batch PTB failed to read is
        # fetched again, and must not pass for a delivery of updates already taken in.
        self._unqueued |= fresh
        self._prestored = {update_id: update_id in self._unqueued for update_id, _ in updates}

    async def put(self, item: object) -> None:
        if isinstance(item, Update):
            fresh = self._prestored.pop(item.update_id, None)
            if fresh is None:  # not in a batch IntakeRequest stored (a webhook's update)
                services = self._services
                try:
                    fresh = await services.storage.updates.store(
                        item.update_id, json.loads(item.to_json()), services.now()
                    )
                except Exception as exc:
                    raise IntakeError(f"update {item.update_id} could not be stored") from exc
            if not fresh:
                # Delivered again (Telegram never saw it confirmed): it is already queued
                # or handled.
                log.info("update %s delivered again; already taken in", item.update_id)
                return
            self._unqueued.discard(item.update_id)
        await super().put(item)

    async def get(self) -> object:
        item = await super().get()
        if self.handle_delay and isinstance(item, Update):
            await asyncio.sleep(self.handle_delay)
        return item

    async def replay(self, bot: Bot) -> set[int]:
        """Queue the updates stored but not handled before the last stop; the chats they
        come from (their answer is on its way, so nothing else need be said there)."""
        services = self._services
        updates = services.storage.updates
        await updates.prune(services.now() - KEEP_HANDLED)
        stored = await updates.reopen(MAX_ATTEMPTS, services.now())
        chats: set[int] = set()
        for entry in stored:
            update = Update.de_json(entry.data, bot)
            # Already stored: straight onto the queue (put_nowait is not the storing put).
            self.put_nowait(update)
            if update.effective_chat is not None:
                chats.add(update.effective_chat.id)
        for update_id in await updates.given_up():
            log.error(
                "update %s was set aside: handling it stopped the bot %s times",
                update_id,
                MAX_ATTEMPTS,
            )
        if stored:
            log.info("%d updates taken in before the restart are handled now", len(stored))
        return chats

    async def after_update(self, update: object | None) -> None:
        """After an update was handled (None: its handling failed), under the chat's lock:
        persist what PTB collected and mark every update handled so far done, atomically.

        The handled set and PTB's collection are taken at the same instant (nothing awaits
        between them, and only this lock drives PTB's flush), so every state written
        belongs to an update marked done in the same transaction.
        """
        if isinstance(update, Update):
            self._handled.add(update.update_id)
        app = self._app
        assert app is not None
        async with self._flush_lock:
            handled, self._handled = self._handled, set()
            await app.update_persistence()
            persistence = app.persistence
            assert isinstance(persistence, SqlitePersistence)
            try:
                await persistence.commit(handled, self._services.now())
            except BaseException:
                self._handled |= handled
                raise


async def prune_job(services: Services) -> None:
    """Forget updates handled more than a day ago (their data went when they were done)."""
    await services.storage.updates.prune(services.now() - KEEP_HANDLED)
