"""The escorts' duty roster (/piket): going on and off duty, and what the escort reads."""

from __future__ import annotations

from datetime import datetime

from bot.app.services import Services
from bot.core.callbacks import OPEN_VISIT, VisitTap
from bot.core.duty import day_end
from bot.core.roles import Role, StaffMember
from bot.core.visits import Visit, VisitStatus
from bot.flows.delivery import VISITOR_WAITING
from bot.texts import door as door_texts
from bot.texts import duty as duty_texts
from storage.outbox import OutboxItem


async def toggle(services: Services, escort: StaffMember, on: bool) -> bool:
    """Go on duty (until the end of the local day) or off; False, nothing changed, when the
    escort is already so (a second tap, or a button from before)."""
    now = services.now()
    if on:
        until = day_end(now, services.config.timezone)
        changed = await services.storage.duty.start(escort.user_id, now, until)
    else:
        changed = await services.storage.duty.end(escort.user_id, now)
    if changed:
        await services.refresh_duty()
        if not on:
            await announce_waiting(services)
    return changed


async def announce_waiting(services: Services) -> int:
    """After an escort leaves duty (Selesai piket, the escort role taken, removed from the
    staff): the approved visitors still waiting at the desk are announced to whoever would be
    told now (``Services.escorts_to_tell``: the escorts still on duty, or every escort when
    nobody is), unless told before. Their notice went to the escorts on duty at the approval,
    perhaps only to the one who just left. The notice is the approval's own (same key, kind
    and words: bot/flows/workflow.py ``_escort_notices``), so whoever was told already is
    skipped by its key, and a withdrawn or lapsed visit withdraws it too (``waiting_voids``).
    The number of escorts newly told."""
    escorts = services.escorts_to_tell()
    if not escorts:
        return 0
    now, tz = services.now(), services.config.timezone
    messages: list[OutboxItem] = []
    for visit in await services.storage.visits.with_status(VisitStatus.APPROVED):
        if visit.valid_until is not None and visit.valid_until <= now:
            continue  # lapsing: the expiry sweep closes it
        told = set(await services.storage.outbox.chats_keyed(f"{VISITOR_WAITING}:{visit.id}:"))
        if not (new := [e for e in escorts if e.user_id not in told]):
            continue
        text = door_texts.visitor_waiting(visit, services.name_of(visit.decided_by), tz)
        button = [door_texts.BTN_OPEN_VISIT, VisitTap(OPEN_VISIT, visit.id).data]
        messages += [
            OutboxItem(
                f"{VISITOR_WAITING}:{visit.id}:{e.user_id}",
                "text",
                e.user_id,
                visit.id,
                payload={"text": text, "button": button},
                for_role=Role.ESCORT,
            )
            for e in new
        ]
    if messages:
        await services.storage.outbox.queue(messages, now)
        services.delivery.kick()
    return len(messages)


async def escort_gone(services: Services, user_id: int) -> list[Visit]:
    """After an admin removes an escort or takes the role away (/staf): the visitors waiting
    at the desk are announced anew if they were told only to them (``announce_waiting``), and
    the visits still inside that they let in are returned, for the admin to see that someone
    else accompanies them (their overstay alerts go to the other escorts:
    bot/flows/deadlines.py). Called after ``Services.refresh_staff``."""
    await announce_waiting(services)
    inside = await services.storage.visits.with_status(VisitStatus.INSIDE)
    return [v for v in inside if v.entry_escort_id == user_id]


def status(services: Services, escort: StaffMember) -> tuple[str, bool]:
    """The escort's /piket text, and whether they are on duty (which button goes under it)."""
    own = services.shift_of(escort.user_id)
    others: list[tuple[str, datetime]] = []
    for member in services.on_duty():
        shift = services.shift_of(member.user_id)
        if member.user_id != escort.user_id and shift is not None:
            others.append((member.name, shift.started_at))
    return duty_texts.status(own, others, services.config.timezone), own is not None
