"""The SOP's steps as application services: storage transitions plus who must be told.

Handlers parse updates and call these; these never read an Update.
"""

from __future__ import annotations

import asyncio
import enum
import logging
from dataclasses import dataclass

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, InputFile
from telegram.error import BadRequest, Forbidden, TelegramError

from bot import texts
from bot.config import StaffMember
from bot.core import callbacks
from bot.core.badge import BadgeCard, render_badge_pdf, render_badge_png
from bot.core.tokens import (
    deep_link,
    format_code,
    lookup_hash,
    new_credentials,
    token_matches_visit,
)
from bot.core.visits import Visit, VisitDraft, VisitStatus, badge_valid_until
from bot.services import Services

log = logging.getLogger(__name__)


class Outcome(enum.Enum):
    DONE = "done"
    NOT_ALLOWED = "not_allowed"  # the visit is not in the state the action needs
    NOT_FOUND = "not_found"


@dataclass(frozen=True)
class Result:
    outcome: Outcome
    visit: Visit | None = None


def approval_keyboard(visit_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    texts.BTN_APPROVE, callback_data=callbacks.pack(callbacks.APPROVE, visit_id)
                ),
                InlineKeyboardButton(
                    texts.BTN_DENY, callback_data=callbacks.pack(callbacks.DENY, visit_id)
                ),
            ]
        ]
    )


async def submit(
    services: Services, bot: Bot, draft: VisitDraft, officer: StaffMember
) -> tuple[Visit, int]:
    """SOP step 3: store the request and put a card on every approver's phone."""
    visit = await services.storage.submit_visit(draft, officer.user_id, services.now())
    sent = 0
    for approver in services.config.with_role("approver"):
        try:
            message = await bot.send_photo(
                approver.user_id,
                visit.ktp_file_id,
                caption=texts.approval_card(visit, officer.name, services.config.timezone),
                reply_markup=approval_keyboard(visit.id),
            )
        except (Forbidden, BadRequest) as exc:
            # One unreachable approver must not keep the card from the others.
            log.warning("approval card for visit %s not delivered: %s", visit.id, exc.message)
            continue
        await services.storage.add_card(visit.id, approver.user_id, message.message_id)
        if not sent:
            await services.storage.mark_handover(visit.id, services.now())
        sent += 1
    return visit, sent


async def approve(services: Services, bot: Bot, visit_id: int, approver: StaffMember) -> Result:
    """SOP steps 4-5a: the first decision wins; the officer receives the badge."""
    visit = await services.storage.get_visit(visit_id)
    if visit is None:
        return Result(Outcome.NOT_FOUND)
    if visit.status != VisitStatus.PENDING:
        return Result(Outcome.NOT_ALLOWED, visit)
    now = services.now()
    secret = services.config.signing_secret
    creds = new_credentials(secret, visit_id)
    valid_until = badge_valid_until(
        now, services.config.entry_window_minutes, visit.duration_minutes
    )
    won = await services.storage.approve(
        visit_id,
        approver.user_id,
        now,
        valid_until,
        lookup_hash(secret, creds.token, "token"),
        lookup_hash(secret, creds.code, "code"),
    )
    visit = await services.storage.get_visit(visit_id)
    assert visit is not None
    if not won:
        return Result(Outcome.NOT_ALLOWED, visit)
    await refresh_cards(services, bot, visit)
    tz = services.config.timezone
    await _tell(bot, visit.officer_id, texts.officer_approved(visit, approver.name, tz))
    await send_badge(services, bot, visit, creds.token, creds.code)
    return Result(Outcome.DONE, visit)


async def deny(
    services: Services, bot: Bot, visit_id: int, approver: StaffMember, reason: str
) -> Result:
    """SOP step 4-5b: the visitor cannot enter; the officer is told why."""
    won = await services.storage.deny(visit_id, approver.user_id, services.now(), reason)
    visit = await services.storage.get_visit(visit_id)
    if visit is None:
        return Result(Outcome.NOT_FOUND)
    if not won:
        return Result(Outcome.NOT_ALLOWED, visit)
    await refresh_cards(services, bot, visit)
    await _tell(bot, visit.officer_id, texts.officer_denied(visit, approver.name))
    return Result(Outcome.DONE, visit)


async def refresh_cards(services: Services, bot: Bot, visit: Visit) -> None:
    """Show every approver who decided and when, without buttons."""
    officer = services.name_of(visit.officer_id)
    caption = texts.card_decided(
        visit, officer, services.name_of(visit.decided_by), services.config.timezone
    )
    for card in await services.storage.cards(visit.id):
        try:
            await bot.edit_message_caption(
                card.chat_id, card.message_id, caption=caption, reply_markup=None
            )
        except BadRequest as exc:
            if "not modified" not in exc.message:
                log.warning("card of visit %s not updated: %s", visit.id, exc.message)
        except Forbidden:
            log.warning("card of visit %s not updated: approver blocked the bot", visit.id)


async def send_badge(services: Services, bot: Bot, visit: Visit, token: str, code: str) -> None:
    """The SOP's special identity badge: PNG to show or print, and an ID-1 PDF."""
    assert visit.valid_until is not None
    tz = services.config.timezone
    local_until = visit.valid_until.astimezone(tz)
    card = BadgeCard(
        name=visit.name,
        organisation=visit.organisation,
        reference=visit.reference,
        valid_until=local_until,
        link=deep_link(services.bot_username, token),
        code=code,
        office=services.config.office_name,
        timezone_label=local_until.tzname() or "",
    )
    png, pdf = await asyncio.gather(
        asyncio.to_thread(render_badge_png, card), asyncio.to_thread(render_badge_pdf, card)
    )
    name = f"badge-{visit.reference}"
    await bot.send_photo(
        visit.officer_id,
        InputFile(png, filename=f"{name}.png"),
        caption=texts.badge_caption(visit, format_code(code), tz),
    )
    await bot.send_document(visit.officer_id, InputFile(pdf, filename=f"{name}.pdf"))


class BadgeProblem(enum.Enum):
    UNKNOWN = "unknown"  # forged, mistyped, another deployment's or another visit's
    FINISHED = "finished"  # checked out: the badge is dead
    EXPIRED = "expired"


@dataclass(frozen=True)
class BadgeLookup:
    visit: Visit | None
    problem: BadgeProblem | None


async def find_badge(
    services: Services, bot: Bot, *, token: str = "", code: str = ""
) -> BadgeLookup:
    """Resolve a scanned token or typed code to its visit, or say what is wrong with it."""
    secret = services.config.signing_secret
    if token:
        found = await services.storage.badge_visit("token", lookup_hash(secret, token, "token"))
        if found is not None and not token_matches_visit(secret, token, found):
            found = None
    else:
        found = await services.storage.badge_visit("code", lookup_hash(secret, code, "code"))
    visit = await services.storage.get_visit(found) if found is not None else None
    if visit is None:
        return BadgeLookup(None, BadgeProblem.UNKNOWN)
    visit = await _expire_if_due(services, bot, visit)
    if visit.status == VisitStatus.EXPIRED:
        return BadgeLookup(visit, BadgeProblem.EXPIRED)
    if visit.status == VisitStatus.DONE:
        return BadgeLookup(visit, BadgeProblem.FINISHED)
    return BadgeLookup(visit, None)


async def enter(services: Services, bot: Bot, visit_id: int, escort: StaffMember) -> Result:
    """SOP step 6: the escorted visit begins."""
    visit = await services.storage.get_visit(visit_id)
    if visit is None:
        return Result(Outcome.NOT_FOUND)
    visit = await _expire_if_due(services, bot, visit)
    if not await services.storage.enter(visit_id, escort.user_id, services.now()):
        return Result(Outcome.NOT_ALLOWED, await services.storage.get_visit(visit_id))
    visit = await services.storage.get_visit(visit_id)
    assert visit is not None
    await _tell(
        bot, visit.officer_id, texts.officer_entered(visit, escort.name, services.config.timezone)
    )
    return Result(Outcome.DONE, visit)


async def exit_(services: Services, bot: Bot, visit_id: int, escort: StaffMember) -> Result:
    """End of the SOP: the visitor leaves, the badge dies, the log entry closes."""
    if not await services.storage.exit(visit_id, escort.user_id, services.now()):
        visit = await services.storage.get_visit(visit_id)
        return Result(Outcome.NOT_FOUND if visit is None else Outcome.NOT_ALLOWED, visit)
    visit = await services.storage.get_visit(visit_id)
    assert visit is not None
    summary = texts.exit_summary(visit, escort.name, services.config.timezone)
    recipients = {visit.officer_id, *(a.user_id for a in services.config.with_role("approver"))}
    for chat_id in sorted(recipients):
        await _tell(bot, chat_id, summary)
    return Result(Outcome.DONE, visit)


async def expire(services: Services, bot: Bot, visit: Visit) -> bool:
    """An approved badge not used within its window dies; the officer is told."""
    if not await services.storage.expire(visit.id, services.now()):
        return False
    await _tell(bot, visit.officer_id, texts.badge_expired_notice(visit))
    return True


async def expire_overdue(services: Services, bot: Bot) -> int:
    """Sweep every approved visit whose window has closed (the deadline lives in SQLite)."""
    now = services.now()
    count = 0
    for visit in await services.storage.visits_with_status(VisitStatus.APPROVED):
        if visit.valid_until is not None and now >= visit.valid_until:
            count += await expire(services, bot, visit)
    return count


async def _expire_if_due(services: Services, bot: Bot, visit: Visit) -> Visit:
    """Expiry is checked on every use too, so a missed sweep never admits anyone."""
    due = visit.valid_until is not None and services.now() >= visit.valid_until
    if visit.status == VisitStatus.APPROVED and due:
        await expire(services, bot, visit)
        return await services.storage.get_visit(visit.id) or visit
    return visit


async def _tell(bot: Bot, chat_id: int, text: str) -> None:
    """A notice someone should get; a person who blocked the bot must not break the flow."""
    try:
        await bot.send_message(chat_id, text)
    except Forbidden:
        log.warning("notice to chat %s not delivered: bot blocked", chat_id)
    except TelegramError as exc:
        log.warning("notice to chat %s not delivered: %s", chat_id, exc)
