"""The SOP's steps as application services: storage transitions plus who must be told.

Handlers parse updates and call these; these never read an Update. Every message a
step causes is queued in the outbox in the same transaction as the step, then sent
by bot.flows.delivery, so a crash or a flaky Telegram loses nothing.
"""

from __future__ import annotations

import asyncio
import enum
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from bot.app.services import Services
from bot.core import planning
from bot.core import visits as lifecycle
from bot.core.badge import BadgeCard, render_badge_files
from bot.core.callbacks import OPEN_VISIT, VisitTap
from bot.core.planning import Opening
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
from bot.core.watchlist import WatchEntry
from bot.flows import rollcall
from bot.flows.delivery import GUEST_DONE, VISITOR_WAITING, WAITING_TAKEN, WAITING_VOID
from bot.texts import approval as approval_texts
from bot.texts import badge as badge_texts
from bot.texts import cancel as cancel_texts
from bot.texts import door as door_texts
from bot.texts import planning as plan_texts
from storage.db import Storage
from storage.outbox import OutboxItem
from storage.visits import BadgeHashes

log = logging.getLogger(__name__)

# The approval's audit note when the NIK was on the watchlist (approved on the second tap).
WATCHLIST_CONFIRMED = "watchlist confirmed"


class Outcome(enum.Enum):
    DONE = "done"
    NOT_ALLOWED = "not_allowed"  # the visit is not in the state the action needs
    NOT_FOUND = "not_found"
    CONFIRM = "confirm"  # the NIK is on the watchlist: approving takes a second, explicit tap
    BARRED = "barred"  # the NIK was put on the watchlist after the approval: no entry
    # An evacuation roll call runs: nobody goes in until it ends (a visitor let in now is
    # not on it, and "all visitors safe" would be announced with them inside).
    ROLL_CALL = "roll_call"


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


def card_redraws(services: Services) -> Callable[[int], list[OutboxItem]]:
    """Every approver's card of a visit drawn again as it stands (a NIK barred while the
    request waits: the mark goes on the card), keyed by the visit."""

    def items(visit_id: int) -> list[OutboxItem]:
        return [
            OutboxItem(
                f"card_flag:{visit_id}:{a.user_id}",
                "card_update",
                a.user_id,
                visit_id,
                for_role=Role.APPROVER,
            )
            for a in services.with_role(Role.APPROVER)
        ]

    return items


def _text(key: str, chat_id: int, text: str, role: Role = Role.OFFICER) -> OutboxItem:
    """A notice about the visit, for ``chat_id`` as ``role`` (mostly the visit's officer)."""
    return OutboxItem(
        f"{key}:{{visit}}:{chat_id}", "text", chat_id, payload={"text": text}, for_role=role
    )


def _desk_role(services: Services, user_id: int) -> Role:
    """The role a notice about a visit is for, to whoever registered it or holds its badge:
    an officer, or a section head who planned it (/jadwal)."""
    member = services.member(user_id)
    return Role.APPROVER if member and not member.has(Role.OFFICER) else Role.OFFICER


def _escort_notices(services: Services, visit: Visit, approver: str) -> list[OutboxItem]:
    """The escorts on duty learn that a visitor waits at the desk, with a button to open the
    visit; every escort does when nobody is on duty (bot/core/duty.py)."""
    text = door_texts.visitor_waiting(visit, approver, services.config.timezone)
    button = [door_texts.BTN_OPEN_VISIT, VisitTap(OPEN_VISIT, visit.id).data]
    return [
        OutboxItem(
            f"{VISITOR_WAITING}:{{visit}}:{e.user_id}",
            "text",
            e.user_id,
            payload={"text": text, "button": button},
            for_role=Role.ESCORT,
        )
        for e in services.escorts_to_tell()
    ]


async def submit(
    services: Services, draft: VisitDraft, officer: StaffMember, guest_link: int | None = None
) -> tuple[Visit, int]:
    """SOP step 3: store the request and queue a card for every approver, atomically.

    Backup approvers get it only on escalation (bot/flows/deadlines.py). Every path that
    creates a request comes through here, so this is where the watchlist is checked: a
    barred NIK marks the request (its cards say so), alerts every approver and is audited,
    in the same transaction.

    ``guest_link``: the visitor filled the form in themselves through this self-registration
    link (``officer`` made it): the link is used up in the same transaction and the officer
    is told; storage.guests.LinkGone when it was used or expired meanwhile (nothing stored)."""
    backups = services.config.backup_approvers
    approvers = [a for a in services.with_role(Role.APPROVER) if a.user_id not in backups]
    cards = [
        OutboxItem(f"card:{{visit}}:{a.user_id}", "card", a.user_id, for_role=Role.APPROVER)
        for a in approvers
    ]
    barred = await services.storage.watchlist.find(draft.nik)
    alerts = [] if barred is None else _watch_alerts(services, barred.id)
    told = []
    if guest_link is not None:
        key = f"{GUEST_DONE}:{{visit}}:{officer.user_id}"
        told = [OutboxItem(key, GUEST_DONE, officer.user_id, for_role=Role.OFFICER)]
    visit = await services.storage.visits.submit(
        draft,
        officer.user_id,
        services.now(),
        messages=[*cards, *alerts, *told],
        watchlisted=barred.id if barred is not None else None,
        guest_link=guest_link,
    )
    services.delivery.kick()
    return visit, len(cards)


def _watch_alerts(services: Services, entry_id: int) -> list[OutboxItem]:
    """Every approver, backups included, hears of a request for a barred NIK (written at
    send time: bot/flows/delivery.py)."""
    return [
        OutboxItem(
            f"watch_alert:{{visit}}:{a.user_id}",
            "watch_alert",
            a.user_id,
            payload={"entry": entry_id},
            for_role=Role.APPROVER,
        )
        for a in services.with_role(Role.APPROVER)
    ]


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
    *,
    despite_watchlist: bool = False,
) -> Result:
    """SOP steps 4-5a: the first decision wins; the officer receives the badge.

    ``principal`` is the approver a delegate decides for; it is stored with the decision.
    A request marked by the watchlist is approved only with ``despite_watchlist`` (the
    second tap, "Ya, setujui meski diblokir"), which the audit event notes.
    """
    visit = await services.storage.visits.get(visit_id)
    if visit is None:
        return Result(Outcome.NOT_FOUND)
    visit = await _expire_if_due(services, visit)  # a day-old request is closed, not decided
    if visit.status != VisitStatus.PENDING:
        return Result(Outcome.NOT_ALLOWED, visit)
    if visit.watchlisted and not despite_watchlist:
        return Result(Outcome.CONFIRM, visit)
    if visit.planned:
        return await _approve_ahead(services, visit, approver, principal)
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
    detail = WATCHLIST_CONFIRMED if visit.watchlisted else ""
    return await _applied(services, change, messages, badge, detail)


async def reissue_badge(services: Services, visit: Visit) -> bool:
    """The badge of an approved visit again, with a new token and code, for its officer who
    could not be reached when it was issued (blocked the bot, never opened it) and now can:
    the first image was refused by Telegram, so nobody holds it, and nobody can be let in
    without one. False when the visit no longer waits at the door."""
    secret = services.config.signing_secret
    creds = new_credentials(secret, visit.id)
    messages = await _badge_items(
        services,
        visit,
        creds.token,
        creds.code,
        badge_texts.REISSUED,
        again=services.now(),
    )
    badge = BadgeHashes(
        lookup_hash(secret, creds.token, "token"), lookup_hash(secret, creds.code, "code")
    )
    done = await services.storage.visits.reissue_badge(
        visit.id, badge, messages, services.now(), visit.desk_officer
    )
    if done:
        services.delivery.kick()
    return done


async def second_step_shown(services: Services, visit_id: int, chat_id: int, tap: str) -> None:
    """The tapper's card was just edited to the watchlist's second step, outside the outbox,
    from the visit read as pending. A decision that landed meanwhile had its redraw of that
    card go through the outbox, perhaps before this edit: then the card is drawn once more,
    through the outbox and so after the edit, as decided and without buttons. ``tap`` (the
    callback query's id) keys it."""
    visit = await services.storage.visits.get(visit_id)
    if visit is None or visit.status == VisitStatus.PENDING:
        return  # a decision still to come queues its own redraw, sent after this edit
    redraw = OutboxItem(
        f"card_second_step:{{visit}}:{chat_id}:{tap}",
        "card_update",
        chat_id,
        visit_id,
        for_role=Role.APPROVER,
    )
    await services.storage.outbox.queue([redraw], services.now())
    services.delivery.kick()


async def _approve_ahead(
    services: Services, visit: Visit, approver: StaffMember, principal: StaffMember | None
) -> Result:
    """A planned visit decided before the day: every card shows it, the officer is told; the
    badge waits for the visitor (``arrive``)."""
    change = lifecycle.approve_ahead(
        visit, approver.user_id, services.now(), principal.user_id if principal else None
    )
    notice = plan_texts.officer_approved_ahead(
        change.after, approver.name, services.config.timezone
    )
    messages = [
        *_card_updates(services),
        _text("approved_ahead", visit.officer_id, notice, _desk_role(services, visit.officer_id)),
    ]
    detail = WATCHLIST_CONFIRMED if visit.watchlisted else ""
    return await _applied(services, change, messages, detail=detail)


async def opening(services: Services, visit: Visit) -> Opening:
    """May this planned visit be opened at the desk now? (its state, the day, the window,
    and no watchlist entry made since it was approved: no badge for a barred person)"""
    state = planning.opening(
        visit.plan,
        visit.status == VisitStatus.SCHEDULED,
        services.now(),
        services.config.timezone,
        services.config.planning.grace,
    )
    if state is Opening.OPEN and await barred_since_approval(services, visit) is not None:
        return Opening.BARRED
    return state


async def arrive(
    services: Services,
    visit_id: int,
    officer: StaffMember,
    ktp_file_id: str,
    arrived_at: datetime,
) -> tuple[Opening, Visit | None]:
    """SOP step 2 on the day of a planned visit: the KTP photo is checked against the
    person, and the badge approved in advance is issued at once (no second decision).

    Checked again here, not only when the visit was opened: the window may have closed, or
    the request been withdrawn, while the photo was being taken."""
    visit = await services.storage.visits.get(visit_id)
    if visit is None:
        return Opening.NOT_PLANNED, None
    visit = await _expire_if_due(services, visit)
    state = await opening(services, visit)
    if state is not Opening.OPEN:
        return state, visit
    now = services.now()
    secret = services.config.signing_secret
    creds = new_credentials(secret, visit_id)
    valid_until = badge_valid_until(
        now, services.config.entry_window_minutes, visit.duration_minutes
    )
    change = lifecycle.arrive(visit, officer.user_id, arrived_at, now, ktp_file_id, valid_until)
    arrived = change.after
    approver = services.name_of(visit.decided_by)
    messages = [
        *await _badge_items(
            services,
            arrived,
            creds.token,
            creds.code,
            plan_texts.officer_badge_issued(approver),
        ),
        *_escort_notices(services, arrived, approver),
    ]
    badge = BadgeHashes(
        lookup_hash(secret, creds.token, "token"), lookup_hash(secret, creds.code, "code")
    )
    result = await _applied(services, change, messages, badge)
    if result.outcome is not Outcome.DONE:
        return Opening.NOT_APPROVED, result.visit
    return Opening.OPEN, result.visit


def window_passed(services: Services, plan: planning.Plan) -> bool:
    """A plan whose window (and its grace) is already over: nobody could open it."""
    config = services.config
    return services.now() > plan.closes(config.timezone, config.planning.grace)


async def planned_visit(services: Services, visit_id: int) -> Visit | None:
    """The visit as it stands now (a scheduled one past its window expires first)."""
    visit = await services.storage.visits.get(visit_id)
    return await _expire_if_due(services, visit) if visit is not None else None


async def planned_on(services: Services, day: date) -> list[Visit]:
    """The planned visits of ``day`` still to come (approved ahead, or still pending),
    by window; a scheduled one whose window has passed expires here first."""
    found = []
    for visit in await services.storage.visits.with_status(
        VisitStatus.PENDING, VisitStatus.SCHEDULED
    ):
        if visit.plan is None or visit.plan.day != day:
            continue
        visit = await _expire_if_due(services, visit)
        if visit.status in (VisitStatus.PENDING, VisitStatus.SCHEDULED):
            found.append(visit)
    return sorted(found, key=lambda v: (v.plan.start if v.plan else time(), v.id))


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
    visit = await _expire_if_due(services, visit)
    if visit.status != VisitStatus.PENDING:
        return Result(Outcome.NOT_ALLOWED, visit)
    change = lifecycle.deny(
        visit, approver.user_id, services.now(), reason, principal.user_id if principal else None
    )
    messages = [
        *_card_updates(services),
        _text(
            "denied",
            visit.officer_id,
            approval_texts.officer_denied(change.after, approver.name),
            _desk_role(services, visit.officer_id),
        ),
    ]
    return await _applied(services, change, messages)


async def open_requests(services: Services) -> list[Visit]:
    """What an officer may still withdraw, oldest first: waiting, or approved and unused.

    An approved badge whose window has passed expires here first (as at the door), so the
    list never offers one that is already dead."""
    found = []
    for visit in await services.storage.visits.with_status(
        VisitStatus.PENDING, VisitStatus.SCHEDULED, VisitStatus.APPROVED
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


def badge_voids(visit: Visit) -> list[OutboxItem]:
    """The officer's badge photo and PDF edited in place to say the badge is void, rendered
    at send time (a withdrawn request: /batalkan, an erasure)."""
    return [
        OutboxItem(
            f"{of}_void:{{visit}}:{visit.desk_officer}",
            "badge_void",
            visit.desk_officer,
            payload={"of": of},
            for_role=Role.OFFICER,
        )
        for of in BADGE_MESSAGES
    ]


async def waiting_voids(storage: Storage, visit: Visit) -> list[OutboxItem]:
    """Each escort told that this visitor waits (their notice, with its Buka kunjungan
    button) sees the notice withdrawn instead, rendered at send time: a withdrawn request
    (/batalkan, an erasure) must not send anyone to the desk, nor keep the visitor's name in
    an escort's chat. Everyone once told is found by the notices' keys, whoever is on duty
    now; a notice not yet delivered has nothing to edit (an erasure gives it up)."""
    chats = await storage.outbox.chats_keyed(f"{VISITOR_WAITING}:{visit.id}:")
    return [
        OutboxItem(
            f"{WAITING_VOID}:{{visit}}:{chat}",
            "notice_void",
            chat,
            payload={"of": VISITOR_WAITING},
            # No role: it takes something away, so a former escort's chat loses it too.
        )
        for chat in chats
    ]


async def waiting_taken(storage: Storage, visit: Visit, escort_id: int) -> list[OutboxItem]:
    """Each escort told that this visitor waits, except the one who just took them in, sees
    the notice say who took the visitor in and when, without its Buka kunjungan button
    (rendered at send time, bot/flows/delivery.py): nobody walks to the desk for nothing.
    Found by the notices' keys like ``waiting_voids``; one not yet delivered is sent first
    (same chat, same visit: one lane) and then edited."""
    chats = await storage.outbox.chats_keyed(f"{VISITOR_WAITING}:{visit.id}:")
    return [
        OutboxItem(
            f"{WAITING_TAKEN}:{{visit}}:{chat}",
            WAITING_TAKEN,
            chat,
            payload={"of": VISITOR_WAITING},
            # No role, as for the void: it takes the button away from a former escort too.
        )
        for chat in chats
        if chat != escort_id
    ]


async def entry_closed(services: Services) -> bool:
    """Whether MASUK is refused now: an evacuation roll call runs (``enter``)."""
    return await services.storage.rollcalls.running()


async def cancel(services: Services, visit_id: int, officer: StaffMember, reason: str) -> Result:
    """The officer withdraws a request not yet used: every approver's card shows it, a badge
    already issued dies and its photo says so, the registrant is told if someone else did it.

    One transaction (the transition, its audit event, the badge revoked, the messages); the
    escorts told that the visitor waits see that notice withdrawn."""
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
        messages += badge_voids(visit) + await waiting_voids(services.storage, visit)
    if visit.officer_id != officer.user_id:
        notice = cancel_texts.officer_told(change.after, officer.name, services.config.timezone)
        role = _desk_role(services, visit.officer_id)
        messages.append(_text("cancelled", visit.officer_id, notice, role))
    # A note for the audit trail: states and the badge, never the reason (it may name people).
    detail = "badge revoked" if had_badge else ""
    return await _applied(services, change, messages, detail=detail)


# The outbox keys' purposes the badge goes out under; a void edit finds each by its key.
BADGE_MESSAGES = ("badge_png", "badge_pdf")


async def _badge_items(
    services: Services,
    visit: Visit,
    token: str,
    code: str,
    notice: str = "",
    *,
    again: datetime | None = None,
) -> list[OutboxItem]:
    """The SOP's special identity badge: PNG to show or print, and an ID-1 PDF; ``notice``
    heads the PNG's caption. ``again``: a badge issued anew at that moment, keyed apart from
    the first (whose failed items keep theirs)."""
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
    png, pdf = await asyncio.to_thread(render_badge_files, card)
    name = f"badge-{visit.reference}"
    caption = badge_texts.caption(visit, format_code(code), tz, notice)
    officer = visit.desk_officer
    anew = f":{again.timestamp():.6f}" if again is not None else ""
    return [
        OutboxItem(
            f"badge_png:{{visit}}:{officer}{anew}",
            "photo",
            officer,
            payload={"filename": f"{name}.png", "caption": caption},
            blob=png,
            for_role=Role.OFFICER,
        ),
        OutboxItem(
            f"badge_pdf:{{visit}}:{officer}{anew}",
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


async def barred_since_approval(services: Services, visit: Visit) -> WatchEntry | None:
    """The watchlist entry that bars this visitor, when it was made after the approval: the
    badge was issued before anyone knew, so the door does not let them in. A visit approved
    with the second tap despite the watchlist was approved knowingly, and goes in."""
    if visit.decided_at is None or not visit.nik:
        return None
    entry = await services.storage.watchlist.find(visit.nik)
    if entry is None:
        return None
    # Marked at the decision (at submit, or by a block while it waited): approved knowingly,
    # unless the live entry is a newer one (lifted and barred again since).
    knowingly = visit.watchlisted and entry.blocked_at <= visit.decided_at
    return None if knowingly else entry


async def enter(services: Services, visit_id: int, escort: StaffMember, via: str = "") -> Result:
    """SOP step 6: the escorted visit begins; the officer is told, and the other escorts
    told that the visitor waits see who took them in. ``via`` is how the badge was read at
    the scan whose button recorded it (qr, photo, code), kept in the audit.

    Refused (ROLL_CALL, nothing written) while an evacuation roll call runs: the roll call
    counts who was inside when it began, so a visitor let in meanwhile would be missing
    from it. KELUAR goes on (it marks the visitor safe, ``exit_``)."""
    visit = await services.storage.visits.get(visit_id)
    if visit is None:
        return Result(Outcome.NOT_FOUND)
    visit = await _expire_if_due(services, visit)
    if visit.status != VisitStatus.APPROVED:
        return Result(Outcome.NOT_ALLOWED, visit)
    if await barred_since_approval(services, visit) is not None:
        return Result(Outcome.BARRED, visit)
    if await entry_closed(services):
        return Result(Outcome.ROLL_CALL, visit)
    change = lifecycle.enter(visit, escort.user_id, services.now())
    notice = door_texts.officer_entered(change.after, escort.name, services.config.timezone)
    messages = [
        _text("entered", visit.desk_officer, notice),
        *await waiting_taken(services.storage, visit, escort.user_id),
    ]
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
        recipients = {visit.desk_officer, *approvers}
        messages = [
            _text(
                "exit_summary", chat, summary, Role.APPROVER if chat in approvers else Role.OFFICER
            )
            for chat in sorted(recipients)
        ]
    result = await _applied(services, change, messages, detail=_scanned(via))
    if result.outcome == Outcome.DONE:
        await rollcall.left(services, visit_id, escort)  # out of an evacuation roll call too
    return result


async def expire(services: Services, visit: Visit) -> bool:
    """An approved badge not used within its window dies (the escorts told the visitor
    waits see that withdrawn), and so does a planned visit whose visitor never came within
    its window, and a walk-in request nobody decided by the end of its day (every section
    head's card says so); the officer is told."""
    if visit.status not in (VisitStatus.APPROVED, VisitStatus.SCHEDULED, VisitStatus.PENDING):
        return False
    change = lifecycle.expire(visit, services.now())
    messages: list[OutboxItem] = []
    if visit.status == VisitStatus.SCHEDULED:
        text = plan_texts.missed_notice(change.after, services.config.timezone)
    elif visit.status == VisitStatus.PENDING:
        text = approval_texts.officer_lapsed(change.after)
        messages += _card_updates(services, "card_lapsed")
    else:
        text = badge_texts.expired_notice(change.after)
        messages += await waiting_voids(services.storage, visit)
    notice = _text("expired", visit.desk_officer, text, _desk_role(services, visit.desk_officer))
    return (await _applied(services, change, [*messages, notice])).outcome == Outcome.DONE


def _due(services: Services, visit: Visit) -> bool:
    """An approved badge past its validity, a scheduled visit past its window's grace, or a
    walk-in request still undecided at the end of the day it was submitted (and at least
    LAPSE_GRACE after it was: lifecycle.lapses_at)."""
    now = services.now()
    if visit.status == VisitStatus.APPROVED:
        return visit.valid_until is not None and now >= visit.valid_until
    if visit.status == VisitStatus.SCHEDULED and visit.plan is not None:
        return window_passed(services, visit.plan)
    if visit.status == VisitStatus.PENDING and not visit.planned:
        return now >= lifecycle.lapses_at(visit.submitted_at, services.config.timezone)
    return False


async def expire_overdue(services: Services) -> int:
    """Sweep every visit whose window has closed (the deadline lives in SQLite)."""
    count = 0
    for visit in await services.storage.visits.with_status(
        VisitStatus.APPROVED, VisitStatus.SCHEDULED, VisitStatus.PENDING
    ):
        if _due(services, visit):
            count += await expire(services, visit)
    return count


async def _expire_if_due(services: Services, visit: Visit) -> Visit:
    """Expiry is checked on every use too, so a missed sweep never admits anyone."""
    if _due(services, visit):
        await expire(services, visit)
        return await services.storage.visits.get(visit.id) or visit
    return visit
