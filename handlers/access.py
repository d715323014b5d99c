"""The gate: anything outside a private chat, and anyone who is not staff, stops here,
before any other handler runs."""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from typing import NoReturn

from telegram import Update
from telegram.constants import ChatMemberStatus, ChatType
from telegram.error import TelegramError
from telegram.ext import ApplicationHandlerStop, TypeHandler

from bot.app.context import BotContext, Handler
from bot.core import callbacks, guests
from bot.core.invites import START_RE
from bot.core.policy import Act, may
from bot.core.roles import Role
from bot.flows import reachable
from bot.texts import common as common_texts
from bot.texts import guests as guest_texts
from handlers.edits import answer_tap
from storage.outbox import OutboxItem

log = logging.getLogger(__name__)
# The form's buttons: the only taps a visitor's own form (self-registration) accepts.
FORM_TAP = callbacks.pattern(callbacks.REGISTRATION)


async def refuse_strangers(update: Update, context: BotContext) -> None:
    """Staff pass through; a stranger gets their numeric id for the admin, and is logged."""
    chat = update.effective_chat
    if chat is not None and chat.type != ChatType.PRIVATE:
        await _leave_group(update, context)
        raise ApplicationHandlerStop
    if update.my_chat_member is not None:
        await _and_stop(_unblocked(update, context), update, context)
    if update.edited_message is not None:
        await _and_stop(_edited(update, context), update, context)
    user = update.effective_user
    if user is not None and may(context.services.member(user.id), Act.USE_BOT):
        return
    if user is not None and _opens_invitation(update):
        return  # handlers.staff checks the link itself
    if user is not None and _guest_input(update, context):
        return  # a visitor's own form, opened by an officer's link (handlers.registration)
    if update.message is not None and _in_guest_form(context):
        # A command the visitor's form does not take (/start, /bantuan): where they are,
        # not the stranger's answer. Nothing is audited: the link let them in.
        await update.message.reply_text(guest_texts.FORM_OPEN_FOR_GUEST)
        raise ApplicationHandlerStop
    if user is None:
        raise ApplicationHandlerStop
    # Only the numeric id is logged: what a stranger typed may be personal data.
    log.info("refused update from non-staff user %s", user.id)
    services = context.services
    await services.storage.audit.record(services.now(), user.id, "stranger_refused")
    if update.callback_query is not None:
        answer_tap(update.callback_query, common_texts.NOT_ALLOWED, show_alert=True)
    elif update.effective_chat is not None and update.effective_chat.type == "private":
        await update.effective_chat.send_message(common_texts.stranger(user.id))
    raise ApplicationHandlerStop


async def _leave_group(update: Update, context: BotContext) -> None:
    """The bot works in private chats only (DESIGN.md): visitors' names and NIKs must never
    reach a group. Whatever brings it into a group (being added, or a message or tap from a
    group it was in before this rule), it leaves at once and tells every admin."""
    chat = update.effective_chat
    assert chat is not None
    member = update.my_chat_member
    if member is not None and member.new_chat_member.status in _GONE:
        return  # it has left (or was removed): the echo of leaving, nothing to do
    if update.callback_query is not None:
        answer_tap(update.callback_query, common_texts.PRIVATE_ONLY, show_alert=True)
    services = context.services
    user = update.effective_user
    now = services.now()
    try:
        await context.bot.leave_chat(chat.id)
    except TelegramError as exc:
        # Already out (a second update from the same group); the audit below still says so.
        log.warning("could not leave chat %s: %s", chat.id, exc)
    added = member is not None
    who, user_id = (user.full_name, user.id) if user else ("-", None)
    text = common_texts.group_left(who, user_id, chat.title or "", chat.id, added)
    alerts = [
        OutboxItem(
            f"group_left:{chat.id}:{now.timestamp():.6f}:{a.user_id}",
            "text",
            a.user_id,
            payload={"text": text},
            for_role=Role.ADMIN,
        )
        for a in services.with_role(Role.ADMIN)
    ]
    # The group's id only: its title and the names in it are not the audit's business.
    await services.storage.audit.record(
        now, user_id, "group_left", detail=f"chat:{chat.id}", messages=alerts
    )
    services.delivery.kick()


_GONE = {ChatMemberStatus.LEFT, ChatMemberStatus.BANNED}


async def _and_stop(work: Awaitable[None], update: Update, context: BotContext) -> NoReturn:
    """Do ``work`` for an update no handler after the gate may see, then stop, also when it
    failed: PTB goes on to the next group after an error, where the form's handlers would
    read an edited message as the answer to the open question. The failure goes to the
    error handler (the admins' report) as any other would."""
    try:
        await work
    except Exception as exc:  # reported, then the update stops here all the same
        await context.application.process_error(update, exc)
    raise ApplicationHandlerStop


async def _unblocked(update: Update, context: BotContext) -> None:
    """Someone blocked or unblocked the bot in their private chat. Blocking needs nothing
    (what fails meanwhile is reported by the outbox); a staff member who unblocks it (Mulai
    Ulang) gets what failed while it was blocked and still needs them."""
    change = update.my_chat_member
    assert change is not None
    back = (
        change.old_chat_member.status == ChatMemberStatus.BANNED
        and change.new_chat_member.status == ChatMemberStatus.MEMBER
    )
    user = update.effective_user
    if back and user is not None and context.services.member(user.id) is not None:
        await reachable.returned(context.services, user.id)


async def _edited(update: Update, context: BotContext) -> None:
    """A message edited after it was sent. The bot has already acted on the first text (an
    answer stored, a reason sent, a command run), and reading the edit as a new message
    would take it for the answer to whatever is asked now; so nothing is read, and staff, or
    a visitor in their own form, are told how to correct it. PTB's message filters match
    edited messages too, which is why this stops here, before any handler. A stranger's
    edit gets nothing: their first message was already refused."""
    message = update.edited_message
    user = update.effective_user
    assert message is not None
    if user is None or message.location is not None:
        return  # a live location moving is an edit every few seconds: nothing to say
    if may(context.services.member(user.id), Act.USE_BOT) or _in_guest_form(context):
        in_form = bool((context.user_data or {}).get("draft"))
        await message.reply_text(common_texts.edit_not_read(in_form=in_form))


def _opens_invitation(update: Update) -> bool:
    """Exactly `/start inv_<secret>` in a private chat: the one thing a stranger may send."""
    message = update.message
    return (
        message is not None
        and message.chat.type == "private"
        and START_RE.match(message.text or "") is not None
    )


def _in_guest_form(context: BotContext) -> bool:
    draft = (context.user_data or {}).get("draft")
    return isinstance(draft, dict) and bool(draft.get("guest"))


def _guest_input(update: Update, context: BotContext) -> bool:
    """A visitor with a self-registration link: exactly ``/start tamu_<secret>`` (the link
    itself, checked by handlers.registration), and, while the form that link opened is in
    progress, only that form's input: a message that is no command but /batal or /kembali,
    or a tap on a form button. Anything else, a command above all, gets the stranger's answer."""
    message, query = update.message, update.callback_query
    if message is not None and message.chat.type != ChatType.PRIVATE:
        return False
    if message is not None and guests.START_RE.match(message.text or "") is not None:
        return True
    draft = (context.user_data or {}).get("draft")
    if not isinstance(draft, dict) or not draft.get("guest"):
        return False
    if query is not None:
        return FORM_TAP.match(query.data or "") is not None
    if message is None:
        return False  # an edited message, a reaction, ...: nothing the form reads
    text = message.text or ""
    return not text.startswith("/") or guests.FORM_COMMAND_RE.match(text) is not None


def build() -> Handler:
    return TypeHandler(Update, refuse_strangers)
