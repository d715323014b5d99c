"""Removed or demoted staff receive nothing their former role entitled them to (issue 10)."""

from __future__ import annotations

import asyncio
from typing import Any

from bot.app.services import Services
from bot.core.roles import Role
from bot.core.visits import Visit, VisitStatus
from simulator import BotApiSimulator, Faults, SimUser
from tests.conftest import ADMIN, APPROVER, ESCORT, OFFICER, FakeClock
from tests.flows import approve, badge_link, register, scan


async def _withheld(services: Services) -> list[str]:
    return [
        e.detail for e in await services.storage.audit.events() if e.action == "outbox_withheld"
    ]


async def test_a_removed_officers_badge_is_withheld_and_the_admins_told(
    sim: BotApiSimulator, app: Any, services: Services
) -> None:
    """Removed without the request being moved (a database from before, or a race with the
    approval): the approval still happens, but neither the badge, its PDF with the manual
    code, nor the notice reaches the former officer; the admins learn it was held back."""
    await register(sim)
    await services.storage.staff.deactivate(OFFICER, ADMIN, services.now())
    await services.refresh_staff()
    head = sim.user(APPROVER)
    await head.wait_for("Permintaan akses ruang server")
    await head.tap("Setujui")
    notice = await sim.user(ADMIN).wait_for("ditahan")
    assert "Sari Petugas" in notice.text_or_caption and "KRS-2026-00001" in notice.text_or_caption
    await services.delivery.wait_idle()
    officer = sim.user(OFFICER)
    assert not any(m.photo_bytes or m.document_name for m in officer.bot_messages)
    assert not any("disetujui" in m.text_or_caption.lower() for m in officer.bot_messages)
    # The "approved" notice is the badge's caption now (issue 13): two messages held back.
    assert sorted(await _withheld(services)) == [
        f"badge_pdf:{OFFICER}:officer",
        f"badge_png:{OFFICER}:officer",
    ]
    counts = await services.storage.outbox.counts()
    assert counts.get("withheld") == 2


async def test_a_moved_request_sends_the_badge_to_its_new_officer(
    sim: BotApiSimulator, app: Any, services: Services
) -> None:
    """A badge queued for the officer who is gone goes to the officer the visit belongs to now."""
    await register(sim)
    (visit,) = await services.storage.visits.with_status(VisitStatus.PENDING)
    # The admin is an officer too now and took the request over (handlers/staff.py moves it).
    await services.storage.staff.set_roles(
        ADMIN, frozenset({Role.ADMIN, Role.OFFICER}), ADMIN, services.now()
    )
    assert await services.storage.staff.reassign_visit(
        visit.id, OFFICER, ADMIN, ADMIN, services.now()
    )
    await services.storage.staff.deactivate(OFFICER, ADMIN, services.now())
    await services.refresh_staff()
    await approve_as_head(sim)
    admin = sim.user(ADMIN)
    await admin.wait_for(predicate=lambda m: m.document_name is not None)
    assert any(m.photo_bytes for m in admin.bot_messages)
    assert not any(m.photo_bytes or m.document_name for m in sim.user(OFFICER).bot_messages)


async def approve_as_head(sim: BotApiSimulator) -> None:
    head = sim.user(APPROVER)
    await head.wait_for("Permintaan akses ruang server")
    await head.tap("Setujui")


async def test_overstay_alerts_skip_a_former_escort(
    sim: BotApiSimulator, app: Any, services: Services, clock: FakeClock
) -> None:
    await register(sim)
    await approve(sim)
    await scan(sim, badge_link(sim))
    escort = sim.user(ESCORT)
    await escort.tap("Catat MASUK")
    await escort.wait_for("MASUK tercatat")
    await services.storage.staff.set_roles(
        ESCORT, frozenset({Role.OFFICER}), ADMIN, services.now()
    )  # no longer an escort
    await services.refresh_staff()
    clock.advance(minutes=41)
    (job,) = [j for j in app.job_queue.jobs() if j.name == "deadline_job"]
    await job.run(app)
    await sim.user(OFFICER).wait_for("Melebihi waktu")
    await services.delivery.wait_idle()
    assert not any("Melebihi waktu" in m.text_or_caption for m in escort.bot_messages)
    assert await _withheld(services) == [f"overstay:{ESCORT}:escort"]


async def _attempts(services: Services) -> int:
    row = await services.storage.database.read_one(
        "SELECT attempts FROM outbox WHERE key LIKE 'badge_png:%'"
    )
    return int(row[0]) if row else 0


async def _moved_while_the_badge_is_on_the_wire(sim: BotApiSimulator, services: Services) -> None:
    """A request with a second officer approved while Telegram is slow to take photos; the
    request moves to the second officer (the admin) while the badge photo is on the wire to
    the first. The caller resets ``sim.faults``."""
    visit, head = await _pending_with_a_second_officer(sim, services)
    sent_photos = sim.call_counts["sendPhoto"]  # the cards
    sim.faults = Faults(latency=3.0, methods={"sendPhoto"})
    await head.tap("Setujui")
    async with asyncio.timeout(20):  # the badge photo is on the wire
        while sim.call_counts["sendPhoto"] == sent_photos:
            await sim.changed(0.05)
    assert await services.storage.staff.reassign_visit(
        visit.id, OFFICER, ADMIN, ADMIN, services.now()
    )
    services.delivery.look_again()


async def _pending_with_a_second_officer(
    sim: BotApiSimulator, services: Services
) -> tuple[Visit, SimUser]:
    """A request waiting on the section head's card, and the admin an officer too (the one
    it will be moved to); returns the visit and the section head."""
    await register(sim)
    (visit,) = await services.storage.visits.with_status(VisitStatus.PENDING)
    await services.storage.staff.set_roles(
        ADMIN, frozenset({Role.ADMIN, Role.OFFICER}), ADMIN, services.now()
    )
    await services.refresh_staff()
    head = sim.user(APPROVER)
    await head.wait_for("Permintaan akses ruang server")
    return visit, head


async def test_a_badge_on_its_way_when_the_request_is_moved_goes_to_the_new_officer(
    sim: BotApiSimulator, app: Any, services: Services
) -> None:
    """The handover moves the request, then changes the departing officer's role: a badge
    queued for them in between (Telegram refusing it for now) must not reach them then."""
    visit, head = await _pending_with_a_second_officer(sim, services)
    sim.faults = Faults(rate=1.0, kinds={"500"}, methods={"sendPhoto", "sendDocument"})
    try:
        await head.tap("Setujui")
        async with asyncio.timeout(20):
            while await _attempts(services) < 1:  # the badge failed once: queued, not sent
                await sim.changed(0.2)
        # The move; the departing officer still holds the role (their change comes next).
        assert await services.storage.staff.reassign_visit(
            visit.id, OFFICER, ADMIN, ADMIN, services.now()
        )
        tried = await _attempts(services)
        async with asyncio.timeout(30):  # an attempt begun before the move has ended
            while await _attempts(services) == tried:
                await sim.changed(0.2)
    finally:
        sim.faults = Faults()
    admin = sim.user(ADMIN)
    await admin.wait_for(predicate=lambda m: m.document_name is not None, timeout=30)
    assert any(m.photo_bytes for m in admin.bot_messages)
    assert not any(m.photo_bytes or m.document_name for m in sim.user(OFFICER).bot_messages)


async def test_a_badge_on_the_wire_when_the_request_is_moved_still_reaches_the_new_officer(
    sim: BotApiSimulator, app: Any, services: Services
) -> None:
    """The move lands while the badge photo is being delivered to the departing officer
    (Telegram slow, not failing). That send cannot be called back; what matters is that
    the new officer gets the badge too, once, and the queue records it as theirs (its
    message id is one of their chat's, for a later void edit): the mark of the first send
    names the chat it went to, and the item, owed to another chat now, is not marked done
    nor sent twice at once."""
    officer = sim.user(OFFICER)
    try:
        await _moved_while_the_badge_is_on_the_wire(sim, services)
        for _ in range(8):  # other traffic wakes the worker meanwhile
            await asyncio.sleep(0.25)
            services.delivery.kick()
    finally:
        sim.faults = Faults()
    admin = sim.user(ADMIN)
    await admin.wait_for(predicate=lambda m: m.document_name is not None, timeout=30)
    await services.delivery.wait_idle(30)
    badges = [m for m in admin.bot_messages if m.photo_bytes]
    assert len(badges) == 1 and len([m for m in officer.bot_messages if m.photo_bytes]) == 1
    row = await services.storage.database.read_one(
        "SELECT chat_id, status, message_id FROM outbox WHERE key LIKE 'badge_png:%'"
    )
    assert row is not None
    assert (row["chat_id"], row["status"], row["message_id"]) == (
        ADMIN,
        "sent",
        badges[0].message_id,
    )


async def test_a_badge_refused_by_the_departing_officer_during_the_move_reaches_the_new_one(
    sim: BotApiSimulator, app: Any, services: Services
) -> None:
    """The departing officer has blocked the bot, and the move lands while the badge is on
    its way to them: Telegram's refusal comes back after the request has a new officer. It
    must not fail the badge for the new officer too, nor tell anyone that it could not be
    delivered: the badge goes on to the officer it belongs to now."""
    sim.user(OFFICER).block()
    try:
        await _moved_while_the_badge_is_on_the_wire(sim, services)
    finally:
        sim.faults = Faults()
    admin = sim.user(ADMIN)
    await admin.wait_for(predicate=lambda m: m.document_name is not None, timeout=30)
    await services.delivery.wait_idle(30)
    assert len([m for m in admin.bot_messages if m.photo_bytes]) == 1
    assert not any("tidak terkirim" in m.text_or_caption for m in admin.bot_messages)
    rows = await services.storage.database.read(
        "SELECT chat_id, status FROM outbox WHERE key LIKE 'badge_%' ORDER BY key"
    )
    assert [(r["chat_id"], r["status"]) for r in rows] == [(ADMIN, "sent"), (ADMIN, "sent")]
