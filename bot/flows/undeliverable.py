"""A message Telegram will never deliver: who did not get it is told to the people who can fix it.

The outbox (bot/flows/delivery.py) marks an item failed when Telegram refuses it for good.
When the refusal is about the person (they never opened the bot, blocked it, or deleted their
account), the failure is marked together with a notice to the visit's officer and to the
admins, in words they can act on ("Budi belum pernah membuka bot: minta dia menekan Start").
A request whose cards reached no section head at all is escalated at once: the backup
approvers get the card, and the officer and the admins are told, instead of the request
waiting unseen until its time standard runs out (bot/flows/deadlines.py escalates then).

Notices go through the outbox like everything else. A notice that cannot be delivered is
marked failed and nothing more: a notice about a notice would never end.
"""

from __future__ import annotations

import enum
import logging

from bot.app.services import Services
from bot.core.roles import Role
from bot.core.visits import Visit, VisitStatus
from bot.texts import delivery as delivery_texts
from storage.outbox import FAILED, OutboxItem, QueuedMessage

log = logging.getLogger(__name__)

NOTICE = "undeliverable"  # the purpose (first part of the key) of the notices
UNREACHED = "unreached"  # no section head got the card: to the officer and the admins
UNREACHED_BACKUP = "unreached_backup"  # ... and to each backup, before the card
# Our own notices: when one fails, nobody is told (no loop).
_QUIET = frozenset({NOTICE, UNREACHED, UNREACHED_BACKUP})
# New messages; an edit of a message never delivered has nothing to report.
_NEW_MESSAGES = frozenset({"text", "photo", "document", "card", "rollcall", "watch_alert"})


class Reason(enum.Enum):
    NEVER_OPENED = "never_opened"
    BLOCKED = "blocked"
    DEACTIVATED = "deactivated"


# Telegram's words for a person it will not deliver to (telegram-bot-api, Client.cpp; PTB
# drops the "Bad Request: "/"Forbidden: " prefix and capitalises the rest).
_REASONS = (
    ("chat not found", Reason.NEVER_OPENED),
    ("bot can't initiate conversation", Reason.NEVER_OPENED),
    ("bot was blocked by the user", Reason.BLOCKED),
    ("user is deactivated", Reason.DEACTIVATED),
)


def unreachable(error: str) -> Reason | None:
    """Why Telegram will not deliver to this person, or None for any other refusal."""
    lowered = error.lower()
    return next((reason for words, reason in _REASONS if words in lowered), None)


def why(reason: Reason, name: str, bot_username: str) -> str:
    if reason is Reason.NEVER_OPENED:
        return delivery_texts.never_opened(name, bot_username)
    if reason is Reason.BLOCKED:
        return delivery_texts.blocked(name, bot_username)
    return delivery_texts.deactivated(name)


def _told(services: Services, visit: Visit | None, recipient: int) -> list[int]:
    """The visit's officer and every admin, except the person who could not be reached."""
    chats = [visit.officer_id] if visit is not None else []
    chats += [a.user_id for a in services.with_role(Role.ADMIN)]
    return [chat for chat in dict.fromkeys(chats) if chat != recipient]


async def failed(services: Services, item: QueuedMessage, error: str) -> None:
    """Mark ``item`` refused for good; if Telegram refused the person, say so at once."""
    store = services.storage.outbox
    reason = unreachable(error)
    purpose = item.key.split(":", 1)[0]
    if reason is None or purpose in _QUIET or item.kind not in _NEW_MESSAGES:
        await store.mark_failed(item.id, error, item.chat_id)
        return
    visit = await services.storage.visits.get(item.visit_id) if item.visit_id else None
    name = services.name_of(item.chat_id)
    text = delivery_texts.undelivered(
        purpose, visit, name, why(reason, name, services.bot_username)
    )
    notices = [
        OutboxItem(f"{NOTICE}:{item.id}:{chat}", "text", chat, item.visit_id, {"text": text})
        for chat in _told(services, visit, item.chat_id)
    ]
    if not await store.fail_and_tell(item.id, item.chat_id, error, services.now(), notices):
        return  # handed to someone else meanwhile: the item lives on for them
    log.warning(
        "outbox item %s (%s) cannot reach chat %s (%s); %d told",
        item.id,
        purpose,
        item.chat_id,
        reason.value,
        len(notices),
    )
    if item.kind == "card" and visit is not None:
        await _unless_someone_has_it(services, visit)
    services.delivery.kick()


async def _unless_someone_has_it(services: Services, visit: Visit) -> None:
    """Every section head's card refused: the backups decide now, and everyone is told."""
    if visit.status != VisitStatus.PENDING:
        return
    backup_ids = services.config.backup_approvers
    cards = await services.storage.outbox.card_states(visit.id)
    primary = [status for chat, status in cards.items() if chat not in backup_ids]
    if not primary or any(status != FAILED for status in primary):
        return  # someone has the card, or may still get it
    # Only while they still hold the approver role, as in the deadline job's escalation.
    backups = [m for m in services.with_role(Role.APPROVER) if m.user_id in backup_ids]
    messages: list[OutboxItem] = []
    for backup in backups:
        note = delivery_texts.backup_unreached(visit)
        messages.append(
            OutboxItem(
                f"{UNREACHED_BACKUP}:{{visit}}:{backup.user_id}",
                "text",
                backup.user_id,
                payload={"text": note},
            )
        )
        # The submit card's key, so a backup never gets the same card twice.
        messages.append(OutboxItem(f"card:{{visit}}:{backup.user_id}", "card", backup.user_id))
    text = delivery_texts.no_approver_reached(visit, [b.name for b in backups])
    for chat in _told(services, visit, recipient=0):
        messages.append(
            OutboxItem(f"{UNREACHED}:{{visit}}:{chat}", "text", chat, payload={"text": text})
        )
    # Marked as the deadline job's escalation, in the same transaction: it happens once.
    if await services.storage.deadlines.escalate(visit.id, services.now(), messages):
        log.warning("visit %s reached no approver; sent to %d backup(s)", visit.id, len(backups))
