"""Entry and exit at the door (SOP step 6 and the end): deep link, badge photo, manual code."""

from __future__ import annotations

import asyncio
import logging

from telegram import CallbackQuery, Chat, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest
from telegram.ext import CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot.app.context import BotContext, Handler
from bot.app.services import Services
from bot.core import callbacks
from bot.core.callbacks import DoorTap, VisitTap
from bot.core.policy import Act, may
from bot.core.qr import decode_badge_token
from bot.core.roles import StaffMember
from bot.core.tokens import DOOR_NONCE_TTL, looks_like_token, new_door_nonce, normalise_code
from bot.core.visits import Visit, VisitStatus
from bot.flows import workflow
from bot.texts import cancel as cancel_texts
from bot.texts import common as common_texts
from bot.texts import door as door_texts
from bot.texts import rollcall as rollcall_texts
from handlers.edits import answer_tap, edit_body, unless_unchanged
from storage.door import DoorPass

log = logging.getLogger(__name__)

_REFUSALS = {
    workflow.BadgeProblem.EXPIRED: door_texts.BADGE_EXPIRED,
    workflow.BadgeProblem.FINISHED: door_texts.BADGE_FINISHED,
    workflow.BadgeProblem.CANCELLED: cancel_texts.BADGE_CANCELLED,
}
MAX_PHOTO_BYTES = 10 * 1024 * 1024


async def show_badge(
    update: Update,
    context: BotContext,
    member: StaffMember,
    via: str,
    *,
    token: str = "",
    code: str = "",
) -> None:
    """What a scan shows staff: the visit and the one button its state allows."""
    assert update.effective_chat is not None
    if not may(member, Act.VIEW_BADGE):
        await update.effective_chat.send_message(common_texts.NOT_ALLOWED)
        return
    services = context.services
    lookup = await workflow.find_badge(services, token=token, code=code)
    if lookup.problem is not None or lookup.visit is None:
        await workflow.refuse_badge(services, member, lookup, via)
        message = _REFUSALS.get(lookup.problem or workflow.BadgeProblem.UNKNOWN)
        await update.effective_chat.send_message(message or door_texts.BADGE_UNKNOWN)
        return
    visit = lookup.visit
    can_act = may(member, Act.RECORD_DOOR, visit)
    markup = None
    barred = (
        visit.status == VisitStatus.APPROVED
        and await workflow.barred_since_approval(services, visit) is not None
    )
    # No MASUK while an evacuation roll call runs (workflow.enter refuses it): the view says
    # why where the button would be. KELUAR stays: it marks the visitor safe.
    closed = (
        can_act
        and visit.status == VisitStatus.APPROVED
        and not barred
        and await workflow.entry_closed(services)
    )
    if can_act and visit.status in _DOOR_STEP and not barred and not closed:
        action = _DOOR_STEP[visit.status]
        # The button is good for this scan only: one tap, by this escort, for a few minutes.
        nonce, now = new_door_nonce(), services.now()
        await services.storage.door.issue(
            nonce, visit.id, member.user_id, action, via, now, now + DOOR_NONCE_TTL
        )
        markup = door_buttons(visit, nonce)
    note = rollcall_texts.NO_ENTRY if closed else ""
    await _send_view(
        services, update.effective_chat, visit, can_act, markup, barred=barred, note=note
    )


async def _send_view(
    services: Services,
    chat: Chat,
    visit: Visit,
    can_act: bool,
    markup: InlineKeyboardMarkup | None,
    *,
    barred: bool = False,
    note: str = "",
) -> None:
    """The scan's card: the KTP photo, the visit as its caption and the door buttons, in one
    sendPhoto, sent by the file id the approvers' cards use (nothing is uploaded). Once the
    photo is purged, or if Telegram refuses the file id, the card is a text that says so.
    ``note`` ends it (why there is no button).

    Sent with protect_content (https://core.telegram.org/bots/api#sendphoto): the photo is
    a citizen's KTP, and a forwarded or saved copy could never be redrawn when the photo's
    retention ends or the person's data is erased.

    A card with the photo is recorded: when the photo's retention ends, or the person's
    data is erased, the card is redrawn without it (storage/privacy.py)."""
    tz = services.config.timezone
    if visit.ktp_file_id:
        caption = door_texts.scan_view(
            visit, tz, can_act=can_act, ktp=door_texts.ktp_line(visit, shown=True), barred=barred
        )
        caption = f"{caption}\n\n{note}" if note else caption
        # Every field at its longest fits (a test holds it); a text grown past the limit
        # since must not cost the escort the card.
        try:
            if door_texts.fits_caption(caption):
                sent = await chat.send_photo(
                    visit.ktp_file_id, caption=caption, reply_markup=markup, protect_content=True
                )
                await services.storage.privacy.ktp_shown(
                    visit.id, chat.id, sent.message_id, services.now()
                )
                return
            log.warning("scan card of visit %s too long for a caption", visit.id)
        except BadRequest as exc:
            log.warning("KTP photo of visit %s not shown at the door: %s", visit.id, exc.message)
    text = door_texts.scan_view(
        visit, tz, can_act=can_act, ktp=door_texts.ktp_line(visit, shown=False), barred=barred
    )
    text = f"{text}\n\n{note}" if note else text
    await chat.send_message(text, reply_markup=markup)


_DOOR_STEP = {
    VisitStatus.APPROVED: callbacks.DOOR_ENTER,
    VisitStatus.INSIDE: callbacks.DOOR_EXIT,
}


def door_buttons(visit: Visit, nonce: str) -> InlineKeyboardMarkup:
    """MASUK; or KELUAR, which for a visit that listed equipment is one of the two checks."""
    if visit.status == VisitStatus.APPROVED:
        buttons = [(door_texts.BTN_ENTER, callbacks.DOOR_ENTER)]
    elif visit.needs_equipment_check:
        buttons = [
            (door_texts.BTN_EXIT_OK, callbacks.DOOR_EXIT_OK),
            (door_texts.BTN_EXIT_DIFF, callbacks.DOOR_EXIT_DIFF),
        ]
    else:
        buttons = [(door_texts.BTN_EXIT, callbacks.DOOR_EXIT)]
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(label, callback_data=DoorTap(action, visit.id, nonce).data)
                for label, action in buttons
            ]
        ]
    )


async def badge_photo(update: Update, context: BotContext) -> None:
    """A photo of a badge: decode its QR and handle it like a camera scan. Sent "as File"
    (an image document, Android's way to keep the quality) it is read the same way."""
    message = update.effective_message
    assert message is not None and update.effective_user is not None
    member = context.services.member(update.effective_user.id)
    assert member is not None  # strangers never get this far (see handlers.access)
    photo = message.photo[-1] if message.photo else message.document
    assert photo is not None  # the handler's filter: a photo, or an image document
    if photo.file_size and photo.file_size > MAX_PHOTO_BYTES:
        await message.reply_text(door_texts.PHOTO_TOO_LARGE)
        return
    data = bytes(await (await photo.get_file()).download_as_bytearray())
    token = await asyncio.to_thread(decode_badge_token, data, context.services.bot_username)
    if token is None:
        await message.reply_text(door_texts.NO_QR_IN_PHOTO)
        return
    await show_badge(update, context, member, "photo", token=token)


async def manual_code(update: Update, context: BotContext) -> bool:
    """/kode ABCD-EFGH (also /keluar): the code printed under the QR, typed by hand.

    True when the text is not a code at all, so an awaited answer is asked for again
    (handlers/arguments.py); a well-formed code is looked up (and counted) either way."""
    message = update.effective_message
    assert message is not None and update.effective_user is not None
    member = context.services.member(update.effective_user.id)
    if not may(member, Act.USE_CODE):
        await message.reply_text(common_texts.NOT_ALLOWED)
        return False
    if not context.args:
        await message.reply_text(door_texts.CODE_USAGE)
        return False
    limit = await workflow.code_limit(context.services, member)
    if limit is not None:
        closed = limit == workflow.CodeLimit.EVERYONE
        await message.reply_text(
            door_texts.CODE_CLOSED if closed else door_texts.CODE_RATE_LIMITED
        )
        return False
    code = normalise_code("".join(context.args))
    if code is None:
        await message.reply_text(door_texts.CODE_FORMAT)
        return True
    await show_badge(update, context, member, "code", code=code)
    return False


async def start_with_token(update: Update, context: BotContext) -> None:
    """/start <token>: what a phone camera opens when it reads the badge's QR."""
    assert update.effective_user is not None and update.effective_message is not None
    member = context.services.member(update.effective_user.id)
    assert member is not None
    payload = context.args[0] if context.args else ""
    if not looks_like_token(payload):
        lookup = workflow.BadgeLookup(None, workflow.BadgeProblem.UNKNOWN)
        await workflow.refuse_badge(context.services, member, lookup, "qr")
        await update.effective_message.reply_text(door_texts.BADGE_UNKNOWN)
        return
    await show_badge(update, context, member, "qr", token=payload)


async def record(update: Update, context: BotContext) -> None:
    """The escort's one tap: MASUK or KELUAR, only with the nonce of the scan that showed it,
    then checked against role and state again."""
    query = update.callback_query
    assert query is not None
    tap = callbacks.parse(query.data)
    services = context.services
    escort = services.member(query.from_user.id)
    if not may(escort, Act.RECORD_DOOR):
        answer_tap(query, door_texts.ONLY_ESCORT, show_alert=True)
        return
    if not isinstance(tap, DoorTap | VisitTap):
        answer_tap(query, common_texts.STALE_BUTTON, show_alert=True)
        return
    door_pass = await redeem(services, escort, tap) if isinstance(tap, DoorTap) else None
    if (
        door_pass is None
        and isinstance(tap, DoorTap)
        and await recorded_already(query, escort, tap, services)
    ):
        return
    if door_pass is None or isinstance(tap, VisitTap):
        # A button from before nonces, a forged, replayed, expired or someone else's one.
        await refuse_tap(services, escort, tap.visit_id, tap.action)
        answer_tap(query, door_texts.SCAN_AGAIN, show_alert=True)
        await unless_unchanged(query.edit_message_reply_markup(None))
        return
    enters = door_pass.action == callbacks.DOOR_ENTER
    if enters:
        result = await workflow.enter(services, tap.visit_id, escort, via=door_pass.via)
    else:
        result = await workflow.exit_(
            services, tap.visit_id, escort, via=door_pass.via, check=tap.check
        )
    tz = services.config.timezone
    if result.outcome == workflow.Outcome.DONE:
        # Used once the step is recorded; a replay finds it spent, and a tap the visit's
        # state refused (a double tap, a cancel meanwhile) changed nothing at all.
        await services.storage.door.spend(door_pass, services.now())
    if result.outcome != workflow.Outcome.DONE or result.visit is None:
        # Still inside: a KELUAR without the equipment check the visit needs (a card from
        # before the check existed); anything else is a double tap or a step taken meanwhile.
        unchecked = (
            not enters and result.visit is not None and result.visit.status == VisitStatus.INSIDE
        )
        if unchecked or result.visit is None:
            refusal = door_texts.SCAN_AGAIN if unchecked else door_texts.stale_tap(None)
            answer_tap(query, refusal, show_alert=True)
            await unless_unchanged(query.edit_message_reply_markup(None))
            return
        if result.outcome == workflow.Outcome.ROLL_CALL:
            # Refused for now, nothing written: the pass stays, so the same button records
            # MASUK once the roll call ends (within the pass's few minutes).
            answer_tap(query, rollcall_texts.NO_ENTRY_TAP, show_alert=True)
            return
        if result.outcome == workflow.Outcome.BARRED:
            # Barred since the scan: the card says so too, and its button goes.
            await refuse_tap(services, escort, tap.visit_id, tap.action)
            answer_tap(query, door_texts.BARRED_TAP, show_alert=True)
            await _settle(query, services, result.visit, barred=True)
            return
        answer_tap(query, door_texts.stale_tap(result.visit), show_alert=True)
        await _settle(query, services, result.visit)  # a step taken meanwhile
        return
    answer_tap(query)
    render = door_texts.entered if enters else door_texts.exited
    message = query.message
    assert message is not None
    await edit_body(
        context.bot,
        message.chat.id,
        message.message_id,
        render(result.visit, escort.name, tz),
        photo=bool(getattr(message, "photo", None)),
    )


async def redeem(services: Services, escort: StaffMember, tap: DoorTap) -> DoorPass | None:
    """The unused, unexpired pass of the scan that showed this button, or None."""
    return await services.storage.door.find(
        tap.nonce, tap.visit_id, escort.user_id, tap.step, services.now()
    )


async def recorded_already(
    query: CallbackQuery, escort: StaffMember, tap: DoorTap, services: Services
) -> bool:
    """The same escort's second tap on a door button whose first tap recorded its step (a
    double tap, or a look back at the card): answered as done, not "scan again"."""
    if not await services.storage.door.spent(tap.nonce, tap.visit_id, escort.user_id, tap.step):
        return False
    visit = await services.storage.visits.get(tap.visit_id)
    tz = services.config.timezone
    answer_tap(query, door_texts.already_recorded(visit, tap.step, tz))
    enters = tap.step == callbacks.DOOR_ENTER
    message = query.message
    if (
        visit is None
        or message is None
        or (visit.entered_at if enters else visit.exited_at) is None
    ):
        await unless_unchanged(query.edit_message_reply_markup(None))
        return True
    # The card says what the first tap recorded (its own edit may still be on its way).
    render = door_texts.entered if enters else door_texts.exited
    await edit_body(
        query.get_bot(),
        message.chat.id,
        message.message_id,
        render(visit, escort.name, tz),
        photo=bool(getattr(message, "photo", None)),
    )
    return True


async def _settle(
    query: CallbackQuery, services: Services, visit: Visit, *, barred: bool = False
) -> None:
    """A scan card whose button the visit's state no longer allows: it shows where the visit
    stands now, without buttons, instead of its old "tap MASUK/KELUAR below"."""
    message = query.message
    photo = bool(getattr(message, "photo", None))
    shown = photo and bool(visit.ktp_file_id)
    view = door_texts.scan_view(
        visit,
        services.config.timezone,
        can_act=True,
        ktp=door_texts.ktp_line(visit, shown=shown),
        buttons=False,
        barred=barred,
    )
    if message is None or (photo and not door_texts.fits_caption(view)):
        await unless_unchanged(query.edit_message_reply_markup(None))
        return
    await edit_body(query.get_bot(), message.chat.id, message.message_id, view, photo=photo)


async def refuse_tap(services: Services, escort: StaffMember, visit_id: int, action: str) -> None:
    await services.storage.audit.record(
        services.now(), escort.user_id, "door_tap_refused", visit_id, detail=action
    )


async def open_visit(update: Update, context: BotContext) -> None:
    """The button on an escort's "visitor waiting" notice: the notice becomes the visit's
    scan view. Entry is still recorded by scanning the badge at the door."""
    query = update.callback_query
    assert query is not None
    tap = callbacks.parse_as(query.data, VisitTap)
    services = context.services
    visit = await services.storage.visits.get(tap.visit_id) if tap is not None else None
    if not may(services.member(query.from_user.id), Act.RECORD_DOOR, visit):
        answer_tap(query, door_texts.ONLY_ESCORT, show_alert=True)
        return
    if visit is None or visit.status not in (VisitStatus.APPROVED, VisitStatus.INSIDE):
        answer_tap(query, door_texts.stale_tap(visit), show_alert=True)
        await unless_unchanged(query.edit_message_reply_markup(None))
        return
    answer_tap(query)
    view = door_texts.opened_visit(visit, services.config.timezone)
    if visit.status == VisitStatus.APPROVED and await workflow.entry_closed(services):
        view = f"{view}\n\n{rollcall_texts.NO_ENTRY}"
    await unless_unchanged(query.edit_message_text(view))  # a double tap finds it done


def build() -> list[Handler]:
    return [
        CommandHandler("start", start_with_token, has_args=True),
        CommandHandler(["kode", "keluar"], manual_code),
        CallbackQueryHandler(record, pattern=callbacks.pattern(callbacks.ENTER)),
        CallbackQueryHandler(record, pattern=callbacks.pattern(callbacks.EXIT)),
        CallbackQueryHandler(record, pattern=callbacks.pattern(callbacks.DOOR_ENTER)),
        CallbackQueryHandler(record, pattern=callbacks.pattern(callbacks.DOOR_EXIT)),
        CallbackQueryHandler(record, pattern=callbacks.pattern(callbacks.DOOR_EXIT_OK)),
        CallbackQueryHandler(open_visit, pattern=callbacks.pattern(callbacks.OPEN_VISIT)),
        MessageHandler(filters.PHOTO | filters.Document.IMAGE, badge_photo),
    ]
