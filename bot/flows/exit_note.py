"""A discrepancy note that arrives after another escort recorded KELUAR as matching.

Two escorts may scan one visitor's badge at the exit: one taps ⚠️ Ada selisih and starts
typing what is missing, the other taps ✅ Perangkat sesuai first. The exit stands (the
visitor left), but the note is the one thing the section heads must hear of (a hard disk
missing from the server room), so it is kept on the visit, audited, and sent to them and
the visit's officer, instead of being answered "the button is no longer valid".
"""

from __future__ import annotations

from bot.app.services import Services
from bot.core.roles import Role, StaffMember
from bot.core.visits import EquipmentCheck, Visit, VisitStatus
from bot.texts import door as door_texts
from storage.outbox import OutboxItem

LATE = "late_discrepancy"  # the notices' purpose (the first part of their keys)


def applies(visit: Visit | None, escort: StaffMember) -> bool:
    """Whether a note from ``escort`` is a late one: another escort recorded the visit's
    KELUAR, as matching, while this one was typing."""
    return (
        visit is not None
        and visit.status == VisitStatus.DONE
        and visit.equipment_check == EquipmentCheck.MATCHES
        and visit.exit_escort_id != escort.user_id
    )


async def keep(services: Services, visit: Visit, escort: StaffMember, note: str) -> bool:
    """Record the late note on the visit and tell the section heads and the officer."""
    tz = services.config.timezone
    recorder = services.name_of(visit.exit_escort_id or 0)
    text = door_texts.late_discrepancy(visit, escort.name, recorder, note, tz)
    chats = [a.user_id for a in services.with_role(Role.APPROVER)] + [visit.desk_officer]
    messages = [
        OutboxItem(f"{LATE}:{{visit}}:{chat}", "text", chat, payload={"text": text})
        for chat in dict.fromkeys(chats)
    ]
    done = await services.storage.visits.late_discrepancy(
        visit.id, note, escort.user_id, services.now(), messages
    )
    if done:
        services.delivery.kick()
    return done
