"""A request sent just before midnight (a night-time incident) does not lapse minutes later
at the end of its day: an undecided request lapses at the end of its day, but never sooner
than workflow.LAPSE_GRACE (2 hours) after it was submitted."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bot.app.services import Services
from bot.core.visits import VisitStatus
from simulator import BotApiSimulator
from tests.conftest import APPROVER, APPROVER2, OFFICER, FakeClock
from tests.flows import register

AT_2355 = datetime(2026, 11, 28, 16, 55, tzinfo=UTC)  # 23:55 WIB


async def status(services: Services) -> VisitStatus:
    visit = await services.storage.visits.get(1)
    assert visit is not None
    return visit.status


async def sweep(app: Any) -> None:
    """The expiry sweep, run now (it runs every minute)."""
    (job,) = [j for j in app.job_queue.jobs() if j.name == "_expiry_sweep"]
    await job.run(app)


async def test_a_request_sent_at_2355_is_approved_after_midnight(
    sim: BotApiSimulator, app: Any, services: Services, clock: FakeClock
) -> None:
    clock.now = AT_2355
    await register(sim)
    head = sim.user(APPROVER)
    card = await head.wait_for("Permintaan akses ruang server")
    clock.advance(minutes=35)  # 00:30 WIB, the next day
    await sweep(app)
    assert await status(services) == VisitStatus.PENDING
    await head.tap("Setujui", card)
    await sim.user(OFFICER).wait_for(predicate=lambda m: m.document_name is not None)
    assert await status(services) == VisitStatus.APPROVED


async def test_an_undecided_request_sent_at_2355_lapses_two_hours_later(
    sim: BotApiSimulator, app: Any, services: Services, clock: FakeClock
) -> None:
    clock.now = AT_2355
    await register(sim)
    await sim.user(APPROVER).wait_for("Permintaan akses ruang server")
    clock.advance(hours=1, minutes=59)  # 01:54 WIB
    await sweep(app)
    assert await status(services) == VisitStatus.PENDING
    clock.advance(minutes=1)  # 01:55 WIB: two hours after it was sent
    await sweep(app)
    assert await status(services) == VisitStatus.EXPIRED
    for person in (APPROVER, APPROVER2):
        lapsed = await sim.user(person).wait_for("KEDALUWARSA")
        assert lapsed.buttons == []
    await sim.user(OFFICER).wait_for("tidak diputuskan Kepala Seksi sampai batas waktunya")
