"""The SOP's steps as application services: storage transitions plus who must be told.

Handlers parse updates and call these; these never read an Update. Every message a
step causes is queued in the outbox in the same transaction as the step, then sent
by bot.flows.delivery, so a crash or a flaky Telegram loses nothing.
"""

from __future__ import annotations

import asyncio
import enum
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.app.services import Services
from bot.core import visits as lifecycle
from bot.core.badge import BadgeCard, render_badge_pdf, render_badge_png
from bot.core.callbacks import OPEN_VISIT, VisitTap
from bot.core.roles import Role, StaffMember
from bot.core.tokens import (
    CODE_ATTEMPTS,
    CODE_ATTEMPTS_ALL,
    CODE_GUESS_ALERT,
    CODE_WINDOW,
    FORGED_ALERT_CAP,
    FORGED_ALERT_GAP,
    deep_link,
    format_code,
    lookup_hash,
    new_credentials,
    token_matches_visit,
)
from bot.core.visits import EquipmentCheck, Visit, VisitDraft, VisitStatus, badge_valid_until
from bot.texts import approval as approval_texts
from bot.texts import badge as badge_texts
from bot.texts import cancel as cancel_texts
from bot.texts import door as door_texts
from storage.outbox import OutboxItem
from storage.visits import BadgeHashes

log = logging.getLogger(__name__)


class Outcome(enum.Enum):
    DONE = "done"
    NOT_ALLOWED = "not_allowed"  # the visit is not in the state the action needs
    NOT_FOUND = "not_found"


@dataclass(frozen=True)
class Result:
    outcome: Outcome
    visit: Visit | None = None


def _card_updates(services: Services, purpose: str = "card_update") -> list[OutboxItem]:
    """Every approver's card shows the decision (sent after the card itself, per chat).

    ``purpose`` starts the idempotency key: a second change to a decided card (a cancel after
    the approval) needs a key of its own, or the queue takes it for the first one again."""
    return [
        OutboxItem(
            f"{purpose}:{{visit}}:{a.user_id}", "card_update", a.user_id, for_role=Role.APPROVER
        )
        for a in services.with_role(Role.APPROVER)
    ]


def _text(key: str, chat_id: int, text: str, role: Role = Role.OFFICER) -> OutboxItem:
    """A notice about the visit, for ``chat_id`` as ``role`` (mostly the visit's officer)."""
    return OutboxItem(
        f"{key}:{{visit}}:{chat_id}", "text", chat_id, payload={"text": text}, for_role=role
    )


def _escort_notices(services: Services, visit: Visit, approver: str) -> list[OutboxItem]:
    """Every escort learns that a visitor waits at the desk, with a button to open the visit."""
    text = door_texts.visitor_waiting(visit, approver, services.config.timezone)
    button = [door_texts.BTN_OPEN_VISIT, VisitTap(OPEN_VISIT, visit.id).data]
    return [
        OutboxItem(
            f"visitor_waiting:{{visit}}:{e.user_id}",
            "text",
            e.user_id,
            payload={"text": text, "button": button},
            for_role=Role.ESCORT,
        )
        for e in services.with_role(Role.ESCORT)
    ]


async def submit(services: Services, draft: VisitDraft, officer: StaffMember) -> tuple[Visit, int]:
    """SOP step 3: store the request and queue a card for every approver, atomically.

    Backup approvers get it only on escalation (bot/flows/deadlines.py)."""
    backups = services.config.backup_approvers
    approvers = [a for a in services.with_role(Role.APPROVER) if a.user_id not in backups]
    cards = [
        OutboxItem(f"card:{{visit}}:{a.user_id}", "card", a.user_id, for_role=Role.APPROVER)
        for a in approvers
    ]
    visit = await services.storage.visits.submit(
        draft, officer.user_id, services.now(), messages=cards
    )
    services.delivery.kick()
    return visit, len(cards)


async def _applied(
    services: Services,
    change: lifecycle.Change,
    messages: list[OutboxItem],
    badge: BadgeHashes | None = None,
    detail: str = "",
) -> Result:
    """Persist a transition; when another decision or scan won the race, say so with the
    visit as it now stands."""
    stored = await services.storage.visits.apply(change, messages, badge, detail)
    services.delivery.kick()
    if stored is not None:
        return Result(Outcome.DONE, stored)
    return Result(Outcome.NOT_ALLOWED, await services.storage.visits.get(change.before.id))


async def approve(
    services: Services,
    visit_id: int,
    approver: StaffMember,
    principal: StaffMember | None = None,
) -> Result:
    """SOP steps 4-5a: the first decision wins; the officer receives the badge.

    ``principal`` is the approver a delegate decides for; it is stored with the decision.
    """
    visit = await services.storage.visits.get(visit_id)
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
    change = lifecycle.approve(
        visit, approver.user_id, now, valid_until, principal.user_id if principal else None
    )
    decided = change.after
    messages = [
        *_card_updates(services),
        # The officer's "approved" notice is the badge photo's caption: one message, not two.
        *await _badge_items(
            services,
            decided,
            creds.token,
            creds.code,
            approval_texts.officer_approved(approver.name),
        ),
        *_escort_notices(services, decided, approver.name),
    ]
    badge = BadgeHashes(
        lookup_hash(secret, creds.token, "token"), lookup_hash(secret, creds.code, "code")
    )
    return await _applied(services, change, messages, badge)


async def deny(
    services: Services,
    visit_id: int,
    approver: StaffMember,
    reason: str,
    principal: StaffMember | None = None,
) -> Result:
    """SOP step 4-5b: the visitor cannot enter; the officer is told why."""
    visit = await services.storage.visits.get(visit_id)
    if visit is None:
        return Result(Outcome.NOT_FOUND)
    if visit.status != VisitStatus.PENDING:
        return Result(Outcome.NOT_ALLOWED, visit)
    change = lifecycle.deny(
        visit, approver.user_id, services.now(), reason, principal.user_id if principal else None
    )
    messages = [
        *_card_updates(services),
        _text(
            "denied", visit.officer_id, approval_texts.officer_denied(change.after, approver.name)
        ),
    ]
    return await _applied(services, change, messages)


async def open_requests(services: Services) -> list[Visit]:
    """What an officer may still withdraw, oldest first: waiting, or approved and unused.

    An approved badge whose window has passed expires here first (as at the door), so the
    list never offers one that is already dead."""
    found = []
    for visit in await services.storage.visits.with_status(
        VisitStatus.PENDING, VisitStatus.APPROVED
    ):
        visit = await _expire_if_due(services, visit)
        if lifecycle.allows(lifecycle.Action.CANCEL, visit.status):
            found.append(visit)
    return found


async def find_request(services: Services, typed: str) -> Visit | None:
    """The visit a typed reference (KRS-2026-00042) names, or None."""
    parsed = lifecycle.parse_reference(typed)
    if parsed is None:
        return None
    year, visit_id = parsed
    visit = await services.storage.visits.get(visit_id)
    if visit is None or visit.submitted_at.year != year:
        return None
    return await _expire_if_due(services, visit)


async def cancel(services: Services, visit_id: int, officer: StaffMember, reason: str) -> Result:
    """The officer withdraws a request not yet used: every approver's card shows it, a badge
    already issued dies and its photo says so, the registrant is told if someone else did it.

    One transaction (the transition, its audit event, the badge revoked, the messages); the
    escorts hear nothing, since a badge refused at the door explains itself."""
    visit = await services.storage.visits.get(visit_id)
    if visit is None:
        return Result(Outcome.NOT_FOUND)
    visit = await _expire_if_due(services, visit)
    if not lifecycle.allows(lifecycle.Action.CANCEL, visit.status):
        return Result(Outcome.NOT_ALLOWED, visit)
    change = lifecycle.cancel(visit, officer.user_id, services.now(), reason)
    messages = _card_updates(services, "card_cancelled")
    had_badge = visit.status == VisitStatus.APPROVED
    if had_badge:
        # The officer's badge photo and PDF are edited in place, rendered at send time.
        messages += [
            OutboxItem(
                f"{of}_void:{{visit}}:{visit.officer_id}",
                "badge_void",
                visit.officer_id,
                payload={"of": of},
                for_role=Role.OFFICER,
            )
            for of in BADGE_MESSAGES
        ]
    if visit.officer_id != officer.user_id:
        notice = cancel_texts.officer_told(change.after, officer.name, services.config.timezone)
        messages.append(_text("cancelled", visit.officer_id, notice))
    # A note for the audit trail: states and the badge, never the reason (it may name people).
    detail = "badge revoked" if had_badge else ""
    return await _applied(services, change, messages, detail=detail)


# The outbox keys' purposes the badge goes out under; a void edit finds each by its key.
BADGE_MESSAGES = ("badge_png", "badge_pdf")


async def _badge_items(
    services: Services, visit: Visit, token: str, code: str, notice: str = ""
) -> list[OutboxItem]:
    """The SOP's special identity badge: PNG to show or print, and an ID-1 PDF; ``notice``
    heads the PNG's caption."""
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
        # The day the badge was issued, in the office's zone (the visit's day).
        visit_date=(visit.decided_at or services.now()).astimezone(tz).date(),
    )
    png, pdf = await asyncio.gather(
        asyncio.to_thread(render_badge_png, card), asyncio.to_thread(render_badge_pdf, card)
    )
    name = f"badge-{visit.reference}"
    caption = badge_texts.caption(visit, format_code(code), tz, notice)
    officer = visit.officer_id
    return [
        OutboxItem(
            f"badge_png:{{visit}}:{officer}",
            "photo",
            officer,
            payload={"filename": f"{name}.png", "caption": caption},
            blob=png,
            for_role=Role.OFFICER,
        ),
        OutboxItem(
            f"badge_pdf:{{visit}}:{officer}",
            "document",
            officer,
            payload={"filename": f"{name}.pdf"},
            blob=pdf,
            for_role=Role.OFFICER,
        ),
    ]


class BadgeProblem(enum.Enum):
    UNKNOWN = "unknown"  # forged, mistyped, another deployment's or another visit's
    FINISHED = "finished"  # checked out: the badge is dead
    EXPIRED = "expired"
    CANCELLED = "cancelled"  # the officer withdrew the request after approval


@dataclass(frozen=True)
class BadgeLookup:
    visit: Visit | None
    problem: BadgeProblem | None


async def find_badge(services: Services, *, token: str = "", code: str = "") -> BadgeLookup:
    """Resolve a scanned token or typed code to its visit, or say what is wrong with it."""
    found = None
    # The current secret, then earlier ones (security.previous_signing_secret): a badge
    # issued before the secret was rotated stays valid until it expires.
    config = services.config
    for secret in (config.signing_secret, *config.previous_signing_secrets):
        if token:
            found = await services.storage.visits.badge_visit(
                "token", lookup_hash(secret, token, "token")
            )
            if found is not None and not token_matches_visit(secret, token, found):
                found = None
        else:
            found = await services.storage.visits.badge_visit(
                "code", lookup_hash(secret, code, "code")
            )
        if found is not None:
            break
    visit = await services.storage.visits.get(found) if found is not None else None
    if visit is None:
        return BadgeLookup(None, BadgeProblem.UNKNOWN)
    visit = await _expire_if_due(services, visit)
    if visit.status == VisitStatus.EXPIRED:
        return BadgeLookup(visit, BadgeProblem.EXPIRED)
    if visit.status == VisitStatus.DONE:
        return BadgeLookup(visit, BadgeProblem.FINISHED)
    if visit.status == VisitStatus.CANCELLED:
        return BadgeLookup(visit, BadgeProblem.CANCELLED)
    return BadgeLookup(visit, None)


class CodeLimit(enum.Enum):
    PERSON = "person"  # this person typed too many wrong codes lately
    EVERYONE = "everyone"  # too many wrong codes across all accounts: /kode is closed


async def code_limit(services: Services, member: StaffMember) -> CodeLimit | None:
    """Manual codes have 40 bits: a few wrong ones per person per window, a few more across
    all accounts, then a pause (bot.core.tokens). Counted from the audit log."""
    since = services.now() - CODE_WINDOW
    audit = services.storage.audit
    wrong_all, _ = await audit.tally("badge_unknown", since, detail="code")
    if wrong_all >= CODE_ATTEMPTS_ALL:
        return CodeLimit.EVERYONE
    mine = await audit.count(member.user_id, "badge_unknown", since, detail="code")
    return CodeLimit.PERSON if mine >= CODE_ATTEMPTS else None


async def refuse_badge(
    services: Services, member: StaffMember, lookup: BadgeLookup, via: str
) -> None:
    """Audit a refused scan; a forged or foreign QR also alerts every approver (rate-limited),
    and so do wrong codes typed from several accounts."""
    problem = lookup.problem or BadgeProblem.UNKNOWN
    now = services.now()
    visit_id = lookup.visit.id if lookup.visit else None
    audit = services.storage.audit
    await audit.record(now, member.user_id, f"badge_{problem.value}", visit_id, detail=via)
    if problem == BadgeProblem.UNKNOWN and via != "code":
        await _forged_alert(services, member, now)
    elif problem == BadgeProblem.UNKNOWN:
        await _guessing_alert(services, now)


def _to_approvers(purpose: str, stamp: str, text: str, services: Services) -> list[OutboxItem]:
    return [
        OutboxItem(
            f"{purpose}:{stamp}:{a.user_id}",
            "text",
            a.user_id,
            payload={"text": text},
            for_role=Role.APPROVER,
        )
        for a in services.with_role(Role.APPROVER)
    ]


async def _forged_alert(services: Services, member: StaffMember, now: datetime) -> None:
    """At most one alert per person per FORGED_ALERT_GAP and FORGED_ALERT_CAP an hour: any
    staff member can set one off (/start <junk>), and a flood of them hides the real one."""
    audit = services.storage.audit
    mine = await audit.latest("forged_alert", member.user_id)
    if mine is not None and mine.at > now - FORGED_ALERT_GAP:
        return
    alerts_this_hour, _ = await audit.tally("forged_alert", now - timedelta(hours=1))
    if alerts_this_hour >= FORGED_ALERT_CAP:
        return
    previous = await audit.latest("forged_alert")
    unannounced, _ = await audit.tally(
        "badge_unknown",
        previous.at if previous else datetime.min.replace(tzinfo=now.tzinfo),
        not_detail="code",
        after_id=previous.id if previous else 0,
    )
    earlier = max(0, unannounced - 1)  # the scan just recorded is this alert's own
    text = door_texts.forged_badge_alert(member.name, now, services.config.timezone, earlier)
    stamp = f"{now.timestamp():.6f}:{member.user_id}"
    await audit.record(
        now,
        member.user_id,
        "forged_alert",
        detail=f"unannounced:{earlier}",
        messages=_to_approvers("forged", stamp, text, services),
    )
    services.delivery.kick()


async def _guessing_alert(services: Services, now: datetime) -> None:
    """Wrong codes from more than one account within a window: someone may be guessing with
    several phones. The section heads hear it once per window."""
    audit = services.storage.audit
    since = now - CODE_WINDOW
    wrong, accounts = await audit.tally("badge_unknown", since, detail="code")
    if accounts < 2 or wrong < CODE_GUESS_ALERT:
        return
    last = await audit.latest("code_guessing_alert")
    if last is not None and last.at > since:
        return
    closed = wrong >= CODE_ATTEMPTS_ALL
    text = door_texts.code_guessing_alert(wrong, accounts, now, services.config.timezone)
    await audit.record(
        now,
        None,
        "code_guessing_alert",
        detail=f"{wrong}:{accounts}" + (":closed" if closed else ""),
        messages=_to_approvers("code_guessing", f"{now.timestamp():.6f}", text, services),
    )
    services.delivery.kick()


async def enter(services: Services, visit_id: int, escort: StaffMember, via: str = "") -> Result:
    """SOP step 6: the escorted visit begins; the officer is told. ``via`` is how the badge
    was read at the scan whose button recorded it (qr, photo, code), kept in the audit."""
    visit = await services.storage.visits.get(visit_id)
    if visit is None:
        return Result(Outcome.NOT_FOUND)
    visit = await _expire_if_due(services, visit)
    if visit.status != VisitStatus.APPROVED:
        return Result(Outcome.NOT_ALLOWED, visit)
    change = lifecycle.enter(visit, escort.user_id, services.now())
    notice = door_texts.officer_entered(change.after, escort.name, services.config.timezone)
    messages = [_text("entered", visit.officer_id, notice)]
    return await _applied(services, change, messages, detail=_scanned(via))


def _scanned(via: str) -> str:
    return f"scan:{via}" if via else ""


async def exit_(
    services: Services,
    visit_id: int,
    escort: StaffMember,
    via: str = "",
    check: EquipmentCheck | None = None,
    note: str = "",
) -> Result:
    """End of the SOP: the visitor leaves, the badge dies, the log entry closes.

    When equipment was listed, the escort's ``check`` goes with it (a discrepancy with its
    ``note``); the exit summary every approver receives then leads with the discrepancy, so
    the alert rides on the message the exit queues anyway. Without the check (a KELUAR button
    from before the check existed) nothing is recorded."""
    visit = await services.storage.visits.get(visit_id)
    if visit is None:
        return Result(Outcome.NOT_FOUND)
    if visit.status != VisitStatus.INSIDE:
        return Result(Outcome.NOT_ALLOWED, visit)
    if visit.needs_equipment_check and (
        check is None or (check == EquipmentCheck.DIFFERS and not note)
    ):
        return Result(Outcome.NOT_ALLOWED, visit)
    change = lifecycle.exit_(visit, escort.user_id, services.now(), check, note or None)
    messages = []
    if visit.entered_at is not None:
        summary = door_texts.exit_summary(change.after, escort.name, services.config.timezone)
        approvers = {a.user_id for a in services.with_role(Role.APPROVER)}
        recipients = {visit.officer_id, *approvers}
        messages = [
            _text(
                "exit_summary", chat, summary, Role.APPROVER if chat in approvers else Role.OFFICER
            )
            for chat in sorted(recipients)
        ]
    return await _applied(services, change, messages, detail=_scanned(via))


async def expire(services: Services, visit: Visit) -> bool:
    """An approved badge not used within its window dies; the officer is told."""
    if visit.status != VisitStatus.APPROVED:
        return False
    change = lifecycle.expire(visit, services.now())
    notice = _text("expired", visit.officer_id, badge_texts.expired_notice(change.after))
    return (await _applied(services, change, [notice])).outcome == Outcome.DONE


async def expire_overdue(services: Services) -> int:
    """Sweep every approved visit whose window has closed (the deadline lives in SQLite)."""
    now = services.now()
    count = 0
    for visit in await services.storage.visits.with_status(VisitStatus.APPROVED):
        if visit.valid_until is not None and now >= visit.valid_until:
            count += await expire(services, visit)
    return count


async def _expire_if_due(services: Services, visit: Visit) -> Visit:
    """Expiry is checked on every use too, so a missed sweep never admits anyone."""
    due = visit.valid_until is not None and services.now() >= visit.valid_until
    if visit.status == VisitStatus.APPROVED and due:
        await expire(services, visit)
        return await services.storage.visits.get(visit.id) or visit
    return visit
