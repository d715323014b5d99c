"""The officer's guided intake (SOP steps 1-3): one ConversationHandler, one person talking."""

from __future__ import annotations

import enum
import logging
import warnings
from datetime import datetime
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import TelegramError
from telegram.ext import (
    Application,
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)
from telegram.warnings import PTBUserWarning

from bot import texts
from bot.app.context import BotContext
from bot.core import callbacks
from bot.core.fields import (
    EQUIPMENT_MAX,
    NAME_MAX,
    ORGANISATION_MAX,
    PURPOSE_MAX,
    FieldError,
    FieldProblem,
    clean_text,
    normalise_phone,
    parse_duration,
)
from bot.core.nik import NikError, validate_nik
from bot.core.policy import Act, may
from bot.core.visits import VisitDraft
from bot.flows import ktp, workflow


class Step(enum.IntEnum):
    KTP = 0
    NIK = 1
    NAME = 2
    ORGANISATION = 3
    PHONE = 4
    PURPOSE = 5
    DURATION = 6
    EQUIPMENT = 7
    CONFIRM = 8
    RETURNING = 9


QUESTIONS = {
    Step.KTP: texts.ASK_KTP,
    Step.NIK: texts.ASK_NIK,
    Step.NAME: texts.ASK_NAME,
    Step.ORGANISATION: texts.ASK_ORGANISATION,
    Step.PHONE: texts.ASK_PHONE,
    Step.PURPOSE: texts.ASK_PURPOSE,
    Step.DURATION: texts.ASK_DURATION,
    Step.EQUIPMENT: texts.ASK_EQUIPMENT,
}
FIELD_STEPS = {
    "ktp": Step.KTP,
    "nik": Step.NIK,
    "name": Step.NAME,
    "organisation": Step.ORGANISATION,
    "phone": Step.PHONE,
    "purpose": Step.PURPOSE,
    "duration": Step.DURATION,
    "equipment": Step.EQUIPMENT,
}
# Free-text fields: (label for messages, max length).
TEXT_FIELDS = {
    Step.NAME: ("name", "Nama", NAME_MAX),
    Step.ORGANISATION: ("organisation", "Nama instansi", ORGANISATION_MAX),
    Step.PURPOSE: ("purpose", "Keperluan", PURPOSE_MAX),
    Step.EQUIPMENT: ("equipment", "Daftar perangkat", EQUIPMENT_MAX),
}
TEXT = filters.TEXT & ~filters.COMMAND
log = logging.getLogger(__name__)


def _reg(arg: str) -> str:
    return callbacks.pack(callbacks.REGISTRATION, arg)


def _draft(context: BotContext) -> dict[str, Any]:
    # A plain dict, so conversation persistence can store it as it is.
    return context.user_data.setdefault("draft", {})  # type: ignore[union-attr]


def _keyboard(step: Step, editing: bool) -> InlineKeyboardMarkup:
    rows: list[list[InlineKeyboardButton]] = []
    if step == Step.PURPOSE:
        rows += [
            [InlineKeyboardButton(p, callback_data=_reg(f"p:{i}"))]
            for i, p in enumerate(texts.PURPOSES)
        ]
    elif step == Step.DURATION:
        rows.append(
            [
                InlineKeyboardButton(f"{m} mnt", callback_data=_reg(f"d:{m}"))
                for m in texts.DURATIONS
            ]
        )
    elif step == Step.EQUIPMENT:
        rows.append([InlineKeyboardButton(texts.BTN_NO_EQUIPMENT, callback_data=_reg("none"))])
    nav = [InlineKeyboardButton(texts.BTN_CANCEL, callback_data=_reg("cancel"))]
    if step != Step.KTP or editing:
        nav.insert(0, InlineKeyboardButton(texts.BTN_BACK, callback_data=_reg("back")))
    rows.append(nav)
    return InlineKeyboardMarkup(rows)


def question(step: Step, draft: dict[str, Any]) -> tuple[str, InlineKeyboardMarkup]:
    """The text and buttons that ask for ``step``."""
    if step == Step.CONFIRM:
        return texts.summary(draft, draft["duration"]), _summary_keyboard()
    if step == Step.RETURNING:
        buttons = [
            [
                InlineKeyboardButton(texts.BTN_REUSE, callback_data=_reg("reuse")),
                InlineKeyboardButton(texts.BTN_FRESH, callback_data=_reg("fresh")),
            ],
            [InlineKeyboardButton(texts.BTN_CANCEL, callback_data=_reg("cancel"))],
        ]
        text = texts.returning_visitor(draft["name"], draft["organisation"], draft["phone"])
        return text, InlineKeyboardMarkup(buttons)
    return QUESTIONS[step], _keyboard(step, bool(draft.get("editing")))


async def _ask(update: Update, context: BotContext, step: Step) -> Step:
    """Put the question for ``step`` on screen and remember where we are."""
    draft = _draft(context)
    draft["step"] = int(step)
    chat = update.effective_chat
    assert chat is not None
    if step == Step.CONFIRM:
        # The form is filled in; what remains is checking it against the KTP (SOP step 2).
        draft.setdefault("form_done_at", context.services.now().isoformat())
    text, markup = question(step, draft)
    await chat.send_message(text, reply_markup=markup)
    return step


async def resume_after_restart(app: Application) -> None:  # type: ignore[type-arg]
    """After a restart, officers in the middle of a form see where they are.

    Their update may have been lost with the old process, or its reply never sent;
    repeating the current question tells them what the bot expects now.
    """
    assert app.persistence is not None
    for key, state in (await app.persistence.get_conversations("registration")).items():
        chat_id, user_id = key[0], key[-1]
        draft = app.user_data.get(user_id, {}).get("draft")
        if state is None or not draft or "step" not in draft:
            continue
        text, markup = question(Step(draft["step"]), draft)
        try:
            await app.bot.send_message(chat_id, texts.RESUMED)
            await app.bot.send_message(chat_id, text, reply_markup=markup)
        except TelegramError as exc:
            log.warning("could not resume the form in chat %s: %s", chat_id, exc)


def _summary_keyboard() -> InlineKeyboardMarkup:
    edits = [
        InlineKeyboardButton(label, callback_data=_reg(f"e:{field}"))
        for field, label in texts.EDIT_BUTTONS.items()
    ]
    rows = [edits[i : i + 2] for i in range(0, len(edits), 2)]
    rows.append([InlineKeyboardButton(texts.BTN_SUBMIT, callback_data=_reg("send"))])
    rows.append([InlineKeyboardButton(texts.BTN_CANCEL, callback_data=_reg("cancel"))])
    return InlineKeyboardMarkup(rows)


async def _next(update: Update, context: BotContext, step: Step) -> Step:
    """After a valid answer: the next question, or back to the summary when editing."""
    draft = _draft(context)
    if draft.get("editing") or step == Step.EQUIPMENT:
        draft["editing"] = False
        return await _ask(update, context, Step.CONFIRM)
    return await _ask(update, context, Step(step + 1))


async def _retry(update: Update, context: BotContext, message: str) -> Step:
    """Bad input: say what is wrong, then the same question again; nothing changes."""
    assert update.effective_chat is not None
    await update.effective_chat.send_message(message)
    return await _ask(update, context, Step(_draft(context).get("step", Step.KTP)))


async def _done_with_button(update: Update) -> None:
    """Take the keyboard off a question once answered, so it cannot be tapped twice."""
    query = update.callback_query
    if query is not None:
        await query.answer()
        await query.edit_message_reply_markup(None)


async def start(update: Update, context: BotContext) -> Step | int:
    """/daftar: a fresh form, officers only."""
    member = context.services.member(update.effective_user.id if update.effective_user else None)
    assert update.effective_message is not None
    if not may(member, Act.REGISTER):
        await update.effective_message.reply_text(texts.ONLY_OFFICER)
        return ConversationHandler.END
    context.user_data["draft"] = {"started_at": context.services.now().isoformat()}  # type: ignore[index]
    return await _ask(update, context, Step.KTP)


async def ktp_photo(update: Update, context: BotContext) -> Step:
    """The KTP photo: keep Telegram's file id of the largest size."""
    assert update.effective_message is not None
    photo = update.effective_message.photo[-1]
    _draft(context)["ktp_file_id"] = photo.file_id
    return await _next(update, context, Step.KTP)


async def nik(update: Update, context: BotContext) -> Step:
    """The NIK, validated; a known NIK offers the stored details."""
    assert update.effective_message is not None and update.effective_message.text is not None
    try:
        info = validate_nik(update.effective_message.text, context.services.now().date())
    except NikError as exc:
        return await _retry(update, context, texts.bad_nik(exc.problem))
    draft = _draft(context)
    draft["nik"] = info.nik
    known = await context.services.storage.visits.find_visitor(info.nik)
    if known is not None and not draft.get("editing"):
        draft.update(name=known.name, organisation=known.organisation, phone=known.phone)
        return await _ask(update, context, Step.RETURNING)
    return await _next(update, context, Step.NIK)


async def returning(update: Update, context: BotContext) -> Step:
    """Reuse a returning visitor's stored name, organisation and phone, or type them anew."""
    assert update.callback_query is not None
    await _done_with_button(update)
    if update.callback_query.data == _reg("reuse"):
        return await _ask(update, context, Step.PURPOSE)
    return await _ask(update, context, Step.NAME)


async def text_field(update: Update, context: BotContext) -> Step:
    """Name, organisation, purpose or equipment typed by the officer."""
    step = Step(_draft(context)["step"])
    key, label, limit = TEXT_FIELDS[step]
    assert update.effective_message is not None and update.effective_message.text is not None
    try:
        value = clean_text(
            update.effective_message.text, limit, min_len=2 if step == Step.NAME else 1
        )
    except FieldError as exc:
        if exc.problem == FieldProblem.TOO_LONG:
            return await _retry(update, context, texts.too_long(label, limit))
        return await _retry(update, context, texts.too_short(label))
    _draft(context)[key] = value
    return await _next(update, context, step)


async def phone(update: Update, context: BotContext) -> Step:
    """The visitor's phone number."""
    assert update.effective_message is not None and update.effective_message.text is not None
    number = normalise_phone(update.effective_message.text)
    if number is None:
        return await _retry(update, context, texts.BAD_PHONE)
    _draft(context)["phone"] = number
    return await _next(update, context, Step.PHONE)


async def purpose_button(update: Update, context: BotContext) -> Step:
    """One of the common purposes, tapped."""
    assert update.callback_query is not None and update.callback_query.data is not None
    index = int(update.callback_query.data.rsplit(":", 1)[1])
    await _done_with_button(update)
    _draft(context)["purpose"] = texts.PURPOSES[index]
    return await _next(update, context, Step.PURPOSE)


async def duration_button(update: Update, context: BotContext) -> Step:
    """A planned duration, tapped."""
    assert update.callback_query is not None and update.callback_query.data is not None
    await _done_with_button(update)
    _draft(context)["duration"] = int(update.callback_query.data.rsplit(":", 1)[1])
    return await _next(update, context, Step.DURATION)


async def duration_text(update: Update, context: BotContext) -> Step:
    """A planned duration, typed in minutes."""
    assert update.effective_message is not None and update.effective_message.text is not None
    minutes = parse_duration(update.effective_message.text)
    if minutes is None:
        return await _retry(update, context, texts.BAD_DURATION)
    _draft(context)["duration"] = minutes
    return await _next(update, context, Step.DURATION)


async def no_equipment(update: Update, context: BotContext) -> Step:
    """The visitor brings no equipment."""
    await _done_with_button(update)
    _draft(context)["equipment"] = ""
    return await _next(update, context, Step.EQUIPMENT)


async def edit_field(update: Update, context: BotContext) -> Step:
    """From the summary: change one field, then come back to the summary."""
    assert update.callback_query is not None and update.callback_query.data is not None
    field = update.callback_query.data.rsplit(":", 1)[1]
    if field not in FIELD_STEPS:
        return await stale(update, context)
    await _done_with_button(update)
    _draft(context)["editing"] = True
    return await _ask(update, context, FIELD_STEPS[field])


async def back(update: Update, context: BotContext) -> Step:
    """One step back (or to the summary, when editing a field)."""
    await _done_with_button(update)
    draft = _draft(context)
    step = Step(draft.get("step", Step.KTP))
    if draft.get("editing") or step == Step.CONFIRM:
        draft["editing"] = False
        return await _ask(
            update, context, Step.CONFIRM if step != Step.CONFIRM else Step.EQUIPMENT
        )
    if step == Step.RETURNING:
        return await _ask(update, context, Step.NIK)
    return await _ask(update, context, Step(max(step - 1, Step.KTP)))


async def submit(update: Update, context: BotContext) -> int:
    """SOP step 3: hand the form to the section head(s)."""
    await _done_with_button(update)
    services = context.services
    draft = _draft(context)
    officer = services.member(update.effective_user.id if update.effective_user else None)
    if not may(officer, Act.REGISTER):
        return ConversationHandler.END
    visit_draft = VisitDraft(
        nik=draft["nik"],
        name=draft["name"],
        organisation=draft["organisation"],
        phone=draft["phone"],
        purpose=draft["purpose"],
        duration_minutes=draft["duration"],
        equipment=draft.get("equipment", ""),
        ktp_file_id=draft["ktp_file_id"],
        started_at=datetime.fromisoformat(draft["started_at"]),
        form_done_at=datetime.fromisoformat(draft["form_done_at"]),
    )
    visit, sent = await workflow.submit(services, visit_draft, officer)
    # The KTP copy, encrypted at rest, kept in the background so a slow download never holds
    # up the officer; one that fails is retried by the privacy sweep (bot/flows/privacy.py).
    context.application.create_task(
        ktp.keep(services, context.bot, visit.id, visit.ktp_file_id), update=update
    )
    context.user_data.pop("draft", None)  # type: ignore[union-attr]
    assert update.effective_chat is not None
    await update.effective_chat.send_message(texts.submitted(visit.reference, sent))
    return ConversationHandler.END


async def cancel(update: Update, context: BotContext) -> int:
    """/batal or the cancel button: forget the draft."""
    await _done_with_button(update)
    context.user_data.pop("draft", None)  # type: ignore[union-attr]
    assert update.effective_chat is not None
    await update.effective_chat.send_message(texts.CANCELLED)
    return ConversationHandler.END


async def wrong_input(update: Update, context: BotContext) -> Step:
    """Anything the current step cannot use: a clear answer and the same question."""
    step = Step(_draft(context).get("step", Step.KTP))
    message = update.effective_message
    if step == Step.KTP:
        is_file = message is not None and message.document is not None
        return await _retry(
            update, context, texts.WANT_PHOTO_NOT_FILE if is_file else texts.WANT_PHOTO
        )
    if step in (Step.CONFIRM, Step.RETURNING):
        return await _retry(update, context, texts.USE_BUTTONS)
    return await _retry(update, context, texts.WANT_TEXT)


async def stale(update: Update, context: BotContext) -> None:
    """A button from an earlier question: refuse it, change nothing."""
    if update.callback_query is not None:
        await update.callback_query.answer(texts.STALE_BUTTON, show_alert=True)


def _button(arg: str, callback: Any) -> CallbackQueryHandler:  # type: ignore[type-arg]
    return CallbackQueryHandler(callback, pattern=f"^{_reg(arg)}$")


def build() -> ConversationHandler:  # type: ignore[type-arg]
    """The registration conversation; buttons are tracked per chat, not per message."""
    states: dict[object, list[BaseHandler[Any, Any, Any]]] = {
        Step.KTP: [MessageHandler(filters.PHOTO, ktp_photo)],
        Step.NIK: [MessageHandler(TEXT, nik)],
        Step.RETURNING: [_button("reuse", returning), _button("fresh", returning)],
        Step.NAME: [MessageHandler(TEXT, text_field)],
        Step.ORGANISATION: [MessageHandler(TEXT, text_field)],
        Step.PHONE: [MessageHandler(TEXT, phone)],
        Step.PURPOSE: [
            CallbackQueryHandler(
                purpose_button, pattern=rf"^{_reg('p:')}[0-{len(texts.PURPOSES) - 1}]$"
            ),
            MessageHandler(TEXT, text_field),
        ],
        Step.DURATION: [
            CallbackQueryHandler(duration_button, pattern=rf"^{_reg('d:')}\d{{1,3}}$"),
            MessageHandler(TEXT, duration_text),
        ],
        Step.EQUIPMENT: [_button("none", no_equipment), MessageHandler(TEXT, text_field)],
        Step.CONFIRM: [
            _button("send", submit),
            CallbackQueryHandler(edit_field, pattern=rf"^{_reg('e:')}[a-z]+$"),
        ],
    }
    with warnings.catch_warnings():
        # per_message=False is deliberate: the conversation is keyed by the officer's chat,
        # and every state checks which button it accepts.
        warnings.filterwarnings("ignore", message=".*per_message.*", category=PTBUserWarning)
        return ConversationHandler(
            entry_points=[CommandHandler("daftar", start)],
            states=states,
            fallbacks=[
                CommandHandler("batal", cancel),
                CommandHandler("daftar", start),
                _button("cancel", cancel),
                _button("back", back),
                CallbackQueryHandler(stale, pattern=callbacks.pattern(callbacks.REGISTRATION)),
                MessageHandler(~filters.COMMAND, wrong_input),
            ],
            name="registration",
            persistent=True,
        )
