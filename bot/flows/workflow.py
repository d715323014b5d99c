"""The SOP's steps as application services: storage transitions plus who must be told.

Handlers parse updates and call these; these never read an Update. Every message a
step causes is queued in the outbox in the same transaction as the step, then sent
by bot.flows.delivery, so a crash or a flaky Telegram loses nothing.
"""

from __future__ import annotations

import asyncio
import enum
import logging
from dataclasses import dataclass, replace
from datetime import timedelta

from bot import texts
from bot.app.services import Services
from bot.core.badge import BadgeCard, render_badge_pdf, render_badge_png
from bot.core.roles import Role, StaffMember
from bot.core.tokens import (
    deep_link,
    format_code,
    lookup_hash,
    new_credentials,
    token_matches_visit,
)
from bot.core.visits import Visit, VisitDraft, VisitStatus, badge_valid_until
from storage.outbox import OutboxItem

log = logging.getLogger(__name__)


class Outcome(enum.Enum):
    DONE = "done"
    NOT_ALLOWED = "not_allowed"  # the visit is not in the state the action needs
    NOT_FOUND = "not_found"


@dataclass(frozen=True)
class Result:
    outcome: Outcome
    visit: Visit | None = None


def _card_updates(services: Services) -> list[OutboxItem]:
    """Every approver's card shows the decision (sent after the card itself, per chat)."""
    return [
        OutboxItem(f"card_update:{{visit}}:{a.user_id}", "card_update", a.user_id)
        for a in services.with_role(Role.APPROVER)
    ]


def _text(key: str, chat_id: int, text: str) -> OutboxItem:
    return OutboxItem(f"{key}:{{visit}}:{chat_id}", "text", chat_id, payload={"text": text})


async def submit(services: Services, draft: VisitDraft, officer: StaffMember) -> tuple[Visit, int]:
    """SOP step 3: store the request and queue a card for every approver, atomically.

    Backup approvers get it only on escalation (bot/flows/deadlines.py)."""
    backups = services.config.backup_approvers
    approvers = [a for a in services.with_role(Role.APPROVER) if a.user_id not in backups]
    cards = [OutboxItem(f"card:{{visit}}:{a.user_id}", "card", a.user_id) for a in approvers]
    visit = await services.storage.submit_visit(
        draft, officer.user_id, services.now(), messages=cards
    )
    services.delivery.kick()
    return visit, len(cards)


async def approve(services: Services, visit_id: int, approver: StaffMember) -> Result:
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
    decided = replace(
        visit,
        status=VisitStatus.APPROVED,
        decided_at=now,
        decided_by=approver.user_id,
        valid_until=valid_until,
    )
    tz = services.config.timezone
    messages = [
        *_card_updates(services),
        _text("approved", visit.officer_id, texts.officer_approved(decided, approver.name, tz)),
        *await _badge_items(services, decided, creds.token, creds.code),
    ]
    won = await services.storage.approve(
        visit_id,
        approver.user_id,
        now,
        valid_until,
        lookup_hash(secret, creds.token, "token"),
        lookup_hash(secret, creds.code, "code"),
        messages=messages,
    )
    services.delivery.kick()
    visit = await services.storage.get_visit(visit_id)
    assert visit is not None
    return Result(Outcome.DONE if won else Outcome.NOT_ALLOWED, visit)


async def deny(services: Services, visit_id: int, approver: StaffMember, reason: str) -> Result:
    """SOP step 4-5b: the visitor cannot enter; the officer is told why."""
    visit = await services.storage.get_visit(visit_id)
    if visit is None:
        return Result(Outcome.NOT_FOUND)
    now = services.now()
    decided = replace(
        visit,
        status=VisitStatus.DENIED,
        decided_at=now,
        decided_by=approver.user_id,
        deny_reason=reason,
    )
    messages = [
        *_card_updates(services),
        _text("denied", visit.officer_id, texts.officer_denied(decided, approver.name)),
    ]
    won = await services.storage.deny(visit_id, approver.user_id, now, reason, messages=messages)
    services.delivery.kick()
    visit = await services.storage.get_visit(visit_id)
    assert visit is not None
    return Result(Outcome.DONE if won else Outcome.NOT_ALLOWED, visit)


async def _badge_items(
    services: Services, visit: Visit, token: str, code: str
) -> list[OutboxItem]:
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
    caption = texts.badge_caption(visit, format_code(code), tz)
    officer = visit.officer_id
    return [
        OutboxItem(
            f"badge_png:{{visit}}:{officer}",
            "photo",
            officer,
            payload={"filename": f"{name}.png", "caption": caption},
            blob=png,
        ),
        OutboxItem(
            f"badge_pdf:{{visit}}:{officer}",
            "document",
            officer,
            payload={"filename": f"{name}.pdf"},
            blob=pdf,
        ),
    ]


class BadgeProblem(enum.Enum):
    UNKNOWN = "unknown"  # forged, mistyped, another deployment's or another visit's
    FINISHED = "finished"  # checked out: the badge is dead
    EXPIRED = "expired"


@dataclass(frozen=True)
class BadgeLookup:
    visit: Visit | None
    problem: BadgeProblem | None


async def find_badge(services: Services, *, token: str = "", code: str = "") -> BadgeLookup:
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
    visit = await _expire_if_due(services, visit)
    if visit.status == VisitStatus.EXPIRED:
        return BadgeLookup(visit, BadgeProblem.EXPIRED)
    if visit.status == VisitStatus.DONE:
        return BadgeLookup(visit, BadgeProblem.FINISHED)
    return BadgeLookup(visit, None)


CODE_ATTEMPTS = 5
CODE_WINDOW = timedelta(minutes=10)


async def code_attempts_exhausted(services: Services, member: StaffMember) -> bool:
    """Manual codes have 40 bits: a few wrong ones per person per window, then a pause."""
    since = services.now() - CODE_WINDOW
    wrong = await services.storage.count_events(
        member.user_id, "badge_unknown", since, detail="code"
    )
    return wrong >= CODE_ATTEMPTS


async def refuse_badge(
    services: Services, member: StaffMember, lookup: BadgeLookup, via: str
) -> None:
    """Audit a refused scan; a forged or foreign QR also alerts every approver."""
    problem = lookup.problem or BadgeProblem.UNKNOWN
    now = services.now()
    alerts: list[OutboxItem] = []
    if problem == BadgeProblem.UNKNOWN and via != "code":
        text = texts.forged_badge_alert(member.name, now, services.config.timezone)
        stamp = f"{now.timestamp():.6f}:{member.user_id}"
        alerts = [
            OutboxItem(f"forged:{stamp}:{a.user_id}", "text", a.user_id, payload={"text": text})
            for a in services.with_role(Role.APPROVER)
        ]
    visit_id = lookup.visit.id if lookup.visit else None
    await services.storage.record_event(
        now, member.user_id, f"badge_{problem.value}", visit_id, detail=via, messages=alerts
    )
    if alerts:
        services.delivery.kick()


async def enter(services: Services, visit_id: int, escort: StaffMember) -> Result:
    """SOP step 6: the escorted visit begins; the officer is told."""
    visit = await services.storage.get_visit(visit_id)
    if visit is None:
        return Result(Outcome.NOT_FOUND)
    visit = await _expire_if_due(services, visit)
    now = services.now()
    inside = replace(
        visit, status=VisitStatus.INSIDE, entered_at=now, entry_escort_id=escort.user_id
    )
    notice = texts.officer_entered(inside, escort.name, services.config.timezone)
    done = await services.storage.enter(
        visit_id, escort.user_id, now, messages=[_text("entered", visit.officer_id, notice)]
    )
    services.delivery.kick()
    visit = await services.storage.get_visit(visit_id)
    return Result(Outcome.DONE if done else Outcome.NOT_ALLOWED, visit)


async def exit_(services: Services, visit_id: int, escort: StaffMember) -> Result:
    """End of the SOP: the visitor leaves, the badge dies, the log entry closes."""
    visit = await services.storage.get_visit(visit_id)
    if visit is None:
        return Result(Outcome.NOT_FOUND)
    now = services.now()
    done_visit = replace(
        visit, status=VisitStatus.DONE, exited_at=now, exit_escort_id=escort.user_id
    )
    messages = []
    if visit.entered_at is not None:
        summary = texts.exit_summary(done_visit, escort.name, services.config.timezone)
        recipients = {
            visit.officer_id,
            *(a.user_id for a in services.with_role(Role.APPROVER)),
        }
        messages = [_text("exit_summary", chat_id, summary) for chat_id in sorted(recipients)]
    done = await services.storage.exit(visit_id, escort.user_id, now, messages=messages)
    services.delivery.kick()
    visit = await services.storage.get_visit(visit_id)
    return Result(Outcome.DONE if done else Outcome.NOT_ALLOWED, visit)


async def expire(services: Services, visit: Visit) -> bool:
    """An approved badge not used within its window dies; the officer is told."""
    notice = _text("expired", visit.officer_id, texts.badge_expired_notice(visit))
    done = await services.storage.expire(visit.id, services.now(), messages=[notice])
    services.delivery.kick()
    return done


async def expire_overdue(services: Services) -> int:
    """Sweep every approved visit whose window has closed (the deadline lives in SQLite)."""
    now = services.now()
    count = 0
    for visit in await services.storage.visits_with_status(VisitStatus.APPROVED):
        if visit.valid_until is not None and now >= visit.valid_until:
            count += await expire(services, visit)
    return count


async def _expire_if_due(services: Services, visit: Visit) -> Visit:
    """Expiry is checked on every use too, so a missed sweep never admits anyone."""
    due = visit.valid_until is not None and services.now() >= visit.valid_until
    if visit.status == VisitStatus.APPROVED and due:
        await expire(services, visit)
        return await services.storage.get_visit(visit.id) or visit
    return visit
