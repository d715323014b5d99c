"""Abandoned registration forms expire: a draft holds the NIK, name and phone typed so far,
and one the officer never finished or cancelled is not kept for ever.

A periodic job (and once at start, before forms are resumed) discards every draft started
more than ``drafts.expire_after_hours`` ago: from the officer's user data and the
registration conversation, both written to the database at once, so a restart cannot bring
the form back. The officer is told once, through the outbox (an idempotent key per draft).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from typing import Any, cast

from telegram.error import TelegramError
from telegram.ext import ConversationHandler

from bot.app.context import BotApp, BotContext
from bot.app.intake import DurableUpdateQueue
from bot.app.processor import PerChatUpdateProcessor
from bot.app.services import Services
from bot.core.policy import Act, may
from bot.texts import common as common_texts
from bot.texts import form as form_texts
from bot.texts import guests as guest_texts
from handlers.edits import drop_buttons
from storage.outbox import OutboxItem

log = logging.getLogger(__name__)

INTERVAL = timedelta(minutes=10)
CONVERSATION = "registration"  # handlers/registration.py names its ConversationHandler so


async def expiry_job(context: BotContext) -> None:
    """The JobQueue's call."""
    # The context's application is the one build.py made, typed as BotApp there.
    await expire_drafts(cast(BotApp, context.application))


def _started(draft: dict[str, Any]) -> datetime | None:
    try:
        return datetime.fromisoformat(draft["started_at"])
    except (KeyError, TypeError, ValueError):
        return None


def _registration(app: BotApp) -> ConversationHandler[Any] | None:
    for handlers in app.handlers.values():
        for handler in handlers:
            if isinstance(handler, ConversationHandler) and handler.name == CONVERSATION:
                return handler
    return None


def _unfit(services: Services, user_id: int, draft: dict[str, Any]) -> bool:
    """A staff form its owner may no longer fill in (a role taken away, or the person
    removed): what was typed has no purpose left, so it goes now, not at the expiry."""
    if draft.get("guest"):
        return False  # a visitor's own form (a self-registration link): not a staff form
    act = Act.PLAN if draft.get("plan") else Act.REGISTER
    return not may(services.member(user_id), act)


def _due(services: Services, user_id: int, draft: object, cutoff: datetime) -> bool:
    if not isinstance(draft, dict) or (started := _started(draft)) is None:
        return False
    return started <= cutoff or _unfit(services, user_id, draft)


async def expire_drafts(app: BotApp) -> int:
    """Discard every draft older than the configured limit, or whose owner may no longer
    fill it in; how many were."""
    services: Services = app.bot_data
    cutoff = services.now() - timedelta(hours=services.config.draft_expiry_hours)
    due = [
        user_id
        for user_id, data in list(app.user_data.items())
        if _due(services, user_id, data.get("draft"), cutoff)
    ]
    conversation = _registration(app)
    processor = app.update_processor
    done = 0
    for user_id in due:
        # The conversation's keys are (chat, user); the bot works in private chats.
        keys = [
            key
            for key in (conversation._conversations if conversation else {})
            if key[-1] == user_id
        ]
        chat_id = int(keys[0][0]) if keys else user_id
        if isinstance(processor, PerChatUpdateProcessor):
            async with processor.chat_lock(chat_id):
                done += await _expire(app, services, conversation, user_id, chat_id, cutoff)
        else:
            done += await _expire(app, services, conversation, user_id, chat_id, cutoff)
    return done


async def _expire(
    app: BotApp,
    services: Services,
    conversation: ConversationHandler[Any] | None,
    user_id: int,
    chat_id: int,
    cutoff: datetime,
) -> bool:
    data = app.user_data.get(user_id, {})
    draft = data.get("draft")
    if not isinstance(draft, dict) or not _due(services, user_id, draft, cutoff):
        return False  # finished, cancelled or started afresh while waiting for the lock
    started = _started(draft)
    assert started is not None
    # First the notice (idempotent: a crash before the draft is gone cannot send it twice),
    # then the draft and the conversation, persisted together.
    when = common_texts.when(started, services.config.timezone)
    unfit = _unfit(services, user_id, draft)
    if unfit:
        text = form_texts.draft_discarded_role(when)
    else:
        text = form_texts.draft_expired(when, services.config.draft_expiry_hours)
    # A visitor's own form (a self-registration link): told directly, best effort, so that
    # their chat id is not kept in the outbox (docs/privacy.md). Someone no longer on the
    # staff is not written to.
    guest = bool(draft.get("guest"))
    if not guest and services.member(user_id) is not None:
        notice = OutboxItem(
            f"draft_expired:{user_id}:{started.timestamp():.0f}",
            "text",
            chat_id,
            payload={"text": text},
        )
        await services.storage.outbox.queue([notice], services.now())
    # The open question's buttons, if it has any (a question answered by typing has none).
    asked = draft.get("asked") if isinstance(draft, dict) and not draft.get("bare") else None
    del data["draft"]
    if data:
        app.mark_data_for_update_persistence(user_ids=[user_id])
    else:
        app.drop_user_data(user_id)
    if conversation is not None:
        for key in [k for k in conversation._conversations if k[-1] == user_id]:
            # PTB has no public way to end a conversation from outside a handler; this is what
            # a handler returning END does, and it marks the key for the update below.
            conversation._update_state(ConversationHandler.END, key)
    # Written now, not at the next update's flush: a restart must not bring the form back.
    queue = app.update_queue
    assert isinstance(queue, DurableUpdateQueue)
    await queue.after_update(None)
    services.delivery.kick()
    if asked is not None:
        try:  # the open question's buttons would answer a form that is gone
            await drop_buttons(app.bot, chat_id, asked)
        except TelegramError as exc:
            log.info("draft of %s expired; its question kept its buttons: %s", user_id, exc)
    if guest:
        try:
            await app.bot.send_message(chat_id, guest_texts.GUEST_EXPIRED)
        except TelegramError as exc:
            log.info("visitor's expired form: notice not sent: %s", exc)
    log.info("unfinished registration of user %s %s", user_id, "discarded" if unfit else "expired")
    return True


_checks: set[asyncio.Task[int]] = set()


def recheck_soon(context: BotContext) -> None:
    """After a role change: the forms their owners may no longer fill in go at once. A task,
    since it takes each form's chat lock, which may be the very chat asking (an admin who
    took their own officer role away)."""
    app = cast(BotApp, context.application)  # the one build.py made, as in expiry_job
    task = asyncio.get_running_loop().create_task(expire_drafts(app))
    _checks.add(task)
    task.add_done_callback(_checks.discard)
    task.add_done_callback(_log_failure)


def _log_failure(task: asyncio.Task[int]) -> None:
    if not task.cancelled() and (exc := task.exception()) is not None:
        log.error("the drafts check after a role change failed", exc_info=exc)
