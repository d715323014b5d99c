"""The officer's guided intake (SOP steps 1-3): one ConversationHandler, one person talking."""

from __future__ import annotations

import asyncio
import logging
import secrets
import warnings
from collections.abc import Callable, Collection, Coroutine
from datetime import datetime, timedelta
from typing import Any, TypeVar

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.error import TelegramError
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)
from telegram.warnings import PTBUserWarning

from bot.app.context import BotApp, BotContext, Handler
from bot.app.services import Services
from bot.core import callbacks, form, guests
from bot.core.callbacks import FormChoice, FormEdit, FormNone, FormWord, VisitTap
from bot.core.fields import mask_phone
from bot.core.form import (
    ARRIVAL_FORM,
    BULK,
    CONFIRM,
    FORM,
    INVITE_FORM,
    PLAN_FORM,
    READ,
    RETURNING,
    Field,
    Form,
    Kind,
    Rejected,
    labelled,
)
from bot.core.guests import GUEST_KIND, is_link, new_link_token
from bot.core.planning import Opening, Plan
from bot.core.policy import Act, may
from bot.core.tokens import deep_link, lookup_hash
from bot.core.visits import VisitDraft
from bot.flows import ktp, ktp_read, lookups, workflow
from bot.texts import common as common_texts
from bot.texts import form as form_texts
from bot.texts import guests as guest_texts
from bot.texts import lookups as lookup_texts
from bot.texts import planning as plan_texts
from bot.texts import watchlist as watchlist_texts
from handlers.edits import answer_tap, drop_buttons, show_typing, unless_unchanged
from storage.guests import LinkGone

# One conversation state for the whole form: the open question is the draft's step, saved by
# name (bot/core/form.py). PTB persists the state itself; before the form was declared, each
# question was a state numbered like form.LEGACY_STEPS, and a conversation saved then is
# accepted in any of them, so a restart across versions resumes it.
FILLING = 0
# A question asked this many messages ago (both sides count) is still on a phone's screen,
# so an error under it is one line; further up, the question is asked again below the error.
ON_SCREEN = 6
# A /kembali this soon after the last one handled is the same link tapped twice.
DOUBLE_COMMAND = timedelta(seconds=2)
_STATES = range(len(form.LEGACY_STEPS))
log = logging.getLogger(__name__)
T = TypeVar("T", bound=callbacks.Tap)


def _button(label: str, tap: callbacks.Tap) -> InlineKeyboardButton:
    return InlineKeyboardButton(label, callback_data=tap.data)


def _draft(context: BotContext) -> dict[str, Any]:
    # A plain dict, so conversation persistence can store it as it is.
    draft: dict[str, Any] = context.user_state.setdefault("draft", {})
    return draft


def form_of(draft: dict[str, Any], walk_in: Form = FORM) -> Form:
    """The form this draft fills in: a walk-in registration (/daftar, ``walk_in``: the form
    as this configuration asks it), a visit planned ahead (/jadwal: the same form without the
    KTP photo, after the day and the window), or a planned visitor's arrival (/hari_ini: the
    KTP photo alone, then the check), a self-registration link (/undang_tamu: the day and
    the window alone). A visitor filling in their own form through such a link (``guest``)
    answers the walk-in form itself."""
    if draft.get("arrival"):
        return ARRIVAL_FORM
    if draft.get("invite"):
        return INVITE_FORM
    return PLAN_FORM if draft.get("plan") else walk_in


def _form(context: BotContext) -> Form:
    return form_of(_draft(context), context.services.form)


def _step(context: BotContext) -> str:
    return _form(context).current(_draft(context))


def _keyboard(form: Form, field: Field, editing: bool) -> InlineKeyboardMarkup | None:
    """A question's buttons: its suggested answers, "none" for an optional field, then
    « Kembali and ✖ Batal. A question with no answer to tap has none at all: it is answered
    by typing (or a photo), its text ends with /kembali and /batal (see question), and its
    answer then costs one call, the next question, with no keyboard to take off."""
    words = form_texts.FIELDS[field.name]
    if not words.suggested and not field.optional:
        return None
    choices = [
        _button(label, FormChoice(field.name, i)) for i, label in enumerate(words.suggested)
    ]
    rows = [choices[i : i + words.per_row] for i in range(0, len(choices), words.per_row)]
    if field.optional:
        rows.append([_button(words.none, FormNone(field.name))])
    nav = [_button(form_texts.BTN_CANCEL, FormWord("cancel"))]
    if field.name != form.first or editing:
        nav.insert(0, _button(form_texts.BTN_BACK, FormWord("back")))
    rows.append(nav)
    return InlineKeyboardMarkup(rows)


def _summary_keyboard(form: Form = FORM) -> InlineKeyboardMarkup:
    if form is ARRIVAL_FORM:  # the KTP checked against the person: issue, or another photo
        return InlineKeyboardMarkup(
            [
                [_button(plan_texts.BTN_ISSUE, FormWord("send"))],
                [_button(plan_texts.BTN_RETAKE, FormEdit(form.first))],
                [_button(form_texts.BTN_CANCEL, FormWord("cancel"))],
            ]
        )
    edits = [_button(form_texts.FIELDS[f.name].button, FormEdit(f.name)) for f in form]
    rows = [edits[i : i + 2] for i in range(0, len(edits), 2)]
    send = guest_texts.BTN_GUEST_LINK if form is INVITE_FORM else form_texts.BTN_SUBMIT
    rows.append([_button(send, FormWord("send"))])
    rows.append([_button(form_texts.BTN_CANCEL, FormWord("cancel"))])
    return InlineKeyboardMarkup(rows)


def _shown(draft: dict[str, Any]) -> dict[str, Any]:
    """A stored visitor's phone is shown masked (docs/privacy.md); one typed now is not."""
    recalled = draft.get("recalled_phone")
    if not recalled or draft.get("phone") != recalled:
        return draft
    return {**draft, "phone": mask_phone(recalled)}


def question(
    services: Services, step: str, draft: dict[str, Any]
) -> tuple[str, InlineKeyboardMarkup | None]:
    """The text and buttons that ask for ``step``, in the form this draft fills in."""
    form = form_of(draft, services.form)
    if step == CONFIRM and form is ARRIVAL_FORM:
        return draft["check"], _summary_keyboard(form)
    if step == CONFIRM:
        return form_texts.summary(_shown(draft), form), _summary_keyboard(form)
    if step == RETURNING:
        buttons = [
            [
                _button(form_texts.BTN_REUSE, FormWord("reuse")),
                _button(form_texts.BTN_FRESH, FormWord("fresh")),
            ],
            [_button(lookup_texts.BTN_SHOW_PHONE, FormWord("phone"))],
            [_button(form_texts.BTN_CANCEL, FormWord("cancel"))],
        ]
        return form_texts.returning_visitor(_shown(draft)), InlineKeyboardMarkup(buttons)
    if step == READ:
        read = draft.get("read") or {}
        first = [_button(form_texts.BTN_READ_OK, FormWord("readok"))]
        fixes = []
        if read.get("nik"):
            fixes.append(_button(form_texts.BTN_READ_FIX_NIK, FormWord("readnik")))
        if read.get("name"):
            fixes.append(_button(form_texts.BTN_READ_FIX_NAME, FormWord("readname")))
        nav = [
            _button(form_texts.BTN_BACK, FormWord("back")),
            _button(form_texts.BTN_CANCEL, FormWord("cancel")),
        ]
        rows = [first, fixes, nav] if fixes else [first, nav]
        return form_texts.ktp_read(read), InlineKeyboardMarkup(rows)
    if step == BULK:
        buttons = [
            [_button(form_texts.BTN_ONE_BY_ONE, FormWord("onebyone"))],
            [
                _button(form_texts.BTN_BACK, FormWord("back")),
                _button(form_texts.BTN_CANCEL, FormWord("cancel")),
            ],
        ]
        text = form_texts.rest_in_one_reply(form.remaining(draft))
        return text, InlineKeyboardMarkup(buttons)
    field = form.get(step)
    assert field is not None
    asked = form_texts.question(
        field, form, services.config.rules.text, visitor=bool(draft.get("guest"))
    )
    if form is ARRIVAL_FORM:
        asked = f"{asked}\n\n{draft['heading']}"
    editing = bool(draft.get("editing"))
    markup = _keyboard(form, field, editing)
    if markup is None:
        back = field.name != form.first or editing
        # Back from an edit is the summary; on arrival, the check, which is no summary.
        to_summary = editing and form is not ARRIVAL_FORM
        asked = form_texts.with_commands(asked, back=back, editing=to_summary)
    return asked, markup


def _asked(draft: dict[str, Any], message_id: int, markup: InlineKeyboardMarkup | None) -> None:
    """The open question is now ``message_id``; ``bare``: it has no buttons to take off
    later (a draft saved before typed questions lost theirs has no mark: its buttons go)."""
    draft["asked"] = message_id
    if draft.get("asked_step") != draft.get("step") or "first_asked" not in draft:
        # Where this step was first asked: asked again lower down (an error, a restart),
        # it is still the same open question, and a reply to the first asking answers it.
        draft["first_asked"], draft["asked_step"] = message_id, draft.get("step")
    if markup is None:
        draft["bare"] = True
    else:
        draft.pop("bare", None)


def _drop_asked(draft: dict[str, Any]) -> int | None:
    """Forget the open question: the id of its message if it still has buttons to drop."""
    earlier, bare = draft.pop("asked", None), draft.pop("bare", False)
    return None if bare else earlier


async def _ask(update: Update, context: BotContext, step: str, answered: str | None = None) -> int:
    """Put the question for ``step`` on screen and remember where we are.

    ``answered``: the previous question was answered by a tap on it, and that message
    becomes its answer with this question under it, keyboard and all, in one edit.
    """
    draft = _draft(context)
    step = _form(context).go(draft, step)
    chat = update.effective_chat
    assert chat is not None
    await _withdraw_offer(context, chat.id, draft)
    if step == CONFIRM:
        # The form is filled in; what remains is checking it against the KTP (SOP step 2).
        draft.setdefault("form_done_at", context.services.now().isoformat())
        # The form's own key, kept with the draft before Kirim can be tapped: a submit
        # handled again after a crash finds the request it stored (storage/visits.py).
        draft.setdefault("submission_key", secrets.token_hex(16))
    text, markup = question(context.services, step, draft)
    bare = bool(draft.get("bare"))
    earlier = draft.pop("asked", None)
    draft.pop("bare", None)
    # The answers tapped on the open question's message so far, shown above its question.
    shown: list[str] = draft.pop("shown", [])
    query = update.callback_query
    if answered is not None and query is not None and query.message is not None:
        if query.message.message_id == earlier:
            shown.append(answered)
            await unless_unchanged(
                query.edit_message_text(
                    form_texts.answered_then("\n".join(shown), text), reply_markup=markup
                )
            )
            _asked(draft, earlier, markup)
            draft["shown"] = shown
            return FILLING
        await unless_unchanged(query.edit_message_text(answered))  # not the open question
    if earlier is None or bare:  # a question answered by typing had no buttons
        sent = await chat.send_message(text, reply_markup=markup)
    else:
        # Only the current question is live: the earlier one's buttons go in the same
        # round trip as the next question (neither waits for the other).
        asking, dropped = await asyncio.gather(
            chat.send_message(text, reply_markup=markup),
            drop_buttons(context.bot, chat.id, earlier),
            return_exceptions=True,
        )
        if isinstance(asking, BaseException):
            raise asking
        sent = asking
        if isinstance(dropped, Exception):
            # The question is asked; a tap on the old buttons is answered as stale.
            log.warning("the answered question's buttons stayed: %s", type(dropped).__name__)
        elif isinstance(dropped, BaseException):
            raise dropped
    _asked(draft, sent.message_id, markup)
    return FILLING


async def resume_after_restart(app: BotApp, skip: Collection[int] = ()) -> None:
    """After a restart, officers in the middle of a form see where they are.

    The reply to their last answer may never have been sent; repeating the current
    question tells them what the bot expects now. Chats in `skip` have an answer still to
    be handled (bot/app/intake.py), whose reply is the next question.
    """
    assert app.persistence is not None
    services = app.bot_data
    for key, state in (await app.persistence.get_conversations("registration")).items():
        chat_id, user_id = key[0], int(key[-1])
        draft = app.user_data.get(user_id, {}).get("draft")
        if int(chat_id) in skip or state is None or not draft or "step" not in draft:
            continue
        text, markup = question(services, form_of(draft, services.form).current(draft), draft)
        try:
            if (earlier := _drop_asked(draft)) is not None:
                await drop_buttons(app.bot, int(chat_id), earlier)
            await app.bot.send_message(chat_id, form_texts.RESUMED)
            sent = await app.bot.send_message(chat_id, text, reply_markup=markup)
            _asked(draft, sent.message_id, markup)
        except TelegramError as exc:
            log.warning("could not resume the form in chat %s: %s", chat_id, exc)


async def _retry(update: Update, context: BotContext, message: str) -> int:
    """Bad input: say what is wrong in one line; nothing changes. The question is asked
    again only when it has scrolled away (an error must not bury it)."""
    assert update.effective_chat is not None
    await update.effective_chat.send_message(message)
    asked, incoming = _draft(context).get("asked"), update.effective_message
    if asked is not None and incoming is not None and incoming.message_id - asked <= ON_SCREEN:
        return FILLING
    return await _ask(update, context, _step(context))


async def _done_with_button(
    update: Update, context: BotContext, answered: str | None = None
) -> None:
    """A question answered by a tap: it shows the answer (or just loses its buttons), so it
    cannot be tapped twice. A double tap finds it done already, which is no error."""
    query = update.callback_query
    if query is None:
        return
    answer_tap(query)
    if answered is not None:
        await unless_unchanged(query.edit_message_text(answered))
    else:
        await unless_unchanged(query.edit_message_reply_markup(None))
    draft = _draft(context)
    if query.message is not None and draft.get("asked") == query.message.message_id:
        _drop_asked(draft)


def _tapped(update: Update, kind: type[T]) -> T | None:
    """The tapped form button, if it is of ``kind`` (its handler's pattern says it is)."""
    assert update.callback_query is not None
    return callbacks.parse_as(update.callback_query.data, kind)


def _has_answers(context: BotContext) -> bool:
    """Is a form open with something typed or chosen in it (a visitor's own form aside)?"""
    draft = context.user_state.get("draft")
    if not draft or draft.get("guest") or "step" not in draft:
        return False
    return any(field.name in draft for field in form_of(draft, context.services.form))


async def _offer_open_form(update: Update, context: BotContext, command: str) -> int | None:
    """A form started again while one with answers is open: those answers are not thrown
    away unasked. The open question stays open (typing answers it); the buttons choose."""
    if not _has_answers(context):
        return None
    draft = _draft(context)
    step, form = _step(context), _form(context)
    where = ""
    if form.get(step) is not None:
        where = form_texts.at_step(form.number(step), len(form))
    elif step == CONFIRM:
        where = form_texts.AT_SUMMARY
    markup = InlineKeyboardMarkup(
        [
            [_button(form_texts.BTN_RESUME, FormWord("resume"))],
            [_button(form_texts.BTN_RESTART, FormWord("restart"))],
        ]
    )
    message = update.effective_message
    assert message is not None
    await _withdraw_offer(context, message.chat_id, draft)  # the newer offer replaces it
    offer = await message.reply_text(form_texts.open_form(where), reply_markup=markup)
    # The command asked for and the offer's message: only that message's buttons choose.
    draft["restart"] = {"command": command, "offer": offer.message_id}
    return FILLING


async def _withdraw_offer(context: BotContext, chat_id: int, draft: dict[str, Any]) -> None:
    """The form went on without a choice (the open question answered): the offer's buttons
    go, or a late 🗑 would throw away a form the officer carried on with."""
    offered = draft.pop("restart", None)
    if isinstance(offered, dict):
        await drop_buttons(context.bot, chat_id, offered["offer"])


async def open_form_choice(update: Update, context: BotContext) -> int:
    """▶️ Lanjutkan isian: the open question again, below. 🗑 Buang, mulai baru: the form
    that was asked for, from its first question."""
    query = update.callback_query
    assert query is not None and query.message is not None
    tapped = _tapped(update, FormWord)
    draft = _draft(context)
    offered = draft.get("restart")
    command = offered.get("command") if isinstance(offered, dict) else None
    if offered is None or offered.get("offer") != query.message.message_id:
        command = None  # an older offer, or one chosen already (a double tap)
    else:
        draft.pop("restart")
    if tapped is None or command not in _STARTERS:
        answer_tap(query, common_texts.STALE_BUTTON)  # chosen already (a double tap)
        await unless_unchanged(query.edit_message_reply_markup(None))
        return FILLING
    answer_tap(query)
    if tapped.word == "resume":
        await unless_unchanged(query.edit_message_text(form_texts.RESUMING))
        return await _ask(update, context, _step(context))
    await unless_unchanged(query.edit_message_text(form_texts.RESTARTED))
    earlier = _drop_asked(context.user_state.pop("draft", None) or {})
    if earlier is not None:
        await drop_buttons(context.bot, query.message.chat.id, earlier)
    return await _STARTERS[command](update, context)


async def start(update: Update, context: BotContext) -> int:
    """/daftar: a fresh form, officers only."""
    member = context.services.member(update.effective_user.id if update.effective_user else None)
    assert update.effective_message is not None
    if not may(member, Act.REGISTER):
        await update.effective_message.reply_text(common_texts.ONLY_OFFICER)
        return ConversationHandler.END
    if (offered := await _offer_open_form(update, context, "daftar")) is not None:
        return offered
    context.user_state["draft"] = {"started_at": context.services.now().isoformat()}
    form = _form(context)
    if form.first == "ktp":
        ktp_read.warm_up()  # loading while the officer takes the photo
    return await _ask(update, context, form.first)


async def plan(update: Update, context: BotContext) -> int:
    """/jadwal: a visit planned ahead, on the same form (officers and section heads)."""
    member = context.services.member(update.effective_user.id if update.effective_user else None)
    assert update.effective_message is not None
    if not may(member, Act.PLAN):
        await update.effective_message.reply_text(plan_texts.ONLY_PLANNERS)
        return ConversationHandler.END
    if (offered := await _offer_open_form(update, context, "jadwal")) is not None:
        return offered
    context.user_state["draft"] = {"started_at": context.services.now().isoformat(), "plan": True}
    return await _ask(update, context, PLAN_FORM.first)


async def invite(update: Update, context: BotContext) -> int:
    """/undang_tamu: a self-registration link for a visitor; the officer sets the day and
    the window first (the planning form's own two fields). Refused at the rate limit."""
    services = context.services
    member = services.member(update.effective_user.id if update.effective_user else None)
    assert update.effective_message is not None
    if member is None or not may(member, Act.INVITE_VISITOR):
        await update.effective_message.reply_text(guest_texts.ONLY_OFFICERS_INVITE)
        return ConversationHandler.END
    if not await services.storage.guests.may_create(member.user_id, services.now()):
        await update.effective_message.reply_text(guest_texts.RATE_LIMITED)
        return ConversationHandler.END
    if (offered := await _offer_open_form(update, context, "undang_tamu")) is not None:
        return offered
    context.user_state["draft"] = {"started_at": services.now().isoformat(), "invite": True}
    await update.effective_message.reply_text(guest_texts.INVITE_INTRO)
    return await _ask(update, context, INVITE_FORM.first)


async def guest_open(update: Update, context: BotContext) -> int | None:
    """/start tamu_<secret>: a visitor opened the link an officer sent them. A live link
    opens the visitor form for them; a used, expired or forged one is refused (nothing is
    stored, and the visitor's form, if one was open, is closed). Staff are told the link is
    the visitor's, and whatever they were doing stays as it was."""
    user, message = update.effective_user, update.effective_message
    assert user is not None and message is not None
    services = context.services
    if services.member(user.id) is not None:
        await message.reply_text(guest_texts.STAFF_OPENED)
        return None
    payload = context.args[0] if context.args else ""
    now = services.now()
    link = None
    if is_link(payload):
        secret = services.config.signing_secret
        link = await services.storage.guests.find(lookup_hash(secret, payload, GUEST_KIND))
    earlier = _drop_asked(context.user_state.pop("draft", None) or {})
    if earlier is not None:
        await drop_buttons(context.bot, message.chat.id, earlier)
    maker = services.member(link.officer_id) if link is not None else None
    if link is None or not link.usable(now) or not may(maker, Act.INVITE_VISITOR):
        await message.reply_text(guest_texts.LINK_DEAD)
        return ConversationHandler.END
    context.user_state["draft"] = {"started_at": now.isoformat(), "guest": link.id}
    await message.reply_text(guest_texts.guest_welcome(Plan.of(link.planned_date, link.window)))
    return await _ask(update, context, _form(context).first)


# The commands that start a form, by name (a form started again while one is open).
_STARTERS: dict[str, Callable[[Update, BotContext], Coroutine[Any, Any, int]]] = {
    "daftar": start,
    "jadwal": plan,
    "undang_tamu": invite,
}
FORM_COMMANDS = tuple(_STARTERS)  # handlers/approval.py: a form started ends a reason prompt


async def open_planned(update: Update, context: BotContext) -> int | None:
    """A planned visit tapped in /hari_ini: the visitor is at the desk. Opened only when it
    was approved ahead and it is its day and window; otherwise why not, and nothing changes."""
    query = update.callback_query
    assert query is not None
    services = context.services
    member = services.member(query.from_user.id)
    if not may(member, Act.REGISTER):
        answer_tap(query, common_texts.ONLY_OFFICER, show_alert=True)
        return None
    tap = _tapped(update, VisitTap)
    draft = context.user_state.get("draft") or {}
    if tap is None or draft.get("arrival") == tap.visit_id:
        answer_tap(query)  # a double tap: this visit is open already, its question below
        return None
    visit = await workflow.planned_visit(services, tap.visit_id)
    state = await workflow.opening(services, visit) if visit else Opening.NOT_PLANNED
    if state is not Opening.OPEN or visit is None:
        answer_tap(query)
        config = services.config
        assert query.message is not None
        await query.message.chat.send_message(
            plan_texts.open_refused(state, visit, config.timezone, config.planning.grace)
        )
        return None
    answer_tap(query)
    now = services.now()
    context.user_state["draft"] = {
        "started_at": now.isoformat(),
        "arrival": visit.id,
        "arrived_at": now.isoformat(),
        "heading": plan_texts.arrival_heading(visit),
        "check": plan_texts.arrival_check(visit, now, services.config.timezone),
    }
    return await _ask(update, context, ARRIVAL_FORM.first)


async def _accept(
    update: Update, context: BotContext, field: Field, raw: str, answered: str | None = None
) -> int:
    """An answer for ``field``: kept if valid, then the next question; else why not.
    ``answered``: given by a tap, shown as this (see _ask)."""
    try:
        value = field.read(raw, context.services.now().date())
    except Rejected as exc:
        return await _retry(update, context, form_texts.rejected(field, exc.problem))
    draft = _draft(context)
    draft[field.name] = value
    # A visitor filling in their own form is never shown what is stored about a NIK.
    if field.identifies and not draft.get("editing") and not draft.get("guest"):
        known = await context.services.storage.visits.find_visitor(value)
        if known is not None:
            remembered = _form(context).remembered
            draft.update({f.name: getattr(known, f.visit_attr) for f in remembered})
            draft.update(recalled=known.id, recalled_phone=known.phone)
            assert update.effective_user is not None
            await lookups.recalled(context.services, update.effective_user.id, known.id)
            return await _ask(update, context, RETURNING, answered)
    form = _form(context)
    following = form.after(draft, field.name)
    while following in draft.get("prefilled", ()):  # confirmed from the KTP photo already
        following = form.after(draft, following)
    if (
        draft.get("bulk")
        and form.get(following) is not None
        and following != draft.get("fixing")  # "✏️ Ubah nama": the name is asked alone first
        and len(form.remaining(draft)) > 1
    ):
        following = BULK  # after a KTP read: the rest in one reply
    return await _ask(update, context, following, answered)


async def _reply(update: Update, context: BotContext, text: str) -> int:
    """The one-message reply to the template: every valid line kept; what is missing or was
    refused is then asked alone, and the summary follows."""
    draft = _draft(context)
    remaining = _form(context).remaining(draft)
    answers = labelled(text, form_texts.reply_labels(remaining))
    if not answers:
        return await _retry(update, context, form_texts.REPLY_NOT_UNDERSTOOD)
    today = context.services.now().date()
    problems = _form(context).read_reply(draft, answers, today, nothing=form_texts.NOTHING)
    draft.pop("bulk", None)
    if problems:
        assert update.effective_chat is not None
        await update.effective_chat.send_message(form_texts.reply_problems(problems))
    return await _ask(update, context, CONFIRM)


async def one_by_one(update: Update, context: BotContext) -> int | None:
    """The template declined: the remaining fields are asked one at a time, as always."""
    draft = _draft(context)
    if _step(context) != BULK:
        await stale(update, context)
        return None
    assert update.callback_query is not None
    answer_tap(update.callback_query)
    draft.pop("bulk", None)
    remaining = _form(context).remaining(draft)
    following = remaining[0].name if remaining else CONFIRM
    return await _ask(update, context, following, form_texts.ONE_BY_ONE_CHOSEN)


async def _photo(update: Update, context: BotContext, field: Field, file_id: str) -> int:
    """The KTP photo: kept, then read; what the reader found is offered for confirmation,
    and whatever it could not read safely is asked as before."""
    draft = _draft(context)
    # On a planned visitor's arrival the data was typed ahead: the officer compares the
    # card with it and with the person (the check that follows), nothing is read off it.
    if draft.get("editing") or draft.get("arrival"):
        return await _accept(update, context, field, file_id)
    services = context.services
    if update.effective_chat is not None:
        show_typing(context.bot, update.effective_chat.id)  # the reading takes a moment
    reading = await ktp_read.read(context.bot, file_id, services.now().date())
    # Offered only when the NIK itself was read and the card confirmed it: a name alone
    # saves little, and the NIK is where typing goes wrong.
    if reading is None or not reading.nik:
        return await _accept(update, context, field, file_id)
    draft[field.name] = field.read(file_id, services.now().date())
    draft["read"] = {
        "nik": reading.nik,
        "name": reading.name,
        "birth_place": reading.birth_place,
        "birth_date": reading.birth_date.isoformat() if reading.birth_date else None,
        "sex": reading.sex,
    }
    return await _ask(update, context, READ)


async def read_answer(update: Update, context: BotContext) -> int | None:
    """The officer checked the reader's findings against the card: all right, or one of
    them is to be typed. Each value still goes through the field's own validation."""
    tap = _tapped(update, FormWord)
    draft = _draft(context)
    if tap is None or _step(context) != READ or "read" not in draft:
        await stale(update, context)
        return None
    read = draft.pop("read")
    today = context.services.now().date()
    name_field, nik_field = _form(context).get("name"), _form(context).get("nik")
    assert name_field is not None and nik_field is not None
    draft["prefilled"] = []
    draft["bulk"] = True  # what no card holds is then asked in one reply
    if tap.word == "readname":
        draft["fixing"] = name_field.name
    if tap.word != "readname" and read.get("name"):
        try:
            draft["name"] = name_field.read(read["name"], today)
            draft["prefilled"].append("name")
        except Rejected:
            pass  # asked in its turn
    nik = read.get("nik") if tap.word != "readnik" else None
    if nik:
        try:
            nik_field.read(nik, today)
        except Rejected:
            nik = None  # typed instead
    # What was read stays on the message, with the choice, and the next question under it.
    chosen = {"readok": form_texts.BTN_READ_OK, "readnik": form_texts.BTN_READ_FIX_NIK}
    label = chosen.get(tap.word, form_texts.BTN_READ_FIX_NAME)
    answered = form_texts.chose(form_texts.ktp_read(read), label)
    assert update.callback_query is not None
    answer_tap(update.callback_query)
    if nik:
        return await _accept(update, context, nik_field, nik, answered)
    return await _ask(update, context, nik_field.name, answered)


async def answer(update: Update, context: BotContext) -> int:
    """A message while the form is open: the answer to the open question, or why it is not."""
    message = update.effective_message
    assert message is not None
    draft = _draft(context)
    if _replies_to_earlier(message, draft.get("first_asked", draft.get("asked"))):
        return await _retry(update, context, form_texts.REPLY_TO_EARLIER)
    field = _form(context).get(_step(context))
    album = message.media_group_id
    if message.photo and album is not None and album == _draft(context).get("album"):
        # The rest of an album whose first photo was taken: said, not read as an answer.
        return await _retry(update, context, form_texts.ALBUM_REST)
    if field is not None and field.kind == Kind.PHOTO and message.photo:
        if album is not None:
            _draft(context)["album"] = album
        # Telegram's file id of the largest size.
        return await _photo(update, context, field, message.photo[-1].file_id)
    if field is not None and field.kind == Kind.AGREE:
        # Only its button answers, with the time of the tap: a typed time is no agreement.
        return await _retry(update, context, form_texts.RULES_BAD_INPUT)
    if field is not None and field.contact and message.contact is not None:
        return await _accept(update, context, field, message.contact.phone_number)
    if field is not None and field.optional and _means_nothing(message.text):
        # "tidak ada" typed under a question with a "none" button: that button's answer,
        # as the one-message reply reads it, not equipment called "tidak ada".
        return await _none(update, context, field)
    if field is not None and field.kind != Kind.PHOTO and message.text is not None:
        return await _accept(update, context, field, message.text)
    if _step(context) == BULK and message.text is not None:
        return await _reply(update, context, message.text)
    return await wrong_input(update, context)


async def suggestion(update: Update, context: BotContext) -> int | None:
    """A suggested answer tapped: read as if its label were typed."""
    tap = _tapped(update, FormChoice)
    field = _form(context).get(tap.field) if tap else None
    if tap is None or field is None or tap.field != _step(context):
        await stale(update, context)
        return None
    suggested = form_texts.FIELDS[tap.field].suggested
    if tap.index >= len(suggested):
        await stale(update, context)
        return None
    raw = suggested[tap.index]
    if field.kind == Kind.AGREE:  # the answer is the moment of the tap, in office time
        raw = context.services.now().astimezone(context.services.config.timezone).isoformat()
    value = field.read(raw, context.services.now().date())  # always valid
    assert update.callback_query is not None
    answer_tap(update.callback_query)
    answered = form_texts.answered(field, value)
    return await _accept(update, context, field, raw, answered)


async def nothing(update: Update, context: BotContext) -> int | None:
    """An optional field's "none" button: an empty answer."""
    tap = _tapped(update, FormNone)
    if tap is None or tap.field != _step(context):
        await stale(update, context)
        return None
    field = _form(context).get(tap.field)
    if field is None:  # a field of the declared form this configuration does not ask
        await stale(update, context)
        return None
    assert update.callback_query is not None
    answer_tap(update.callback_query)
    return await _none(update, context, field)


def _replies_to_earlier(message: Message, asked: int | None) -> bool:
    """A reply (swipe, "Balas") to a message from before the open question was first asked:
    meant for an earlier step, such as a name corrected under the name's question while the
    form already asks the organisation. Taken as the open question's answer, it would store
    the name as the organisation. A reply to the open question (wherever it was asked
    again), or to anything after it (an error), is an answer like any other."""
    replied = message.reply_to_message
    return replied is not None and asked is not None and replied.message_id < asked


def _means_nothing(text: str | None) -> bool:
    words = {word.casefold() for word in form_texts.NOTHING}
    return text is not None and text.strip().casefold() in words


async def _none(update: Update, context: BotContext, field: Field) -> int:
    """An optional field answered "none" (its button, or one of its words typed)."""
    draft = _draft(context)
    draft[field.name] = ""
    answered = form_texts.answered(field, "")
    return await _ask(update, context, _form(context).after(draft, field.name), answered)


async def returning(update: Update, context: BotContext) -> int | None:
    """Reuse a returning visitor's stored details, or type them anew."""
    if _step(context) != RETURNING:
        await stale(update, context)
        return None
    tap = _tapped(update, FormWord)
    reuse = tap == FormWord("reuse")
    draft = _draft(context)
    # The question stays as it was asked, with the choice, and the next one under it (one edit).
    asked = form_texts.returning_visitor(_shown(draft))
    answered = form_texts.chose(asked, form_texts.BTN_REUSE if reuse else form_texts.BTN_FRESH)
    assert update.callback_query is not None
    answer_tap(update.callback_query)
    following = _form(context).after_returning(draft, reuse=reuse)
    return await _ask(update, context, following, answered)


async def reveal_phone(update: Update, context: BotContext) -> int | None:
    """A returning visitor's full phone number, in a pop-up on the officer's tap (audited)."""
    draft, query = _draft(context), update.callback_query
    if _step(context) != RETURNING or not draft.get("recalled_phone") or query is None:
        await stale(update, context)
        return None
    await lookups.phone_shown(context.services, query.from_user.id, draft["recalled"])
    answer_tap(query, lookup_texts.phone_alert(draft["recalled_phone"]), show_alert=True)
    return None


async def edit_field(update: Update, context: BotContext) -> int | None:
    """From the summary: change one field, then come back to the summary."""
    tap = _tapped(update, FormEdit)
    if tap is None or _step(context) != CONFIRM or _form(context).get(tap.field) is None:
        await stale(update, context)
        return None
    await _done_with_button(update, context)
    _draft(context)["editing"] = True
    return await _ask(update, context, tap.field)


async def back(update: Update, context: BotContext) -> int | None:
    """« Kembali or /kembali: one step back (or to the summary, when editing a field).

    A double tap goes back once. The button's second tap finds its message no longer the
    open question. The /kembali link's second tap is a second /kembali: one within
    DOUBLE_COMMAND of the last handled one is ignored, silently."""
    draft = _draft(context)
    query = update.callback_query
    if query is None:
        now = context.services.now()
        last = draft.get("back_at")
        if last is not None and now - datetime.fromisoformat(last) < DOUBLE_COMMAND:
            return None
        draft["back_at"] = now.isoformat()
    elif query.message is not None and draft.get("asked") not in (None, query.message.message_id):
        await stale(update, context)
        return None
    await _done_with_button(update, context)
    form = _form(context)
    return await _ask(update, context, form.before(draft, form.current(draft)))


async def submit(update: Update, context: BotContext) -> int | None:
    """SOP step 3: hand the form to the section head(s)."""
    if _step(context) != CONFIRM:
        await stale(update, context)
        return None
    draft = _draft(context)
    if (draft.get("plan") or draft.get("invite")) and workflow.window_passed(
        context.services, Plan.of(draft["planned_date"], draft["window"])
    ):
        # Planned for today, but the window is over: the officer changes the plan.
        assert update.callback_query is not None
        answer_tap(update.callback_query, plan_texts.WINDOW_PASSED, show_alert=True)
        return None
    services = context.services
    if draft.get("arrival") or draft.get("invite") or draft.get("guest"):
        # The summary's buttons go first: each of these ends in a message of its own.
        await _done_with_button(update, context)
        if draft.get("arrival"):
            return await _issue(update, context, draft)
        if draft.get("invite"):
            return await _make_link(update, context, draft)
        return await _guest_submit(update, context, draft)
    query = update.callback_query
    assert query is not None
    officer = services.member(update.effective_user.id if update.effective_user else None)
    if not may(officer, Act.PLAN if draft.get("plan") else Act.REGISTER):
        # The role went while the summary was open: nothing is sent, and what was typed
        # goes (bot/app/drafts.py discards such forms; this tap may come first).
        answer_tap(query, form_texts.NO_LONGER_ALLOWED, show_alert=True)
        context.user_state.pop("draft", None)
        await unless_unchanged(query.edit_message_reply_markup(None))
        return ConversationHandler.END
    answer_tap(query)
    values = _form(context).visit_values(draft)
    planned = None
    if draft.get("plan"):
        planned = Plan.of(values.pop("planned_date"), values.pop("window"))
        values["ktp_file_id"] = ""  # taken on the day (/hari_ini)
    visit_draft = VisitDraft(
        **values,
        started_at=datetime.fromisoformat(draft["started_at"]),
        form_done_at=datetime.fromisoformat(draft["form_done_at"]),
        plan=planned,
        submission_key=draft.get("submission_key"),
    )
    # Stored first, then the summary becomes its receipt (one edit, no keyboard). A crash
    # in between leaves the summary's Kirim live; tapped again (or the tap replayed at
    # start), the form's key finds the request already stored, and the edit is made then.
    visit, sent = await workflow.submit(services, visit_draft, officer)
    if visit.plan is not None:
        receipt = plan_texts.plan_submitted(
            visit.reference, common_texts.plan_text(visit.plan), sent
        )
    else:
        receipt = form_texts.submitted(visit.reference, sent)
        # The KTP copy, encrypted at rest, kept in the background so a slow download never
        # holds up the officer; one that fails is retried by the privacy sweep
        # (bot/flows/privacy.py).
        context.application.create_task(
            ktp.keep(services, context.bot, visit.id, visit.ktp_file_id), update=update
        )
    if visit.watchlisted:
        receipt = f"{receipt}\n\n{watchlist_texts.OFFICER_FLAG}"
    sent_summary = form_texts.sent_summary(_shown(draft), _form(context), receipt)
    assert update.effective_chat is not None and query.message is not None
    chat_id, tapped = update.effective_chat.id, query.message.message_id
    # The summary on screen becomes the receipt. After a restart it may have been asked
    # again (resume_after_restart) while a tap on the first copy was on its way: the newer
    # copy, at the bottom of the chat, becomes the receipt and the tapped one loses its
    # buttons.
    current = draft.get("asked") or tapped
    context.user_state.pop("draft", None)
    await unless_unchanged(
        context.bot.edit_message_text(sent_summary, chat_id, current, reply_markup=None)
    )
    if current != tapped:
        await drop_buttons(context.bot, chat_id, tapped)
    return ConversationHandler.END


async def _make_link(update: Update, context: BotContext, draft: dict[str, Any]) -> int:
    """The day and window set: a new single-use link (only its keyed hash is stored), or,
    at the rate limit, why not."""
    services = context.services
    officer = services.member(update.effective_user.id if update.effective_user else None)
    context.user_state.pop("draft", None)
    assert update.effective_chat is not None
    if officer is None or not may(officer, Act.INVITE_VISITOR):
        return ConversationHandler.END
    token, now = new_link_token(), services.now()
    link = await services.storage.guests.create(
        lookup_hash(services.config.signing_secret, token, GUEST_KIND),
        officer.user_id,
        draft["planned_date"],
        draft["window"],
        now,
    )
    if link is None:
        await update.effective_chat.send_message(guest_texts.RATE_LIMITED)
        return ConversationHandler.END
    plan = Plan.of(link.planned_date, link.window)
    url = deep_link(services.bot_username, token)
    await update.effective_chat.send_message(
        guest_texts.link_made(url, plan, link.expires_at, services.config.timezone)
    )
    return ConversationHandler.END


async def _guest_submit(update: Update, context: BotContext, draft: dict[str, Any]) -> int:
    """The visitor sends their own form: a visit planned for the link's day and window,
    registered by the officer who made the link and marked as self-registered; the link is
    used up in the same write. A link used or expired meanwhile, or whose officer may no
    longer invite, or whose window is over, stores nothing."""
    services = context.services
    context.user_state.pop("draft", None)
    chat = update.effective_chat
    assert chat is not None
    link = await services.storage.guests.get(draft["guest"])
    officer = services.member(link.officer_id) if link is not None else None
    if link is None or officer is None or not link.usable(services.now()):
        await chat.send_message(guest_texts.LINK_DEAD)
        return ConversationHandler.END
    if not may(officer, Act.INVITE_VISITOR):
        await chat.send_message(guest_texts.LINK_DEAD)
        return ConversationHandler.END
    planned = Plan.of(link.planned_date, link.window)
    if workflow.window_passed(services, planned):
        await chat.send_message(guest_texts.WINDOW_GONE)
        return ConversationHandler.END
    visit_draft = VisitDraft(
        **form_of(draft, services.form).visit_values(draft),
        started_at=datetime.fromisoformat(draft["started_at"]),
        form_done_at=datetime.fromisoformat(draft["form_done_at"]),
        plan=planned,
    )
    try:
        visit, _sent = await workflow.submit(services, visit_draft, officer, guest_link=link.id)
    except LinkGone:
        await chat.send_message(guest_texts.LINK_DEAD)
        return ConversationHandler.END
    # The visitor's KTP photo, encrypted at rest like a walk-in's until the photo taken at
    # the desk on the day replaces it (docs/privacy.md).
    context.application.create_task(
        ktp.keep(services, context.bot, visit.id, visit.ktp_file_id), update=update
    )
    await chat.send_message(guest_texts.guest_sent(visit.reference, planned))
    return ConversationHandler.END


async def _issue(update: Update, context: BotContext, draft: dict[str, Any]) -> int:
    """The planned visitor's KTP matches them: the badge approved ahead is issued now, or,
    if the visit can no longer be opened (withdrawn, the window closed meanwhile), why not."""
    services = context.services
    officer = services.member(update.effective_user.id if update.effective_user else None)
    if not may(officer, Act.REGISTER):
        return ConversationHandler.END
    state, visit = await workflow.arrive(
        services,
        draft["arrival"],
        officer,
        draft[ARRIVAL_FORM.first],
        datetime.fromisoformat(draft["arrived_at"]),
    )
    context.user_state.pop("draft", None)
    assert update.effective_chat is not None
    if state is not Opening.OPEN or visit is None:
        config = services.config
        await update.effective_chat.send_message(
            plan_texts.open_refused(state, visit, config.timezone, config.planning.grace)
        )
        return ConversationHandler.END
    context.application.create_task(
        ktp.keep(services, context.bot, visit.id, visit.ktp_file_id), update=update
    )
    await update.effective_chat.send_message(plan_texts.issued(visit.reference))
    return ConversationHandler.END


async def cancel(update: Update, context: BotContext) -> int:
    """/batal or the cancel button: forget the draft."""
    await _done_with_button(update, context)
    draft = context.user_state.pop("draft", None) or {}
    assert update.effective_chat is not None
    earlier = _drop_asked(draft)
    if earlier is not None:  # /batal typed: the open question's buttons go too
        await drop_buttons(context.bot, update.effective_chat.id, earlier)
    said = form_texts.CANCELLED
    if draft.get("arrival"):
        said = plan_texts.OPEN_CANCELLED
    elif draft.get("plan"):
        said = plan_texts.PLAN_CANCELLED
    elif draft.get("invite"):
        said = guest_texts.LINK_CANCELLED
    elif draft.get("guest"):
        said = guest_texts.GUEST_CANCELLED
    await update.effective_chat.send_message(said)
    return ConversationHandler.END


async def wrong_input(update: Update, context: BotContext) -> int:
    """Anything the open question cannot use: a clear answer and the same question."""
    field = _form(context).get(_step(context))
    message = update.effective_message
    if field is None and _step(context) == BULK:
        return await _retry(update, context, form_texts.WANT_TEXT)
    if field is None:
        return await _retry(update, context, form_texts.USE_BUTTONS)
    if field.kind == Kind.PHOTO:
        document = message.document if message is not None else None
        if document is None:
            return await _retry(update, context, form_texts.WANT_PHOTO)
        image = (document.mime_type or "").startswith("image/")
        return await _retry(
            update,
            context,
            form_texts.WANT_PHOTO_NOT_IMAGE_FILE if image else form_texts.WANT_PHOTO_NOT_FILE,
        )
    return await _retry(update, context, form_texts.WANT_TEXT)


async def stale(update: Update, context: BotContext) -> None:
    """A button from an earlier question: refuse it, change nothing."""
    if update.callback_query is not None:
        answer_tap(update.callback_query, common_texts.STALE_BUTTON, show_alert=True)


def _on_tap(kind: type[T], callback: Any, *words: str) -> Handler:
    """The handler for one kind of form button (of a FormWord, only ``words``)."""
    if not words:
        return CallbackQueryHandler(callback, pattern=callbacks.handles(kind))
    return CallbackQueryHandler(
        callback, pattern=callbacks.handles(FormWord, lambda tap: tap.word in words)
    )


def _guest_entry() -> Handler:
    """/start tamu_<secret>, exactly: the one thing a stranger may send to begin."""
    return CommandHandler(
        "start", guest_open, filters=filters.Regex(guests.START_RE), has_args=True
    )


def build() -> Handler:
    """The registration conversation; buttons are tracked per chat, not per message."""
    # Every handler checks the open question itself (the draft's step), so one list serves
    # the one state and the old numbered ones.
    filling: list[BaseHandler[Any, Any, Any]] = [
        MessageHandler(~filters.COMMAND, answer),
        _on_tap(FormChoice, suggestion),
        _on_tap(FormNone, nothing),
        _on_tap(FormWord, returning, "reuse", "fresh"),
        _on_tap(FormWord, reveal_phone, "phone"),
        _on_tap(FormWord, read_answer, "readok", "readnik", "readname"),
        _on_tap(FormWord, one_by_one, "onebyone"),
        _on_tap(FormEdit, edit_field),
        _on_tap(FormWord, submit, "send"),
        _on_tap(FormWord, open_form_choice, "resume", "restart"),
    ]
    with warnings.catch_warnings():
        # per_message=False is deliberate: the conversation is keyed by the officer's chat,
        # and every handler checks which button it accepts now.
        warnings.filterwarnings("ignore", message=".*per_message.*", category=PTBUserWarning)
        return ConversationHandler(
            entry_points=[
                CommandHandler("daftar", start),
                CommandHandler("jadwal", plan),
                CommandHandler("undang_tamu", invite),
                _guest_entry(),
                CallbackQueryHandler(open_planned, pattern=callbacks.pattern(callbacks.PLAN_OPEN)),
            ],
            states={state: filling for state in _STATES},
            fallbacks=[
                CommandHandler("batal", cancel),
                CommandHandler("kembali", back),
                CommandHandler("daftar", start),
                CommandHandler("jadwal", plan),
                CommandHandler("undang_tamu", invite),
                _guest_entry(),
                CallbackQueryHandler(open_planned, pattern=callbacks.pattern(callbacks.PLAN_OPEN)),
                _on_tap(FormWord, cancel, "cancel"),
                _on_tap(FormWord, back, "back"),
                CallbackQueryHandler(stale, pattern=callbacks.pattern(callbacks.REGISTRATION)),
            ],
            name="registration",
            persistent=True,
        )
