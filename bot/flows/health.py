"""The bot's signs of life: the last update handled (for `python -m bot status`) and the
systemd watchdog (bot/app/systemd.py), both driven from the event loop.

The update heartbeat is written at most once per BEAT_EVERY, so a busy bot pays one small
write a minute for it; status shows it to the minute.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from bot.app import systemd
from bot.app.context import BotContext
from bot.app.services import Services

log = logging.getLogger(__name__)

UPDATE = "update"  # heartbeat name: the last update the bot handled
BEAT_EVERY = timedelta(minutes=1)


async def update_handled(services: Services) -> None:
    now = services.now()
    last = services.update_beat_at
    if last is not None and now - last < BEAT_EVERY:
        return
    services.update_beat_at = now
    await services.storage.health.beat(UPDATE, now)


async def ready_job(context: BotContext) -> None:
    """Once the job queue runs (after polling started): tell systemd the bot is up."""
    if systemd.ready(f"polling as @{context.services.bot_username}"):
        log.info("told systemd the bot is ready")


async def watchdog_job(context: BotContext) -> None:
    """Runs on the event loop: if the loop hangs, the pings stop and systemd restarts us."""
    systemd.ping()
