"""Wiring in one place: build the Application and register every handler, in order."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shlex
import stat
from datetime import timedelta
from pathlib import Path
from typing import Any, cast

from telegram.constants import ParseMode
from telegram.ext import AIORateLimiter, ApplicationBuilder, ContextTypes, Defaults

from bot.app import drafts, systemd
from bot.app.config import Config
from bot.app.context import BotApp, BotContext
from bot.app.errorgroups import ErrorGroups
from bot.app.intake import DurableUpdateQueue, IntakeRequest, prune_job
from bot.app.persistence import SqlitePersistence
from bot.app.processor import PerChatUpdateProcessor
from bot.app.request import RetryingRequest
from bot.app.services import Clock, Services, system_clock
from bot.flows import backups, deadlines, health, ktp_read, privacy, workflow
from bot.flows.delivery import Delivery
from handlers import (
    access,
    approval,
    arguments,
    cancel,
    duty,
    edits,
    errors,
    exit_check,
    handover,
    opened,
    oversight,
    planning,
    registration,
    reports,
    rollcall,
    scan,
    staff,
    start,
    watchlist,
)
from handlers import health as heartbeat
from storage.crypto import Cipher
from storage.db import Storage

log = logging.getLogger(__name__)

EXPIRY_SWEEP = timedelta(minutes=1)
# my_chat_member: being added to a group, which the bot leaves at once (handlers/access.py).
# edited_message: a person who corrects an answer by editing it is told the edit is not read
# (handlers/access.py); without it Telegram never sends the edit and the first value stays
# stored without a word.
ALLOWED_UPDATES = ["message", "edited_message", "callback_query", "my_chat_member"]
# HTTP connections to the Bot API at once (RetryingRequest; getUpdates has its own).
POOL_SIZE = 128


def build_application(
    config: Config,
    *,
    clock: Clock = system_clock,
    rate_limit: bool = True,
    concurrency: int | None = 64,
    retry_base: float = 1.0,
    request_timeout: float = 10.0,
    request_retries: int = 3,
    handle_delay: float = 0.0,
) -> BotApp:
    """The bot, ready for run_polling() or for a test's initialize()/start().

    `concurrency` bounds the updates handled at once (each chat stays in order); None
    handles one update at a time, which the benchmarks compare against. `retry_base` is
    the outbox's first retry delay in seconds (tests shorten it). `handle_delay` holds each
    update that long between the queue and its handling (the kill test's window).
    """
    processor = PerChatUpdateProcessor(concurrency or 1)
    # Every update is stored before Telegram is told it arrived (bot/app/intake.py).
    intake = DurableUpdateQueue(handle_delay)
    # The builder's type parameters change with each call (PTB infers them call by call);
    # what the application is typed as is fixed once, by the cast to BotApp below.
    builder: ApplicationBuilder[Any, Any, Any, Any, Any, Any] = (
        ApplicationBuilder()
        .token(config.token)
        .context_types(ContextTypes(context=BotContext, bot_data=Services))
        .update_queue(intake)
        .defaults(Defaults(parse_mode=ParseMode.HTML, tzinfo=config.timezone))
        .concurrent_updates(processor)
        .persistence(SqlitePersistence(lambda: _open_storage(config)))
        # Several chats are served at once, so the pool must hold more than one request:
        # up to `concurrency` updates handled at once, each with a tap's answer and an edit
        # in flight, and the outbox's PARALLEL_CHATS sends. With 32, a busy desk (2.3 calls
        # an update) queued for connections: at 100 ms of latency 133 updates/s, 166 with 64
        # or 128 (bench/findings.md).
        .request(
            RetryingRequest(
                retries=request_retries,
                retry_base=retry_base / 2,
                connection_pool_size=POOL_SIZE,
                read_timeout=request_timeout,
                write_timeout=request_timeout * 2,
                connect_timeout=request_timeout / 2,
                proxy=config.proxy,
            )
        )
        .get_updates_request(IntakeRequest(intake, read_timeout=30, proxy=config.proxy))
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
    services.errors = ErrorGroups()
    # The form's state is written as each step completes, not only at a clean stop, in one
    # transaction with the update marked done.
    intake.attach(app)
    processor.after_update = intake.after_update
    _register(app, services)
    return app


def _register(app: BotApp, services: Services) -> None:
    # Group -4 sees every update, strangers' too, and stops none: the heartbeat for status.
    app.add_handler(heartbeat.build(), group=-4)
    # Group -3 only notes a staff member's first update (/staf shows who never opened the bot).
    app.add_handler(opened.build(), group=-3)
    # Group -2 runs before everything: strangers stop here (ApplicationHandlerStop).
    app.add_handler(access.build(), group=-2)
    # Group -1: a command typed without its argument waits for the next text; that answer
    # stops here, anything else goes on to group 0 (and another command ends the wait).
    app.add_handler(arguments.build(), group=-1)
    # Group 0, first match wins, so order matters:
    # 0. the evacuation roll call before everything: /darurat must work even mid-form or
    #    while a deny or cancel reason is awaited (those wait, untouched);
    app.add_handlers(rollcall.build())
    # 1. a pending deny reason beats the officer's conversation (one person may hold both roles);
    app.add_handlers(approval.build())
    # likewise a pending cancel reason (/batalkan): the form open in the same chat waits;
    app.add_handlers(cancel.build())
    # likewise the escort's note on an equipment discrepancy at KELUAR;
    app.add_handlers(exit_check.build())
    # the access log's reports, statistics and history (their own callback actions);
    app.add_handlers(reports.build())
    # /start inv_<secret> (an invitation) before scan.build()'s /start <badge token>;
    app.add_handlers(staff.build())
    app.add_handlers(handover.build())  # a departing officer's open requests (/staf)
    app.add_handlers(watchlist.build())  # /blokir, /buka_blokir, /daftar_blokir
    app.add_handlers(duty.build())  # /piket: works mid-form too (an officer may escort)
    # 2. /start and /bantuan (and /help); /start <token> is a scan and lives in scan.build();
    app.add_handlers(start.build_first())
    # 3. the registration conversation claims the officer's messages while it is active;
    app.add_handler(registration.build())
    # 4. scans, manual codes and entry/exit taps; a photo outside the conversation is a badge;
    app.add_handlers(scan.build())
    app.add_handlers(oversight.build())
    app.add_handlers(planning.build())  # /hari_ini (opening one is the conversation's)
    # 5. catch-alls last.
    app.add_handlers(start.build_last())
    app.add_error_handler(errors.on_error)


def run(config: Config, *, handle_delay: float = 0.0) -> None:
    """Run until stopped: long polling, or the webhook server of [telegram] mode."""
    app = build_application(config, handle_delay=handle_delay)
    hook = config.webhook
    if hook is None:
        app.run_polling(allowed_updates=ALLOWED_UPDATES)
        return
    # PTB's server (tornado) answers Telegram's POST only after update_queue.put() returns,
    # i.e. after the update is stored (bot/app/intake.py): anything else is sent again.
    # A request without the secret token, or with another, gets 403 and changes nothing.
    app.run_webhook(
        listen=hook.listen,
        port=hook.port,
        url_path=hook.path,
        webhook_url=hook.url,
        secret_token=hook.secret_token,
        allowed_updates=ALLOWED_UPDATES,
        # One update at a time, as polling hands them over: with parallel POSTs Telegram
        # could have a chat's second message stored before its first.
        max_connections=1,
    )


def unsafe_data_dir(data_dir: Path) -> str | None:
    """Why the bot must not start on this data folder (one line, with the command that fixes
    it), or None. The folder holds the database, its WAL and the KTP copies: other users must
    not even list it. A folder that does not exist yet is made 0700 by Storage.open."""
    try:
        mode = stat.S_IMODE(data_dir.stat().st_mode)
    except FileNotFoundError:
        return None
    if not mode & 0o077:
        return None
    return (
        f"Refusing to start: the data folder {data_dir} is open to other users"
        f" (mode {mode:03o}); run: chmod 700 {shlex.quote(str(data_dir))}"
    )


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
    cipher = Cipher(config.encryption_key)
    return await Storage.open(config.database_path, cipher, config.audit_key)


async def probe_storage(config: Config) -> None:
    """Open (and migrate) the database once before anything starts: raises one of
    storage.db.REFUSALS for a wrong encryption key or a database newer than the program."""
    storage = await _open_storage(config)
    await storage.close()


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
    # Forms abandoned while the bot was down are discarded, not resumed.
    await drafts.expire_drafts(app)
    # Updates stored but not handled before a crash go first, in order, before any new one;
    # a form whose answer is among them is not resumed (that answer moves it on).
    assert isinstance(app.update_queue, DurableUpdateQueue)
    replayed = await app.update_queue.replay(app.bot)
    await registration.resume_after_restart(app, skip=replayed)
    ktp_read.warm_up()  # the KTP reader's process starts and loads its engine meanwhile
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
        # Unfinished registration forms older than drafts.expire_after_hours (bot/app/drafts.py).
        app.job_queue.run_repeating(
            drafts.expiry_job, interval=drafts.INTERVAL, first=drafts.INTERVAL
        )
        app.job_queue.run_once(deadlines.review_catch_up, when=0)
        # systemd (deploy/): READY=1 once the job queue runs, which is after polling
        # started; the watchdog is pinged from the event loop, so a hung loop is restarted.
        app.job_queue.run_once(health.ready_job, when=0)
        interval = systemd.watchdog_interval()
        if interval is not None:
            app.job_queue.run_repeating(health.watchdog_job, interval=interval, first=interval)
        app.job_queue.run_repeating(_prune_updates, interval=timedelta(hours=1), first=60)
        if services.config.backup.folder is not None:
            backup_at = services.config.backup.at.replace(tzinfo=tz)
            app.job_queue.run_daily(backups.daily_job, time=backup_at, name="backup")
            # A backup missed while the bot was down is made a few seconds after start.
            app.job_queue.run_once(backups.catch_up, when=3, name="backup_catch_up")
    log.info("bot @%s ready, database %s", services.bot_username, services.config.database_path)


async def _post_stop(app: BotApp) -> None:
    # The outbox stops while the bot's HTTP client is still open (shutdown() closes it),
    # so a send in flight finishes instead of leaving a socket behind.
    systemd.stopping()
    await edits.answers_sent()  # the last taps' answers, before the HTTP client closes
    services: Services = app.bot_data
    task = getattr(services, "delivery_task", None)
    if task is not None:
        services.delivery_task = None
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    # The KTP reader's process (bot/flows/ktp_read.py) ends with the bot: killed, reaped.
    await ktp_read.stop()


async def _post_shutdown(app: BotApp) -> None:
    services: Services = app.bot_data
    await _post_stop(app)  # a start that failed half-way never ran post_stop
    if getattr(services, "storage", None) is not None:
        await services.storage.close()


async def _prune_updates(context: BotContext) -> None:
    await prune_job(context.services)


async def _expiry_sweep(context: BotContext) -> None:
    """Badges past their window die even if nobody scans them (deadline kept in SQLite)."""
    await workflow.expire_overdue(context.services)
