"""Staff administration from the chat: /staf, /undang and the invitation deep link.

An invitation is a one-time link ``https://t.me/<bot>?start=inv_<secret>``; the invited
person is a stranger when they open it, so handlers.access lets exactly that message
through. Roles travel in callback data as a bit mask; the presser is always re-checked.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, time, timedelta

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import CallbackQueryHandler, CommandHandler, filters

from bot.app import drafts
from bot.app.context import BotContext, Handler
from bot.app.services import Services
from bot.core import callbacks
from bot.core.callbacks import (
    DelegateForTap,
    InvitationTap,
    InviteRolesTap,
    StaffRolesTap,
    StaffTap,
)
from bot.core.invites import START_RE, new_invite_token
from bot.core.policy import DELEGATION_DAYS, Act, may, may_stand_in, opens_self_approval
from bot.core.roles import Role, StaffMember, mask_of
from bot.core.tokens import deep_link, lookup_hash
from bot.flows import duty, recipients
from bot.texts import common as common_texts
from bot.texts import staff as staff_texts
from handlers import handover
from handlers.edits import answer_tap, claim, unless_unchanged
from handlers.start import set_commands_for
from storage.outbox import OutboxItem

INVITE_VALID = timedelta(hours=24)


def _admin(update: Update, context: BotContext) -> StaffMember | None:
    user = update.effective_user
    member = context.services.member(user.id if user else None)
    return member if may(member, Act.ADMINISTER_STAFF) else None


def _button(label: str, tap: callbacks.Tap) -> InlineKeyboardButton:
    return InlineKeyboardButton(label, callback_data=tap.data)


def _role_buttons(
    roles: frozenset[Role], tap: Callable[[frozenset[Role]], callbacks.Tap]
) -> list[list[InlineKeyboardButton]]:
    """One toggle per role, ticked when chosen; each tap carries the role set it would make."""
    rows = []
    for role in Role:
        rows.append([_button(staff_texts.role_toggle(role, role in roles), tap(roles ^ {role}))])
    return rows


async def staff_list(update: Update, context: BotContext) -> None:
    """/staf: everyone active, one button each to change roles or remove."""
    assert update.effective_message is not None
    if _admin(update, context) is None:
        await update.effective_message.reply_text(common_texts.ONLY_ADMIN)
        return
    services = context.services
    members = services.staff_members()
    not_opened = {m.user_id for m in members if not services.has_opened(m.user_id)}
    buttons = [[_button(m.name, StaffTap(callbacks.STAFF_VIEW, m.user_id))] for m in members]
    await update.effective_message.reply_text(
        staff_texts.staff_list(members, not_opened), reply_markup=InlineKeyboardMarkup(buttons)
    )


async def staff_member(update: Update, context: BotContext) -> None:
    """Tap on a name, or on a role of that person: toggle the role at once, or remove them."""
    query = update.callback_query
    assert query is not None
    admin = _admin(update, context)
    if admin is None:
        answer_tap(query, common_texts.ONLY_ADMIN, show_alert=True)
        return
    tap = callbacks.parse(query.data)
    if not isinstance(tap, StaffTap | StaffRolesTap):
        answer_tap(query, common_texts.STALE_BUTTON, show_alert=True)
        return
    services = context.services
    member = services.member(tap.user_id)
    if member is None:
        answer_tap(query, staff_texts.STAFF_GONE, show_alert=True)
        return
    note = ""
    if isinstance(tap, StaffRolesTap):
        problem = handover.change_problem(services, admin, member, tap.roles)
        if problem:
            answer_tap(query, problem, show_alert=True)
            return
        visits = await handover.open_requests(services, member, tap.roles)
        if visits:  # the officer role goes: their open requests first
            answer_tap(query)
            await handover.ask(query, services, member, tap.roles, visits)
            return
        before = member.roles
        await services.storage.staff.set_roles(
            member.user_id, tap.roles, admin.user_id, services.now()
        )
        await services.refresh_staff()
        await set_commands_for(services, context.bot, member.user_id)
        drafts.recheck_soon(context)  # a form they may no longer fill in goes
        member = services.member(member.user_id) or member
        await _watch_grant(services, admin, member.user_id, member.name, before, tap.roles)
        note = await _roles_changed(services, member, before)
    answer_tap(query)
    user_id = member.user_id
    buttons = _role_buttons(member.roles, lambda roles: StaffRolesTap(user_id, roles))
    buttons.append([_button(staff_texts.BTN_REMOVE, StaffTap(callbacks.STAFF_REMOVE, user_id))])
    await unless_unchanged(
        query.edit_message_text(
            staff_texts.member_view(member, note), reply_markup=InlineKeyboardMarkup(buttons)
        )
    )


async def _roles_changed(services: Services, member: StaffMember, before: frozenset[Role]) -> str:
    """What a role change brings besides the roles: a new section head gets the cards of the
    requests waiting for a decision; an escort no longer one leaves the waiting visitors to
    the other escorts, and the admin is told who is inside with them (returned)."""
    if Role.APPROVER in member.roles - before:
        await recipients.owed_cards(services, member)
    if Role.ESCORT in before - member.roles:
        return await _escort_gone(services, member)
    return ""


async def _escort_gone(services: Services, member: StaffMember) -> str:
    """The admin's note when an escort leaves with visitors they let in still inside."""
    inside = await duty.escort_gone(services, member.user_id)
    if not inside:
        return ""
    return staff_texts.escort_left_inside(member.name, inside, services.config.timezone)


async def _watch_grant(
    services: Services,
    admin: StaffMember,
    user_id: int,
    name: str,
    before: frozenset[Role],
    after: frozenset[Role],
) -> None:
    """A grant that opens a self-approval path (policy.opens_self_approval) takes effect,
    and every approver and every other admin is told at once; audited either way. (A
    deployment often has one admin, so a second admin's confirmation could never come.)"""
    own = user_id == admin.user_id
    if not opens_self_approval(before, after, own=own):
        return
    text = staff_texts.self_approval_alert(admin.name, name, after, own)
    told = {m.user_id: Role.APPROVER for m in services.with_role(Role.APPROVER)}
    for other in services.with_role(Role.ADMIN):
        told.setdefault(other.user_id, Role.ADMIN)
    told.pop(admin.user_id, None)  # the admin who made the change knows
    now = services.now()
    stamp = f"{now.timestamp():.6f}:{user_id}"
    messages = [
        OutboxItem(
            f"self_approval:{stamp}:{chat}", "text", chat, payload={"text": text}, for_role=role
        )
        for chat, role in sorted(told.items())
    ]
    detail = f"{user_id}:{mask_of(after)}" + (":own" if own else "")
    await services.storage.audit.record(
        now, admin.user_id, "self_approval_path", detail=detail, messages=messages
    )
    services.delivery.kick()


async def remove(update: Update, context: BotContext) -> None:
    """Hapus: the person is a stranger from the next update on."""
    query = update.callback_query
    assert query is not None
    admin = _admin(update, context)
    if admin is None:
        answer_tap(query, common_texts.ONLY_ADMIN, show_alert=True)
        return
    tap = callbacks.parse_as(query.data, StaffTap)
    if tap is None:
        answer_tap(query, common_texts.STALE_BUTTON, show_alert=True)
        return
    services = context.services
    member = services.member(tap.user_id)
    if member is None:
        answer_tap(query, staff_texts.STAFF_GONE, show_alert=True)
        return
    problem = handover.change_problem(services, admin, member, None)
    if problem:
        answer_tap(query, problem, show_alert=True)
        return
    visits = await handover.open_requests(services, member, None)
    if visits:  # an officer leaving: their open requests first
        answer_tap(query)
        await handover.ask(query, services, member, None, visits)
        return
    await services.storage.staff.deactivate(member.user_id, admin.user_id, services.now())
    await services.refresh_staff()
    await set_commands_for(services, context.bot, member.user_id)
    drafts.recheck_soon(context)  # their unfinished form goes with them
    note = await _escort_gone(services, member) if member.has(Role.ESCORT) else ""
    answer_tap(query)
    await unless_unchanged(query.edit_message_text(staff_texts.removed(member.name, note)))


async def invite(update: Update, context: BotContext) -> None:
    """/undang: choose the new person's roles first."""
    assert update.effective_message is not None
    if _admin(update, context) is None:
        await update.effective_message.reply_text(common_texts.ONLY_ADMIN)
        return
    await update.effective_message.reply_text(
        staff_texts.INVITE_CHOOSE, reply_markup=_invite_keys(frozenset())
    )


def _invite_keys(roles: frozenset[Role]) -> InlineKeyboardMarkup:
    rows = _role_buttons(roles, lambda chosen: InviteRolesTap(callbacks.INVITE_ROLE, chosen))
    rows.append([_button(staff_texts.BTN_MAKE_LINK, InviteRolesTap(callbacks.INVITE_MAKE, roles))])
    return InlineKeyboardMarkup(rows)


async def invite_roles(update: Update, context: BotContext) -> None:
    """A role toggled on the invitation, or the link made for the chosen roles."""
    query = update.callback_query
    assert query is not None
    admin = _admin(update, context)
    if admin is None:
        answer_tap(query, common_texts.ONLY_ADMIN, show_alert=True)
        return
    tap = callbacks.parse_as(query.data, InviteRolesTap)
    if tap is None:
        answer_tap(query, common_texts.STALE_BUTTON, show_alert=True)
        return
    roles = tap.roles
    if tap.action == callbacks.INVITE_ROLE:
        answer_tap(query)
        await unless_unchanged(query.edit_message_reply_markup(_invite_keys(roles)))
        return
    if not roles:
        answer_tap(query, staff_texts.INVITE_NO_ROLE, show_alert=True)
        return
    answer_tap(query)
    if not await claim(query):
        return  # a double tap: the first one made the link
    services = context.services
    token, now = new_invite_token(), services.now()
    until = now + INVITE_VALID
    token_hash = lookup_hash(services.config.signing_secret, token, "invite")
    await services.storage.staff.create_invitation(token_hash, roles, admin.user_id, now, until)
    link = deep_link(services.bot_username, token)
    await query.edit_message_text(
        staff_texts.invite_link(link, roles, until, services.config.timezone)
    )


async def open_invitation(update: Update, context: BotContext) -> None:
    """/start inv_...: the invited person claims the link; the admin is asked to confirm."""
    user, message = update.effective_user, update.effective_message
    assert user is not None and message is not None and context.args
    services = context.services
    if services.member(user.id) is not None:
        await message.reply_text(staff_texts.INVITE_ALREADY_STAFF)
        return
    name = user.full_name.strip() or str(user.id)
    token_hash = lookup_hash(services.config.signing_secret, context.args[0], "invite")
    invitation = await services.storage.staff.claim_invitation(
        token_hash, user.id, name, services.now()
    )
    if invitation is None:
        await message.reply_text(staff_texts.INVITE_INVALID)
        return
    await message.reply_text(staff_texts.INVITE_WAIT)
    buttons = [
        [
            _button(staff_texts.BTN_CONFIRM, InvitationTap(callbacks.INVITE_OK, invitation.id)),
            _button(staff_texts.BTN_DECLINE, InvitationTap(callbacks.INVITE_NO, invitation.id)),
        ]
    ]
    await context.bot.send_message(
        invitation.created_by,
        staff_texts.invite_claimed(name, user.id, invitation.roles),
        reply_markup=InlineKeyboardMarkup(buttons),
    )


async def decide_invitation(update: Update, context: BotContext) -> None:
    """The admin's one tap: the new person's menu and welcome follow at once."""
    query = update.callback_query
    assert query is not None
    admin = _admin(update, context)
    if admin is None:
        answer_tap(query, common_texts.ONLY_ADMIN, show_alert=True)
        return
    tap = callbacks.parse_as(query.data, InvitationTap)
    if tap is None:
        answer_tap(query, common_texts.STALE_BUTTON, show_alert=True)
        return
    services = context.services
    accept = tap.accept
    invitation = await services.storage.staff.decide_invitation(
        tap.invitation_id, admin.user_id, accept, services.now()
    )
    if invitation is None or invitation.claimed_by is None:
        answer_tap(query, staff_texts.STAFF_GONE, show_alert=True)
        await unless_unchanged(query.edit_message_reply_markup(None))
        return
    answer_tap(query)
    name = invitation.claimed_name or str(invitation.claimed_by)
    if not accept:
        await query.edit_message_text(staff_texts.invite_declined(name))
        await context.bot.send_message(
            invitation.claimed_by, staff_texts.INVITE_DECLINED_TO_PERSON
        )
        return
    await services.refresh_staff()
    await set_commands_for(services, context.bot, invitation.claimed_by)
    await _watch_grant(services, admin, invitation.claimed_by, name, frozenset(), invitation.roles)
    joined = services.member(invitation.claimed_by)
    if joined is not None:  # a new section head: the cards of the requests waiting
        await recipients.owed_cards(services, joined)
    await query.edit_message_text(staff_texts.invite_accepted(name, invitation.roles))
    await context.bot.send_message(
        invitation.claimed_by, common_texts.welcome(name, invitation.roles)
    )


async def delegate(update: Update, context: BotContext) -> None:
    """/delegasi: an approver names who decides on their behalf for a while."""
    assert update.effective_message is not None and update.effective_user is not None
    services = context.services
    me = services.member(update.effective_user.id)
    if not may(me, Act.DELEGATE):
        await update.effective_message.reply_text(common_texts.ONLY_APPROVER)
        return
    # Only another approver may stand in (policy.may_stand_in): four eyes holds for delegates.
    others = [m for m in services.staff_members() if m.user_id != me.user_id and may_stand_in(m)]
    if not others:
        await update.effective_message.reply_text(staff_texts.DELEGATE_NOBODY)
        return
    buttons = [[_button(m.name, StaffTap(callbacks.DELEGATE, m.user_id))] for m in others]
    await update.effective_message.reply_text(
        staff_texts.DELEGATE_CHOOSE, reply_markup=InlineKeyboardMarkup(buttons)
    )


async def delegate_period(update: Update, context: BotContext) -> None:
    """A delegate chosen: ask for how long; a period chosen: the delegation starts now."""
    query = update.callback_query
    assert query is not None
    services = context.services
    me = services.member(query.from_user.id)
    if not may(me, Act.DELEGATE):
        answer_tap(query, common_texts.ONLY_APPROVER, show_alert=True)
        return
    tap = callbacks.parse(query.data)
    if not isinstance(tap, StaffTap | DelegateForTap):
        answer_tap(query, common_texts.STALE_BUTTON, show_alert=True)
        return
    delegate = services.member(tap.user_id)
    if delegate is None or delegate.user_id == me.user_id:
        answer_tap(query, staff_texts.STAFF_GONE, show_alert=True)
        return
    if not may_stand_in(delegate):
        # Never offered (a forged tap, or the person lost the role since the list was shown).
        await services.storage.audit.record(
            services.now(), me.user_id, "delegation_refused", detail=str(delegate.user_id)
        )
        answer_tap(query, staff_texts.DELEGATE_ONLY_APPROVERS, show_alert=True)
        return
    answer_tap(query)
    if not isinstance(tap, DelegateForTap):
        buttons = [
            [_button(label, DelegateForTap(delegate.user_id, days))]
            for days, label in PERIOD_DAYS.items()
        ]
        await unless_unchanged(
            query.edit_message_text(
                staff_texts.delegate_period(delegate.name),
                reply_markup=InlineKeyboardMarkup(buttons),
            )
        )
        return
    if not await claim(query):
        return  # a double tap: the first one started the delegation
    now, tz = services.now(), services.config.timezone
    # "Today" ends at local midnight; "3 days" at midnight after the third day, and so on.
    local = now.astimezone(tz)
    midnight = datetime.combine(local.date(), time(), tzinfo=tz) + timedelta(days=tap.days)
    until = midnight.astimezone(now.tzinfo)
    await services.storage.staff.add_delegation(me.user_id, delegate.user_id, now, until, now)
    await services.refresh_staff()
    await query.edit_message_text(staff_texts.delegated(delegate.name, until, tz))
    await context.bot.send_message(
        delegate.user_id, staff_texts.delegated_to_you(me.name, until, tz)
    )


PERIOD_DAYS = {days: staff_texts.period_button(days) for days in DELEGATION_DAYS}


def build() -> list[Handler]:
    """Registered before scan.build(): an invitation payload must never reach the badge scan."""
    return [
        CommandHandler("start", open_invitation, filters=filters.Regex(START_RE), has_args=True),
        CommandHandler("staf", staff_list),
        CommandHandler("undang", invite),
        CommandHandler("delegasi", delegate),
        CallbackQueryHandler(delegate_period, pattern=callbacks.pattern(callbacks.DELEGATE)),
        CallbackQueryHandler(delegate_period, pattern=callbacks.pattern(callbacks.DELEGATE_FOR)),
        CallbackQueryHandler(staff_member, pattern=callbacks.pattern(callbacks.STAFF_VIEW)),
        CallbackQueryHandler(staff_member, pattern=callbacks.pattern(callbacks.STAFF_ROLE)),
        CallbackQueryHandler(remove, pattern=callbacks.pattern(callbacks.STAFF_REMOVE)),
        CallbackQueryHandler(invite_roles, pattern=callbacks.pattern(callbacks.INVITE_ROLE)),
        CallbackQueryHandler(invite_roles, pattern=callbacks.pattern(callbacks.INVITE_MAKE)),
        CallbackQueryHandler(decide_invitation, pattern=callbacks.pattern(callbacks.INVITE_OK)),
        CallbackQueryHandler(decide_invitation, pattern=callbacks.pattern(callbacks.INVITE_NO)),
    ]
