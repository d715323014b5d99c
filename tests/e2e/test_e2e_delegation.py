"""Delegation: a section head names another section head to stand in for a period; decisions
taken meanwhile say "a.n." (issue 4); only approvers may stand in (issue 10)."""

from __future__ import annotations

from datetime import timedelta

from bot.app.services import Services
from bot.core.visits import VisitStatus
from simulator import BotApiSimulator
from tests.conftest import APPROVER, APPROVER2, ESCORT, OFFICER, FakeClock
from tests.dbstate import watch
from tests.flows import register


async def delegate_today(sim: BotApiSimulator, delegate: str = "Rina Kasi") -> None:
    head = sim.user(APPROVER)
    await head.send_text("/delegasi")
    choose = await head.wait_for("Pilih Kepala Seksi lain yang mewakili")
    await head.tap(delegate, choose)
    await head.wait_for("Berapa lama")
    await head.tap("Hari ini")
    await head.wait_for("atas nama Anda")


async def test_delegate_approves_on_behalf_then_in_own_name_after_the_period(
    sim: BotApiSimulator, app: object, services: Services, clock: FakeClock
) -> None:
    await delegate_today(sim)
    rina = sim.user(APPROVER2)
    await rina.wait_for("Anda ditunjuk mewakili Budi Kasi")
    assert "delegasi" in [c for c, _ in sim.commands_for(APPROVER)]

    await register(sim)
    card = await rina.wait_for("Permintaan akses ruang server")
    await rina.tap("Setujui", card)
    notice = await sim.user(OFFICER).wait_for("Rina Kasi a.n. Budi Kasi")
    assert notice is not None
    # Every card, the approver's own included, says who decided on whose behalf.
    await sim.user(APPROVER).wait_for("DISETUJUI oleh Rina Kasi a.n. Budi Kasi")
    (visit,) = await services.storage.visits.with_status(VisitStatus.APPROVED)
    assert visit.decided_by == APPROVER2
    assert visit.decided_for == APPROVER
    actions = [e.action for e in await services.storage.audit.events()]
    assert "delegation_added" in actions and "decided_on_behalf" in actions

    # The next day the delegation is over: Rina decides in her own right, no "a.n.".
    clock.advance(days=1)
    await register(sim)
    (pending,) = await services.storage.visits.with_status(VisitStatus.PENDING)
    card = await rina.wait_for(pending.reference)
    await rina.tap("Setujui", card)
    seen = await sim.user(APPROVER).wait_for(
        "DISETUJUI oleh Rina Kasi", predicate=lambda m: pending.reference in m.text_or_caption
    )
    assert "a.n." not in seen.text_or_caption
    decided = await services.storage.visits.get(pending.id)
    assert decided is not None and decided.decided_by == APPROVER2
    assert decided.decided_for is None


async def test_only_approvers_may_stand_in(
    sim: BotApiSimulator, app: object, services: Services
) -> None:
    """An approver delegating to the officer would let the officer approve their own
    registration in the approver's name: nobody but another approver is offered, and a
    forged tap naming anyone else delegates nobody (audited)."""
    head = sim.user(APPROVER)
    await head.send_text("/delegasi")
    choose = await head.wait_for("Pilih Kepala Seksi lain")
    offered = [b["text"] for row in choose.inline_keyboard for b in row]
    assert offered == ["Rina Kasi"]
    db = await watch(app, sim)
    for person in (OFFICER, ESCORT):
        for data in (f"v1:dlg:{person}", f"v1:dlgp:{person}:1"):
            tap = await head.send_callback(choose, data)
            await sim.settle()
            assert tap.answer is not None and "hanya kepada Kepala Seksi" in tap.answer.text
        assert services.acting_for(person) is None
    await db.unchanged(new_audit=["delegation_refused"] * 4)


async def test_a_delegation_to_a_non_approver_from_before_is_void(
    sim: BotApiSimulator, app: object, services: Services, clock: FakeClock
) -> None:
    """A database from before the rule may hold a delegation to an officer: it is void at the
    next start (here: the next staff reload), audited, and grants nothing."""
    now = clock()
    await services.storage.staff.add_delegation(
        APPROVER, OFFICER, now, now + timedelta(days=1), now
    )
    await services.refresh_staff()
    assert services.acting_for(OFFICER) is None
    void = [e for e in await services.storage.audit.events() if e.action == "delegation_void"]
    assert [(e.actor_id, e.detail) for e in void] == [(APPROVER, f"{OFFICER}:not_approver")]
    await services.refresh_staff()  # once: a void delegation stays void, not re-audited
    assert (
        len([e for e in await services.storage.audit.events() if e.action == "delegation_void"])
        == 1
    )
    await register(sim)
    (pending,) = await services.storage.visits.with_status(VisitStatus.PENDING)
    officer = sim.user(OFFICER)
    db = await watch(app, sim)
    tap = await officer.send_callback(officer.bot_messages[-1], f"v1:ok:{pending.id}")
    await sim.settle()
    assert tap.answer is not None
    still = await services.storage.visits.get(pending.id)
    assert still is not None and still.status == VisitStatus.PENDING
    await db.unchanged()


async def test_a_forged_delegation_period_is_stale_and_delegates_nobody(
    sim: BotApiSimulator, app: object, services: Services
) -> None:
    """Only the periods the approver was offered; any other number is not our button."""
    head = sim.user(APPROVER)
    await head.send_text("/delegasi")
    choose = await head.wait_for("Pilih Kepala Seksi lain yang mewakili")
    db = await watch(app, sim)
    for data in (
        f"v1:dlgp:{APPROVER2}:2",
        f"v1:dlgp:{APPROVER2}:30",
        f"v1:dlgp:{APPROVER2}",
        "v1:dlg:x",
    ):
        tap = await head.send_callback(choose, data)
        await sim.settle()
        assert tap.answer is not None and "tidak berlaku" in (tap.answer.text or ""), data
    assert services.acting_for(APPROVER2) is None
    await db.unchanged()


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
    rina = sim.user(APPROVER2)
    await register(sim)
    card = await rina.wait_for("Permintaan akses ruang server")
    head_card = await sim.user(APPROVER).wait_for("Permintaan akses ruang server")
    await rina.tap("Setujui", card)
    await sim.user(APPROVER).wait_for("DISETUJUI oleh Rina Kasi a.n. Budi Kasi")
    await services.delivery.wait_idle()
    async with services.storage.connection.execute("SELECT * FROM seen_decisions") as cur:
        seen = [(row["status"], row["decided_for"]) for row in await cur.fetchall()]
    assert seen == [("approved", APPROVER)]
    # The head's card was edited once, and that one edit already said on whose behalf.
    assert head_card.edit_count == 1 and "a.n. Budi Kasi" in head_card.text_or_caption
