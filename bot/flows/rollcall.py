"""The evacuation roll call (issue 14, part 5): start it, mark visitors safe, keep every
staff member's copy of the message up to date.

Everything goes through the outbox, in the transaction that records the step: one
``rollcall`` message per staff member when it starts, and one ``rollcall_edit`` per staff
member after each mark. Both carry only the roll call's id and are drawn when sent, from
the roll call as it is then, so a message that waited out a slow Telegram shows the latest
state, and an edit with a newer one queued behind it in the same chat is skipped (edits
coalesce: only the newest goes out). No confirmation is asked before it starts: in an
evacuation every second counts, the command is typed deliberately, and a roll call started
by mistake is recorded with who started it and closes as soon as its visitors are marked.
"""

from __future__ import annotations

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Message

from bot.app.services import Services
from bot.core.callbacks import RollCallTap
from bot.core.roles import StaffMember
from bot.core.rollcall import MarkOutcome, RollCall
from bot.core.visits import Visit
from bot.texts import rollcall as rollcall_texts
from storage.outbox import OutboxItem, QueuedMessage

SEND, EDIT = "rollcall", "rollcall_edit"  # outbox kinds (rendered in Delivery._send)


def _sends(services: Services, roll_id: int, _marked: int) -> list[OutboxItem]:
    return [
        OutboxItem(f"{SEND}:{roll_id}:{m.user_id}", SEND, m.user_id, payload={"roll": roll_id})
        for m in services.staff_members()
    ]


def _edits(services: Services, roll_id: int, marked: int) -> list[OutboxItem]:
    return [
        OutboxItem(
            f"{EDIT}:{roll_id}:{marked}:{m.user_id}", EDIT, m.user_id, payload={"roll": roll_id}
        )
        for m in services.staff_members()
    ]


async def start(services: Services, member: StaffMember) -> tuple[RollCall, bool]:
    """Begin a roll call of everyone inside now; (the open one, False) if one is running."""
    result = await services.storage.rollcalls.start(
        services.now(), member.user_id, lambda roll_id, marked: _sends(services, roll_id, marked)
    )
    services.delivery.kick()
    return result


async def mark(
    services: Services, roll_id: int, visit_id: int, member: StaffMember
) -> tuple[MarkOutcome, RollCall | None]:
    """One visitor marked safe by ``member``; every staff member's copy is edited."""
    result = await services.storage.rollcalls.mark(
        roll_id,
        visit_id,
        member.user_id,
        services.now(),
        lambda rid, marked: _edits(services, rid, marked),
    )
    if result[0] in (MarkOutcome.MARKED, MarkOutcome.ENDED):
        services.delivery.kick()
    return result


async def left(services: Services, visit_id: int, escort: StaffMember) -> None:
    """KELUAR recorded while a roll call runs: the visitor walked out through the door with
    their escort, so they are marked safe by that escort (every copy is edited), instead of
    staying "belum aman" on a roll call nobody can close."""
    if not await services.storage.rollcalls.running():
        return
    roll = await services.storage.rollcalls.current()
    entry = roll.entry(visit_id) if roll is not None else None
    if roll is not None and entry is not None and not entry.safe:
        await mark(services, roll.id, visit_id, escort)


async def _drawn(services: Services, roll_id: int) -> tuple[str, InlineKeyboardMarkup | None]:
    roll = await services.storage.rollcalls.get(roll_id)
    if roll is None:
        raise ValueError(f"no roll call {roll_id}")
    visits: dict[int, Visit] = {}
    for entry in roll.entries:
        visit = await services.storage.visits.get(entry.visit_id)
        if visit is not None:
            visits[visit.id] = visit
    ids = {roll.started_by} | {e.escort_id or 0 for e in roll.entries}
    ids |= {e.marked_by or 0 for e in roll.entries}
    names = {i: services.name_of(i) for i in ids if i}
    text = rollcall_texts.message(roll, visits, names, services.config.timezone)
    rows = [
        [
            InlineKeyboardButton(
                rollcall_texts.safe_button(visits.get(e.visit_id)),
                callback_data=RollCallTap(roll.id, e.visit_id).data,
            )
        ]
        for e in roll.by_escort()
        if not e.safe
    ]
    markup = InlineKeyboardMarkup(rows) if rows and roll.open else None
    return text, markup


async def send(services: Services, bot: Bot, item: QueuedMessage) -> Message | None:
    """A staff member's copy of the roll call, drawn now. Someone no longer on the staff
    gets nothing (the message names who is inside)."""
    if services.member(item.chat_id) is None:
        return None
    text, markup = await _drawn(services, int(item.payload["roll"]))
    return await bot.send_message(item.chat_id, text, reply_markup=markup)


async def edit(services: Services, bot: Bot, item: QueuedMessage) -> Message | None:
    """Bring a delivered copy up to date; skipped when a newer edit for it waits behind."""
    roll_id = int(item.payload["roll"])
    outbox = services.storage.outbox
    if services.member(item.chat_id) is None or await outbox.newer_pending(
        item, f"{EDIT}:{roll_id}:"
    ):
        return None
    sent = await outbox.delivered_message(f"{SEND}:{roll_id}:{item.chat_id}")
    if sent is None:
        return None  # never delivered: nothing to edit (a copy sent later is drawn then)
    text, markup = await _drawn(services, roll_id)
    await bot.edit_message_text(text, item.chat_id, sent, reply_markup=markup)
    return None
