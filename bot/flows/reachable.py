"""Someone Telegram would not deliver to can be reached again: what they missed is sent.

bot/flows/undeliverable.py tells the officer and the admins, in words they can act on, that
a card or a badge did not reach someone who blocked the bot or never opened it ("minta dia
menekan Mulai Ulang"). When that person does (handlers/access.py sees the unblock, and
handlers/opened.py the first update from someone who never wrote), this sends what still
needs them.
"""

from __future__ import annotations

import logging

from bot.app.services import Services
from bot.core.roles import Role
from bot.core.visits import VisitStatus
from bot.flows import workflow
from storage.outbox import OutboxItem

log = logging.getLogger(__name__)


async def returned(services: Services, user_id: int) -> int:
    """Someone Telegram would not deliver to is reachable again: they pressed Restart after
    blocking the bot, or opened it for the first time. What they were told to do that for
    arrives now, if it still needs them: the approval card of each request still waiting
    for a decision, and the badge of each approved visit of theirs that nobody has entered
    on (issued anew: the first image never left, see ``workflow.reissue_badge``). Notices
    about what has moved on since are not sent again. Returns how many were sent again."""
    member = services.member(user_id)
    if member is None:
        return 0
    done = 0
    seen: set[int] = set()
    cards: list[OutboxItem] = []
    now = services.now()
    for key, kind, visit_id in await services.storage.outbox.failed_to(user_id):
        if visit_id in seen:
            continue
        visit = await services.storage.visits.get(visit_id)
        if visit is None:
            continue
        purpose = key.split(":", 1)[0]
        if await services.storage.outbox.reached(visit_id, user_id, purpose):
            continue  # sent again already (an earlier return), or on its way
        if kind == "card" and member.has(Role.APPROVER) and visit.status == VisitStatus.PENDING:
            seen.add(visit_id)
            cards.append(
                OutboxItem(
                    f"card:{visit_id}:{user_id}:{now.timestamp():.6f}",
                    "card",
                    user_id,
                    visit_id=visit_id,
                    for_role=Role.APPROVER,
                )
            )
        elif (
            purpose == "badge_png"
            and member.has(Role.OFFICER)
            and visit.status == VisitStatus.APPROVED
            and visit.desk_officer == user_id
        ):
            seen.add(visit_id)
            if await services.storage.outbox.reached(visit_id, user_id, "badge_pdf"):
                continue  # the PDF got through (perhaps printed): its token must keep working
            done += await workflow.reissue_badge(services, visit)
    if cards:
        await services.storage.outbox.queue(cards, now)
        services.delivery.kick()
    if done or cards:
        log.info(
            "chat %s reachable again: %d card(s), %d badge(s) sent again",
            user_id,
            len(cards),
            done,
        )
    return done + len(cards)


async def handed_over(services: Services, visit_id: int, from_id: int) -> bool:
    """A visit just moved from a departing officer to another (handlers/handover.py): its
    badge, if Telegram refused it to the departing officer for good (so nobody holds it),
    is issued anew to the new one. A badge still on its way moved with the visit."""
    visit = await services.storage.visits.get(visit_id)
    if visit is None or visit.status != VisitStatus.APPROVED or visit.entered_at is not None:
        return False
    outbox = services.storage.outbox
    failed = any(
        kind == "photo" and key.split(":", 1)[0] == "badge_png" and failed_visit == visit_id
        for key, kind, failed_visit in await outbox.failed_to(from_id)
    )
    if not failed:
        return False
    for chat in {from_id, visit.desk_officer}:
        if await outbox.reached(visit_id, chat, "badge_png") or await outbox.reached(
            visit_id, chat, "badge_pdf"
        ):
            return False  # someone has it (or it is on its way): its token keeps working
    return await workflow.reissue_badge(services, visit)
