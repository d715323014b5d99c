"""Wiring in one place: build the Application and register every handler, in order."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta
from typing import Any, cast

from telegram.constants import ParseMode
from telegram.ext import AIORateLimiter, ApplicationBuilder, ContextTypes, Defaults

from bot.app.config import Config
from bot.app.context import BotApp, BotContext
from bot.app.persistence import SqlitePersistence
from bot.app.processor import PerChatUpdateProcessor
from bot.app.request import AiohttpRequest, RetryingRequest
from bot.app.services import Clock, Services, system_clock
from bot.flows import deadlines, privacy, workflow
from bot.flows.delivery import Delivery
from handlers import (
    access,
    approval,
    arguments,
    cancel,
    errors,
    oversight,
    registration,
    reports,
    scan,
    staff,
    start,
)
from storage.crypto import Cipher
from storage.db import Storage

log = logging.getLogger(__name__)

EXPIRY_SWEEP = timedelta(minutes=1)
ALLOWED_UPDATES = ["message", "callback_query"]


def build_application(
    config: Config,
    *,
    clock: Clock = system_clock,
    rate_limit: bool = True,
    concurrency: int | None = 64,
    retry_base: float = 1.0,
    request_timeout: float = 10.0,
    request_retries: int = 3,
) -> BotApp:
    """The bot, ready for run_polling() or for a test's initialize()/start().

    `concurrency` bounds the updates handled at once (each chat stays in order); None
    handles one update at a time, which the benchmarks compare against. `retry_base` is
    the outbox's first retry delay in seconds (tests shorten it).
    """
    processor = PerChatUpdateProcessor(concurrency or 1)
    # The builder's type parameters change with each call (PTB infers them call by call);
    # what the application is typed as is fixed once, by the cast to BotApp below.
    builder: ApplicationBuilder[Any, Any, Any, Any, Any, Any] = (
        ApplicationBuilder()
        .token(config.token)
        .context_types(ContextTypes(context=BotContext, bot_data=Services))
        .defaults(Defaults(parse_mode=ParseMode.HTML, tzinfo=config.timezone))
        .concurrent_updates(processor)
        .persistence(SqlitePersistence(lambda: _open_storage(config)))
        # Several chats are served at once, so the pool must hold more than one request.
        .request(
            RetryingRequest(
                retries=request_retries,
                retry_base=retry_base / 2,
                connection_pool_size=32,
                read_timeout=request_timeout,
                write_timeout=request_timeout * 2,
                connect_timeout=request_timeout / 2,
                proxy=config.proxy,
            )
        )
        .get_updates_request(AiohttpRequest(read_timeout=30, proxy=config.proxy))
        .post_init(_post_init)
        .post_stop(_post_stop)
        .post_shutdown(_post_shutdown)
    )
    if config.base_url:
        builder = builder.base_url(config.base_url)
    if config.base_file_url:
        builder = builder.base_file_url(config.base_file_url)
    if rate_limit:
        # Stays under Telegram's flood limits; retries are RetryingRequest's and the outbox's.
        builder = builder.rate_limiter(AIORateLimiter(max_retries=0))
    app = cast(BotApp, builder.build())
    services: Services = app.bot_data
    services.config = config
    services.clock = clock
    services.retry_base = retry_base
    # The form's state is written as each step completes, not only at a clean stop.
    processor.after_update = app.update_persistence
    _register(app, services)
    return app


def _register(app: BotApp, services: Services) -> None:
    # Group -2 runs before everything: strangers stop here (ApplicationHandlerStop).
    app.add_handler(access.build(), group=-2)
    # Group -1: a command typed without its argument waits for the next text; that answer
    # stops here, anything else goes on to group 0 (and another command ends the wait).
    app.add_handler(arguments.build(), group=-1)
    # Group 0, first match wins, so order matters:
    # 1. a pending deny reason beats the officer's conversation (one person may hold both roles);
    app.add_handlers(approval.build())
    # likewise a pending cancel reason (/batalkan): the form open in the same chat waits;
    app.add_handlers(cancel.build())
    # the access log's reports, statistics and history (their own callback actions);
    app.add_handlers(reports.build())
    # /start inv_<secret> (an invitation) before scan.build()'s /start <badge token>;
    app.add_handlers(staff.build())
    # 2. /start and /bantuan (and /help); /start <token> is a scan and lives in scan.build();
    app.add_handlers(start.build_first())
    # 3. the registration conversation claims the officer's messages while it is active;
    app.add_handler(registration.build())
    # 4. scans, manual codes and entry/exit taps; a photo outside the conversation is a badge;
    app.add_handlers(scan.build())
    app.add_handlers(oversight.build())
    # 5. catch-alls last.
    app.add_handlers(start.build_last())
    app.add_error_handler(errors.on_error)


async def start_polling(app: BotApp, *, poll_timeout: int = 10) -> None:
    """What run_polling() does before it blocks, for callers that own the event loop."""
    await app.initialize()
    if app.post_init is not None:
        await app.post_init(app)
    await app.start()
    assert app.updater is not None
    await app.updater.start_polling(
        poll_interval=0, timeout=poll_timeout, allowed_updates=ALLOWED_UPDATES
    )


async def stop_polling(app: BotApp) -> None:
    """What run_polling() does on the way out."""
    assert app.updater is not None
    if app.updater.running:
        await app.updater.stop()
    if app.running:
        await app.stop()
    if app.post_stop is not None:
        await app.post_stop(app)
    await app.shutdown()
    if app.post_shutdown is not None:
        await app.post_shutdown(app)


async def _open_storage(config: Config) -> Storage:
    cipher = Cipher(config.encryption_key, config.signing_secret)
    return await Storage.open(config.database_path, cipher)


async def _post_init(app: BotApp) -> None:
    services: Services = app.bot_data
    assert isinstance(app.persistence, SqlitePersistence)
    # Opened by the persistence during initialize(); one connection for everything.
    services.storage = await app.persistence.storage()
    services.bot_username = app.bot.username
    # Undelivered messages from before a restart go out first.
    services.delivery = Delivery(services, app.bot, services.retry_base)
    services.delivery_task = asyncio.create_task(services.delivery.run(), name="outbox")
    # The config's staff seed the database; the cache answers services.member() from now on.
    seed = [(m.user_id, m.name, m.roles) for m in services.config.staff]
    await services.storage.staff.seed(seed, services.now())
    await services.refresh_staff()
    await start.publish_commands(services, app.bot)
    await start.publish_description(app.bot)
    await registration.resume_after_restart(app)
    if app.job_queue is not None:
        # first=1, not 0: a first run at "now" is skipped by APScheduler; one second
        # after start, a sweep missed while the bot was down catches up.
        app.job_queue.run_repeating(_expiry_sweep, interval=EXPIRY_SWEEP, first=1)
        # KTP downloads are retried and the daily purge catches up at start (bot/flows/privacy.py).
        app.job_queue.run_repeating(privacy.sweep_job, interval=privacy.SWEEP_INTERVAL, first=2)
        # Reminders, escalations and overstay alerts, decided from SQLite and the clock.
        # first=1, not 0: APScheduler skips a first run at "now" (see run_repeating's docs).
        app.job_queue.run_repeating(deadlines.deadline_job, interval=deadlines.INTERVAL, first=1)
        tz = services.config.timezone
        review_at = services.config.daily_review_time.replace(tzinfo=tz)
        app.job_queue.run_daily(deadlines.review_job, time=review_at)
        app.job_queue.run_once(deadlines.review_catch_up, when=0)
    log.info("bot @%s ready, database %s", services.bot_username, services.config.database_path)


async def _post_stop(app: BotApp) -> None:
    # The outbox stops while the bot's HTTP client is still open (shutdown() closes it),
    # so a send in flight finishes instead of leaving a socket behind.
    services: Services = app.bot_data
    task = getattr(services, "delivery_task", None)
    if task is not None:
        services.delivery_task = None
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def _post_shutdown(app: BotApp) -> None:
    services: Services = app.bot_data
    await _post_stop(app)  # a start that failed half-way never ran post_stop
    if getattr(services, "storage", None) is not None:
        await services.storage.close()


async def _expiry_sweep(context: BotContext) -> None:
    """Badges past their window die even if nobody scans them (deadline kept in SQLite)."""
    await workflow.expire_overdue(context.services)
