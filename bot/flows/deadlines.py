"""The SOP's time standards enforced: reminders, escalation, overstay alerts, daily review.

One periodic job decides everything from the database and the clock, so a deadline
that fell while the bot was down is acted on at the next start, and nothing is sent
twice: what was sent is recorded (storage/deadlines.py) in the same transaction as the
outbox items that send it. See docs/standar-waktu.md.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, time, timedelta

from bot.app import errorgroups
from bot.app.context import BotContext
from bot.app.services import Services
from bot.core.roles import Role
from bot.core.standards import breaches, decision_deadline
from bot.core.visits import Visit, VisitStatus
from bot.core.watchlist import WatchEntry
from bot.flows import planning
from bot.texts import audit as audit_texts
from bot.texts import standards as standards_texts
from bot.texts import watchlist as watchlist_texts
from storage import audit
from storage.deadlines import DeadlineMarks, Deadlines
from storage.outbox import OutboxItem

log = logging.getLogger(__name__)

INTERVAL = timedelta(minutes=1)


def _text(key: str, chat_id: int, text: str, role: Role) -> OutboxItem:
    return OutboxItem(
        f"{key}:{{visit}}:{chat_id}", "text", chat_id, payload={"text": text}, for_role=role
    )


async def deadline_job(context: BotContext) -> None:
    """The JobQueue's call every minute, and at start: deadlines missed while down run then.
    First the admins' error reports a window held back (bot/app/errorgroups.py): an error of
    this job itself is then noted, and reported, as any other."""
    await errorgroups.report_held(context.services)
    await check_deadlines(context.services)


async def review_job(context: BotContext) -> None:
    """The JobQueue's daily call at reports.daily_review_time."""
    await daily_review(context.services)


async def review_catch_up(context: BotContext) -> None:
    """At start: a review that fell while the bot was down is sent now."""
    await daily_review(context.services, catch_up=True)


async def check_deadlines(services: Services) -> None:
    store = services.storage.deadlines
    await _decisions(services, store)
    await _overstays(services, store)
    await planning.remind_tomorrow(services)
    services.delivery.kick()


async def _decisions(services: Services, store: Deadlines) -> None:
    """Remind approvers before the decision standard runs out; escalate once it has."""
    config, now = services.config, services.now()
    marks = await store.marks(VisitStatus.PENDING.value)
    before = timedelta(minutes=config.reminders.before_minutes)
    for visit in await services.storage.visits.with_status(VisitStatus.PENDING):
        mark = marks.get(visit.id)
        # A visit planned ahead is decided before its day: its standards count from the
        # visitor's arrival (bot/core/standards.py), and it is reminded the day before.
        if mark is None or visit.planned:
            continue
        due = decision_deadline(visit, config.standards)
        if now >= due:
            if mark.escalated_at is None:
                await _escalate(services, store, visit)
        elif now >= due - before and mark.reminded_at is None:
            text = standards_texts.decision_reminder(visit, due - now, config.standards.decision)
            primary = [
                a
                for a in services.with_role(Role.APPROVER)
                if a.user_id not in config.backup_approvers
            ]
            # The reminder says "tap the card": a section head named since the request came
            # (in /staf, or by an invitation) gets it first. The key is the submit card's, so
            # who has one gets nothing new (handlers/staff.py queues it at the grant already).
            cards = [
                OutboxItem(
                    f"card:{{visit}}:{a.user_id}", "card", a.user_id, for_role=Role.APPROVER
                )
                for a in primary
            ]
            messages = [_text("reminder", a.user_id, text, Role.APPROVER) for a in primary]
            await store.remind(visit.id, now, [*cards, *messages])


async def _escalate(services: Services, store: Deadlines, visit: Visit) -> None:
    """The backups get a note and the same approval card; the officer is told."""
    config = services.config
    standard = config.standards.decision
    # Only while they still hold the approver role (an admin may have changed it in /staf).
    backups = [
        m for m in services.with_role(Role.APPROVER) if m.user_id in config.backup_approvers
    ]
    messages: list[OutboxItem] = []
    for backup in backups:
        messages.append(
            _text(
                "escalated",
                backup.user_id,
                standards_texts.escalated_backup(visit, standard),
                Role.APPROVER,
            )
        )
        # The key is the submit card's, so a backup never gets the same card twice.
        messages.append(
            OutboxItem(
                f"card:{{visit}}:{backup.user_id}", "card", backup.user_id, for_role=Role.APPROVER
            )
        )
    names = [b.name for b in backups]
    messages.append(
        _text(
            "escalated",
            visit.officer_id,
            standards_texts.escalated_officer(visit, standard, names),
            Role.OFFICER,
        )
    )
    if await store.escalate(visit.id, services.now(), messages):
        log.info("visit %s escalated to %d backup approver(s)", visit.id, len(backups))


async def _overstays(services: Services, store: Deadlines) -> None:
    """A visitor inside past the planned end: alert the escort and the officer, repeated."""
    config, now = services.config, services.now()
    marks = await store.marks(VisitStatus.INSIDE.value)
    repeat = timedelta(minutes=config.reminders.overstay_repeat_minutes)
    tz = config.timezone
    for visit in await services.storage.visits.with_status(VisitStatus.INSIDE):
        mark: DeadlineMarks | None = marks.get(visit.id)
        end = visit.planned_end
        if mark is None or end is None or not visit.overstayed(now):
            continue
        # Repeated `repeat` after the last alert; after an outage, one alert, not a burst.
        last = mark.last_overstay_alert_at
        if last is not None and now < last + repeat:
            continue
        number = mark.overstay_alerts + 1
        escort = services.name_of(visit.entry_escort_id)
        # The officer as officer, the escort as escort: checked again when sent, so a
        # former member of staff hears nothing (bot/flows/recipients.py: withheld, audited).
        # When the escort who let the visitor in is no longer one (removed, or the role
        # taken in /staf), the escorts on duty are alerted too, or every escort when nobody
        # is: someone must take over.
        chats = {visit.desk_officer: Role.OFFICER}
        if visit.entry_escort_id is not None:
            chats.setdefault(visit.entry_escort_id, Role.ESCORT)
        entry_escort = services.member(visit.entry_escort_id)
        if entry_escort is None or not entry_escort.has(Role.ESCORT):
            if visit.entry_escort_id is not None:
                escort = standards_texts.former_escort(escort)
            for other in services.escorts_to_tell():
                chats.setdefault(other.user_id, Role.ESCORT)
        text = standards_texts.overstay_alert(visit, number, now, escort, tz)
        messages = [
            OutboxItem(
                f"overstay:{{visit}}:{chat}:{number}",
                "text",
                chat,
                payload={"text": text},
                for_role=role,
            )
            for chat, role in sorted(chats.items())
        ]
        await store.overstay(visit.id, number, now, messages)


def _watchlist_events(
    services: Services, entries: list[WatchEntry], start: datetime, end: datetime
) -> list[tuple[WatchEntry, bool, str]]:
    """Each bar and lift within [start, end): (entry, lifted, by whom), in time order."""
    events = [
        (e.blocked_at, e, False, e.blocked_by) for e in entries if start <= e.blocked_at < end
    ]
    events += [
        (e.lifted_at, e, True, e.lifted_by or 0)
        for e in entries
        if e.lifted_at is not None and start <= e.lifted_at < end
    ]
    events.sort(key=lambda event: (event[0], event[1].id))
    return [(entry, lifted, services.name_of(by)) for _, entry, lifted, by in events]


async def daily_review(services: Services, *, catch_up: bool = False) -> bool:
    """Yesterday's visits, breaches, anyone inside and pending requests, to every approver.

    Sent once per day (the day is recorded with the messages). ``catch_up`` (at start)
    sends only when a review was sent before, so a fresh install does not send one at
    its first start but at the next review time.
    """
    config, now = services.config, services.now()
    tz = config.timezone
    local = now.astimezone(tz)
    today = local.date()
    if local.time() < config.daily_review_time:
        return False
    store = services.storage.deadlines
    last = await store.last_review()
    if (catch_up and last is None) or (last is not None and last >= today):
        return False
    start = datetime.combine(today - timedelta(days=1), time(0), tz).astimezone(UTC)
    end = datetime.combine(today, time(0), tz).astimezone(UTC)
    visits = [
        visit
        for visit_id in await store.submitted_between(start, end)
        if (visit := await services.storage.visits.get(visit_id)) is not None
    ]
    late = [(v, found) for v in visits if (found := breaches(v, config.standards, now))]
    inside = await services.storage.visits.with_status(VisitStatus.INSIDE)
    pending = await services.storage.visits.with_status(VisitStatus.PENDING)
    # The audit chain's head leaves the database with the review (an anchor: a later
    # rewrite of anything up to it, even with the audit key, no longer finds this hash).
    head = await services.storage.audit.head()
    changed = await services.storage.watchlist.changed_between(start, end)
    watched = _watchlist_events(services, changed, start, end) if changed else []
    pages = standards_texts.daily_review(
        start.astimezone(tz).date(),
        visits,
        late,
        inside,
        pending,
        now,
        tz,
        watchlist=watchlist_texts.review(watched, tz) if watched else [],
        anchor=audit_texts.anchor_note(head),
    )
    key = f"review:{today.isoformat()}"
    # One item per page, in order in the chat's lane; the first keeps the key of the days
    # when the review was always one message.
    messages = [
        OutboxItem(
            f"{key}:{a.user_id}" + (f":{n}" if n > 1 else ""),
            "text",
            a.user_id,
            payload={"text": page},
            for_role=Role.APPROVER,
        )
        for a in services.with_role(Role.APPROVER)
        for n, page in enumerate(pages, start=1)
    ]
    sent = await store.record_review(today, now, messages)
    if sent:
        # After the review is queued: a crash in between loses only this record, and the
        # head sent stays a valid anchor (it was the head when the review was written).
        await services.storage.audit.record(now, None, audit.ANCHOR, detail=f"head {head}")
    services.delivery.kick()
    return sent
