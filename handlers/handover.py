"""A departing officer's open requests: moved to another officer, or cancelled, first.

When an admin removes an officer (/staf, Hapus) or takes the officer role away, requests
that officer registered and that still need one (waiting for a decision, or approved and not
yet used) would otherwise send their badge, PDF and manual code to someone who no longer
works the desk. The admin is asked first: move them to another officer (its notices and
badge go there from then on), or cancel them (every approver's card says so). Then the
change the admin asked for is made. Visitors already inside stay as they are: the escort
checks them out. Everything is audited.
"""

from __future__ import annotations

from telegram import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import CallbackQueryHandler

from bot.app import drafts
from bot.app.context import BotContext, Handler
from bot.app.services import Services
from bot.core import callbacks
from bot.core.callbacks import HandoverTap
from bot.core.policy import Act, fixed_roles, may
from bot.core.roles import Role, StaffMember
from bot.core.visits import Visit
from bot.flows import reachable, workflow
from bot.texts import common as common_texts
from bot.texts import staff as staff_texts
from handlers.edits import answer_tap
from handlers.start import set_commands_for
from storage.outbox import OutboxItem


def change_problem(
    services: Services, admin: StaffMember, member: StaffMember, keeps: frozenset[Role] | None
) -> str:
    """Why the admin may not make this change (remove: ``keeps`` None), or ""."""
    seeded = services.config.member(member.user_id)
    if keeps is None:
        if member.user_id == admin.user_id:
            return staff_texts.CANNOT_REMOVE_SELF
        return staff_texts.CANNOT_DROP_ADMIN if fixed_roles(seeded) else ""
    if not fixed_roles(seeded) <= keeps:
        return staff_texts.CANNOT_DROP_ADMIN
    return "" if keeps else staff_texts.NEED_ONE_ROLE


async def open_requests(
    services: Services, member: StaffMember, keeps: frozenset[Role] | None
) -> list[Visit]:
    """The requests to hand over before the change: none unless they stop being an officer."""
    if not member.has(Role.OFFICER) or (keeps is not None and Role.OFFICER in keeps):
        return []
    found = []
    for visit_id in await services.storage.staff.open_visits_of(member.user_id):
        visit = await services.storage.visits.get(visit_id)
        if visit is not None:
            found.append(visit)
    return found


async def ask(
    query: CallbackQuery,
    services: Services,
    member: StaffMember,
    keeps: frozenset[Role] | None,
    visits: list[Visit],
) -> None:
    """Show the admin where the open requests can go."""
    officers = [m for m in services.with_role(Role.OFFICER) if m.user_id != member.user_id]
    rows = [
        [_button(staff_texts.handover_to(o.name), HandoverTap(member.user_id, o.user_id, keeps))]
        for o in officers
    ]
    rows.append([_button(staff_texts.BTN_HANDOVER_CANCEL, HandoverTap(member.user_id, 0, keeps))])
    text = staff_texts.handover_prompt(
        member.name, [v.reference for v in visits], removing=keeps is None
    )
    await query.edit_message_text(text, reply_markup=InlineKeyboardMarkup(rows))


def _button(label: str, tap: callbacks.Tap) -> InlineKeyboardButton:
    return InlineKeyboardButton(label, callback_data=tap.data)


async def handover(update: Update, context: BotContext) -> None:
    """The admin's choice: move or cancel every open request, then make the change."""
    query = update.callback_query
    assert query is not None
    services = context.services
    admin = services.member(query.from_user.id)
    if not may(admin, Act.ADMINISTER_STAFF):
        answer_tap(query, common_texts.ONLY_ADMIN, show_alert=True)
        return
    tap = callbacks.parse_as(query.data, HandoverTap)
    member = services.member(tap.from_id) if tap else None
    successor = services.member(tap.to_id) if tap and tap.to_id else None
    if tap is None or member is None or (tap.to_id and successor is None):
        answer_tap(
            query, staff_texts.STAFF_GONE if tap else common_texts.STALE_BUTTON, show_alert=True
        )
        return
    if successor is not None and not may(successor, Act.REGISTER):  # may own requests
        answer_tap(query, staff_texts.HANDOVER_NOT_OFFICER, show_alert=True)
        return
    problem = change_problem(services, admin, member, tap.keeps)
    if problem:
        answer_tap(query, problem, show_alert=True)
        return
    answer_tap(query)
    visits = await open_requests(services, member, tap.keeps)
    done = await _hand_over(services, admin, member, successor, visits)
    await _apply_change(services, context, admin, member, tap.keeps)
    await query.edit_message_text(
        staff_texts.handed_over(
            member.name, done, successor.name if successor else None, removed=tap.keeps is None
        )
    )


async def _hand_over(
    services: Services,
    admin: StaffMember,
    member: StaffMember,
    successor: StaffMember | None,
    visits: list[Visit],
) -> list[str]:
    """Move (or cancel) each open request; the references it was done to."""
    now, done = services.now(), []
    for visit in visits:
        if successor is not None:
            moved = await services.storage.staff.reassign_visit(
                visit.id, member.user_id, successor.user_id, admin.user_id, now
            )
            if moved:  # a badge the departing officer never got goes to the new one
                await reachable.handed_over(services, visit.id, member.user_id)
        else:
            reason = staff_texts.handover_cancel_reason(member.name)
            result = await workflow.cancel(services, visit.id, admin, reason)
            moved = result.outcome == workflow.Outcome.DONE
        if moved:
            done.append(visit.reference)
    notices = []
    if successor is not None and done:
        text = staff_texts.handed_to_you(member.name, done)
        key = f"handover:{member.user_id}:{now.timestamp():.6f}:{successor.user_id}"
        notices.append(
            OutboxItem(
                key, "text", successor.user_id, payload={"text": text}, for_role=Role.OFFICER
            )
        )
    to = str(successor.user_id) if successor else "cancelled"
    await services.storage.audit.record(
        now,
        admin.user_id,
        "officer_handover",
        detail=f"{member.user_id}->{to}:{len(done)}",
        messages=notices,
    )
    services.delivery.look_again()  # the moved badges and notices are new lanes
    return done


async def _apply_change(
    services: Services,
    context: BotContext,
    admin: StaffMember,
    member: StaffMember,
    keeps: frozenset[Role] | None,
) -> None:
    """What the admin asked for in the first place: the removal, or the new role set."""
    now = services.now()
    if keeps is None:
        await services.storage.staff.deactivate(member.user_id, admin.user_id, now)
    else:
        await services.storage.staff.set_roles(member.user_id, keeps, admin.user_id, now)
    await services.refresh_staff()
    await set_commands_for(services, context.bot, member.user_id)
    drafts.recheck_soon(context)  # a form they may no longer fill in goes


def build() -> list[Handler]:
    return [CallbackQueryHandler(handover, pattern=callbacks.pattern(callbacks.HANDOVER))]
