"""Visits planned ahead: the day-before reminder (run by the deadline job every minute).

From ``planning.remind_at`` (office time) on the day before, the officer who planned each of
tomorrow's visits, every officer at the desk and every escort (and, while it is undecided,
every primary section head) get one message per visit,
through the outbox; the mark (``visits.plan_reminded_at``) is set in the same transaction,
so a restart or the next minute's run sends nothing twice, and a reminder missed while the
bot was down goes out when it starts.
"""

from __future__ import annotations

from datetime import timedelta

from bot.app.services import Services
from bot.core.roles import Role
from bot.core.visits import VisitStatus
from bot.texts import planning as plan_texts
from storage.outbox import OutboxItem


async def remind_tomorrow(services: Services) -> int:
    """Queue the reminders for tomorrow's planned visits that are due; how many visits."""
    config = services.config
    local = services.now().astimezone(config.timezone)
    if local.time() < config.planning.remind_at:
        return 0
    tomorrow = local.date() + timedelta(days=1)
    sent = 0
    for visit in await services.storage.visits.with_status(
        VisitStatus.PENDING, VisitStatus.SCHEDULED
    ):
        if visit.plan is None or visit.plan.day != tomorrow:
            continue
        text = plan_texts.reminder(visit)
        planner = services.member(visit.officer_id)
        planner_role = Role.OFFICER if planner and planner.has(Role.OFFICER) else Role.APPROVER
        recipients = {visit.officer_id: planner_role}
        roles = [Role.OFFICER, Role.ESCORT]
        if visit.status == VisitStatus.PENDING:  # still undecided: the section heads too
            roles.append(Role.APPROVER)
        for role in roles:
            for member in services.with_role(role):
                if role is Role.APPROVER and member.user_id in config.backup_approvers:
                    continue
                recipients.setdefault(member.user_id, role)
        messages = [
            OutboxItem(
                f"plan_reminder:{{visit}}:{chat}",
                "text",
                chat,
                payload={"text": text},
                for_role=role,
            )
            for chat, role in sorted(recipients.items())
        ]
        sent += await services.storage.deadlines.remind_planned(visit.id, services.now(), messages)
    return sent
