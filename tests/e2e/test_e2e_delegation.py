"""Delegation: a section head names a stand-in for a period; decisions say "a.n." (issue 4)."""

from __future__ import annotations

from bot.app.services import Services
from bot.core.visits import VisitStatus
from simulator import BotApiSimulator
from tests.conftest import APPROVER, ESCORT, OFFICER, FakeClock
from tests.dbstate import watch
from tests.flows import register


async def delegate_today(sim: BotApiSimulator, delegate: str = "Dewi Pendamping") -> None:
    head = sim.user(APPROVER)
    await head.send_text("/delegasi")
    choose = await head.wait_for("Pilih staf yang mewakili")
    await head.tap(delegate, choose)
    await head.wait_for("Berapa lama")
    await head.tap("Hari ini")
    await head.wait_for("atas nama Anda")


async def test_delegate_approves_on_behalf_then_not_after_the_period(
    sim: BotApiSimulator, app: object, services: Services, clock: FakeClock
) -> None:
    await delegate_today(sim)
    dewi = sim.user(ESCORT)
    await dewi.wait_for("Anda ditunjuk mewakili Budi Kasi")
    assert "delegasi" in [c for c, _ in sim.commands_for(APPROVER)]

    await register(sim)
    card = await dewi.wait_for("Permintaan akses ruang server")
    await dewi.tap("Setujui", card)
    notice = await sim.user(OFFICER).wait_for("Dewi Pendamping a.n. Budi Kasi")
    assert notice is not None
    # Every card, the approver's own included, says who decided on whose behalf.
    await sim.user(APPROVER).wait_for("DISETUJUI oleh Dewi Pendamping a.n. Budi Kasi")
    (visit,) = await services.storage.visits.with_status(VisitStatus.APPROVED)
    assert visit.decided_by == ESCORT
    assert visit.decided_for == APPROVER
    actions = [e.action for e in await services.storage.audit.events()]
    assert "delegation_added" in actions and "decided_on_behalf" in actions

    # The next day the delegation is over: no card, and a forged tap is refused.
    clock.advance(days=1)
    await register(sim)
    (pending,) = await services.storage.visits.with_status(VisitStatus.PENDING)
    db = await watch(app, sim)
    tap = await dewi.send_callback(card, f"v1:ok:{pending.id}")
    await sim.settle()
    assert tap.answer is not None and "khusus untuk Kepala Seksi" in (tap.answer.text or "")
    assert not any(
        "Permintaan akses" in m.text_or_caption and pending.reference in m.text_or_caption
        for m in dewi.bot_messages
    )
    still = await services.storage.visits.get(pending.id)
    assert still is not None and still.status == VisitStatus.PENDING
    await db.unchanged()


async def test_a_forged_delegation_period_is_stale_and_delegates_nobody(
    sim: BotApiSimulator, app: object, services: Services
) -> None:
    """Only the periods the approver was offered; any other number is not our button."""
    head = sim.user(APPROVER)
    await head.send_text("/delegasi")
    choose = await head.wait_for("Pilih staf yang mewakili")
    for data in (f"v1:dlgp:{ESCORT}:2", f"v1:dlgp:{ESCORT}:30", f"v1:dlgp:{ESCORT}", "v1:dlg:x"):
        tap = await head.send_callback(choose, data)
        await sim.settle()
        assert tap.answer is not None and "tidak berlaku" in (tap.answer.text or ""), data
    assert services.acting_for(ESCORT) is None
    actions = [e.action for e in await services.storage.audit.events()]
    assert "delegation_added" not in actions


async def test_only_approvers_delegate(sim: BotApiSimulator, app: object) -> None:
    db = await watch(app, sim)
    officer = sim.user(OFFICER)
    await officer.send_text("/delegasi")
    await officer.wait_for("khusus untuk Kepala Seksi")
    await db.unchanged()


async def test_a_delegates_decision_names_the_principal_in_the_same_commit(
    sim: BotApiSimulator, app: object, services: Services
) -> None:
    """Delivery is woken by the decision's commit, so "a.n." must be in that very commit,
    or a card edit can go out without it. A trigger records the row as each status change
    commits it (the database's own view, nothing of ours replaced)."""
    async with services.storage.database.transaction() as db:
        await db.execute("CREATE TABLE seen_decisions (status TEXT, decided_for INTEGER)")
        await db.execute(
            "CREATE TRIGGER see_decision AFTER UPDATE OF status ON visits BEGIN"
            " INSERT INTO seen_decisions VALUES (NEW.status, NEW.decided_for); END"
        )
    await delegate_today(sim)
    dewi = sim.user(ESCORT)
    await register(sim)
    card = await dewi.wait_for("Permintaan akses ruang server")
    head_card = await sim.user(APPROVER).wait_for("Permintaan akses ruang server")
    await dewi.tap("Setujui", card)
    await sim.user(APPROVER).wait_for("DISETUJUI oleh Dewi Pendamping a.n. Budi Kasi")
    await services.delivery.wait_idle()
    async with services.storage.connection.execute("SELECT * FROM seen_decisions") as cur:
        seen = [(row["status"], row["decided_for"]) for row in await cur.fetchall()]
    assert seen == [("approved", APPROVER)]
    # The head's card was edited once, and that one edit already said on whose behalf.
    assert head_card.edit_count == 1 and "a.n. Budi Kasi" in head_card.text_or_caption
