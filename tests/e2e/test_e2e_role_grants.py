"""Role grants that open a self-approval path alert every approver (issue 10)."""

from __future__ import annotations

from typing import Any

from bot.app.services import Services
from bot.core.roles import Role
from simulator import BotApiSimulator
from tests.conftest import ADMIN, APPROVER, APPROVER2, OFFICER


async def toggle(sim: BotApiSimulator, name: str, role_button: str) -> None:
    admin = sim.user(ADMIN)
    await admin.send_text("/staf")
    listing = await admin.wait_for("Daftar staf")
    await admin.tap(name, listing)
    await admin.wait_for("Tekan peran")
    await admin.tap(role_button)
    await admin.wait_for(predicate=lambda m: m.edit_count > 0 and "Peran:" in m.text_or_caption)


async def _grants(services: Services) -> list[str]:
    events = await services.storage.audit.events()
    return [e.detail for e in events if e.action == "self_approval_path"]


async def test_an_admin_making_themselves_an_approver_alerts_every_approver(
    sim: BotApiSimulator, app: Any, services: Services
) -> None:
    await toggle(sim, "Admin TI", "⬜ Kepala Seksi")
    member = services.member(ADMIN)
    assert member is not None and Role.APPROVER in member.roles
    for head in (APPROVER, APPROVER2):
        alert = await sim.user(head).wait_for("Perubahan peran perlu diperhatikan")
        assert "Admin TI memberi dirinya sendiri peran" in alert.text_or_caption
    assert await _grants(services) == [f"{ADMIN}:{Role.ADMIN.bit | Role.APPROVER.bit}:own"]
    assert not any("Perubahan peran" in m.text_or_caption for m in sim.user(ADMIN).bot_messages)


async def test_making_an_officer_an_approver_alerts_and_other_grants_do_not(
    sim: BotApiSimulator, app: Any, services: Services
) -> None:
    await toggle(sim, "Sari Petugas", "⬜ Pendamping")  # an escort too: no path opened
    assert await _grants(services) == []
    await toggle(sim, "Sari Petugas", "⬜ Kepala Seksi")
    for head in (APPROVER, APPROVER2, OFFICER):
        alert = await sim.user(head).wait_for("Perubahan peran perlu diperhatikan")
        assert "Admin TI memberi Sari Petugas peran" in alert.text_or_caption
    assert await _grants(services) == [
        f"{OFFICER}:{Role.OFFICER.bit | Role.APPROVER.bit | Role.ESCORT.bit}"
    ]
