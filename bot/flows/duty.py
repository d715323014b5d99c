"""The escorts' duty roster (/piket): going on and off duty, and what the escort reads."""

from __future__ import annotations

from datetime import datetime

from bot.app.services import Services
from bot.core.duty import day_end
from bot.core.roles import StaffMember
from bot.texts import duty as duty_texts


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
    return changed


def status(services: Services, escort: StaffMember) -> tuple[str, bool]:
    """The escort's /piket text, and whether they are on duty (which button goes under it)."""
    own = services.shift_of(escort.user_id)
    others: list[tuple[str, datetime]] = []
    for member in services.on_duty():
        shift = services.shift_of(member.user_id)
        if member.user_id != escort.user_id and shift is not None:
            others.append((member.name, shift.started_at))
    return duty_texts.status(own, others, services.config.timezone), own is not None
