"""At send time: does the recipient still hold the role the message was queued for?

A message is queued for a role (the officer's badge, an approver's card, an escort's
notice: ``OutboxItem.for_role``). Between queuing and sending, an admin may remove the
person or take the role away; what the role entitled them to must not reach them then. The
message is withheld (audited, never silently dropped), and what it was for goes on:

- for the officer of a visit (the badge, the decision, entry and exit notices): to the
  officer the visit belongs to now, when an admin moved it to another officer; otherwise
  every admin is told that a message for that visit was held back;
- for approvers, escorts and admins: everyone else holding the role had a copy of their
  own, so nothing more is needed.

Messages queued before this check (no role recorded) are sent as before.

The other way round, a role granted: a section head named while requests wait (in /staf,
or by an invitation) gets the card of each at once (``owed_cards``), as if they had held
the role when it was sent; the decision reminder would otherwise send them to a card they
never got.
"""

from __future__ import annotations

from bot.app.services import Services
from bot.core.policy import Act, may
from bot.core.roles import Role, StaffMember
from bot.core.visits import VisitStatus
from bot.texts import staff as staff_texts
from storage.outbox import OutboxItem, QueuedMessage


async def still_entitled(services: Services, item: QueuedMessage) -> bool:
    """True when the item may go out; else it is withheld (and replaced) here."""
    role = item.for_role
    member = services.member(item.chat_id)
    if role is None or (member is not None and member.has(role)):
        return True
    purpose = item.key.split(":", 1)[0]
    detail = f"{purpose}:{item.chat_id}:{role.value}"
    replacements = await _replacements(services, item, role, purpose)
    await services.storage.audit.withhold(
        services.now(), item.id, item.visit_id, detail, replacements
    )
    if replacements:
        services.delivery.kick()
    return False


async def _replacements(
    services: Services, item: QueuedMessage, role: Role, purpose: str
) -> list[OutboxItem]:
    if role is not Role.OFFICER or item.visit_id is None:
        return []
    visit = await services.storage.visits.get(item.visit_id)
    if visit is None:
        return []
    now_officer = services.member(visit.officer_id)
    moved = visit.officer_id != item.chat_id
    if moved and may(now_officer, Act.REGISTER):  # still an officer, who may hold it
        return [
            OutboxItem(
                f"{purpose}:{item.visit_id}:{visit.officer_id}",
                item.kind,
                visit.officer_id,
                item.visit_id,
                item.payload,
                item.blob,
                Role.OFFICER,
            )
        ]
    text = staff_texts.withheld_notice(services.name_of(item.chat_id), visit.reference)
    return [
        OutboxItem(
            f"withheld:{item.visit_id}:{purpose}:{admin.user_id}",
            "text",
            admin.user_id,
            item.visit_id,
            {"text": text},
            for_role=Role.ADMIN,
        )
        for admin in services.with_role(Role.ADMIN)
    ]


async def owed_cards(services: Services, member: StaffMember) -> int:
    """Queue, for a member just made a section head, the card of every request waiting for a
    decision, as ``workflow.submit`` queued it for the others (a backup approver: only of the
    requests already escalated to the backups). The key is the submit card's, so nobody gets
    a card twice. The number of cards queued, or already queued before."""
    if not member.has(Role.APPROVER):
        return 0
    pending = await services.storage.visits.with_status(VisitStatus.PENDING)
    if member.user_id in services.config.backup_approvers:
        marks = await services.storage.deadlines.marks(VisitStatus.PENDING.value)
        pending = [v for v in pending if (m := marks.get(v.id)) is not None and m.escalated_at]
    cards = [
        OutboxItem(
            f"card:{visit.id}:{member.user_id}",
            "card",
            member.user_id,
            visit.id,
            for_role=Role.APPROVER,
        )
        for visit in pending
    ]
    if cards:
        await services.storage.outbox.queue(cards, services.now())
        services.delivery.kick()
    return len(cards)
