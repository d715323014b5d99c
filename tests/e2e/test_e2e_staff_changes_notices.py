"""Staff changes while visits are under way: who then gets what a role entitles them to.

A section head named while requests wait gets their cards (in /staf, by an invitation, or
failing both with the decision reminder); the visitors waiting at the desk are announced
anew when the escorts who were told leave duty or the staff; an escort removed while a
visitor they let in is inside is named to the admin with that visit, and its overstay
alerts go to the other escorts. Through the simulator and the real Application.
"""

from __future__ import annotations

from typing import Any

from bot.core.roles import Role
from bot.core.visits import VisitStatus
from bot.texts import door as door_texts
from bot.texts import duty as duty_texts
from bot.texts import staff as staff_texts
from simulator import BotApiSimulator, SimMessage
from tests.conftest import ADMIN, APPROVER, APPROVER2, ESCORT, OFFICER, FakeClock
from tests.e2e.test_e2e_duty import ESCORT2, go_on_duty, piket
from tests.e2e.test_e2e_duty import config as config  # the shared config and Eko, an escort
from tests.e2e.test_e2e_staff import invite
from tests.flows import approve, badge_link, register, scan

NEWCOMER = 9002
CARD = "Permintaan akses ruang server"
WAITING = "Pengunjung menunggu di meja petugas"
OVERSTAY = "Melebihi waktu"


async def run_job(app: Any, name: str) -> None:
    """One run of a JobQueue job, as its interval would run it, and what it queued sent."""
    (job,) = [j for j in app.job_queue.jobs() if j.name == name]
    await job.run(app)
    await app.bot_data.delivery.wait_idle()


async def idle(sim: BotApiSimulator, app: Any) -> None:
    await sim.settle()
    await app.bot_data.delivery.wait_idle()
    await sim.settle()


def said(sim: BotApiSimulator, user_id: int, text: str) -> list[SimMessage]:
    return [m for m in sim.user(user_id).bot_messages if text in m.text_or_caption]


def decidable(message: SimMessage) -> bool:
    return CARD in message.text_or_caption and any(
        "Setujui" in b for r in message.buttons for b in r
    )


async def open_member(sim: BotApiSimulator, name: str) -> SimMessage:
    """The admin's /staf, then the member's page."""
    admin = sim.user(ADMIN)
    await admin.send_text("/staf")
    await admin.tap(name, await admin.wait_for("Daftar staf"))
    return await admin.wait_for("Tekan peran")


async def decided_by(services: Any, user_id: int) -> None:
    (visit,) = await services.storage.visits.with_status(VisitStatus.APPROVED)
    assert visit.decided_by == user_id


# --- a section head named while a request waits ------------------------------------------


async def test_a_head_named_in_staf_gets_the_waiting_card_and_decides_it(
    sim: BotApiSimulator, app: Any, clock: FakeClock, services: Any
) -> None:
    eko = sim.user(ESCORT2)
    await eko.send_text("/start")  # a bot may only write to people who wrote to it
    await eko.wait_for("")
    await register(sim)
    view = await open_member(sim, "Eko Pendamping")
    await sim.user(ADMIN).tap(staff_texts.role_toggle(Role.APPROVER, False), view)
    card = await eko.wait_for(predicate=decidable)
    # At minute 8 the reminder points at the card he now holds, and brings no second one.
    clock.advance(minutes=8)
    await run_job(app, "deadline_job")
    await eko.wait_for("Pengingat")
    await idle(sim, app)
    assert len(said(sim, ESCORT2, CARD)) == 1
    await eko.tap("Setujui", card)
    await sim.user(OFFICER).wait_for(predicate=lambda m: m.document_name is not None)
    await decided_by(services, ESCORT2)
    await idle(sim, app)
    assert not card.buttons  # his card shows the decision, like every other head's
    assert not any(decidable(m) for m in said(sim, APPROVER, CARD))


async def test_a_head_joining_by_invitation_gets_the_waiting_card(
    sim: BotApiSimulator, app: Any, services: Any
) -> None:
    await register(sim)
    link = await invite(sim, "Kepala Seksi")
    newcomer = sim.add_user(NEWCOMER, "Joko")
    await newcomer.open_link(link)
    await newcomer.wait_for("Admin akan mengonfirmasi")
    admin = sim.user(ADMIN)
    await admin.tap("✅ Konfirmasi", await admin.wait_for("membuka tautan undangan"))
    card = await newcomer.wait_for(predicate=decidable)
    await newcomer.tap("Setujui", card)
    await sim.user(OFFICER).wait_for(predicate=lambda m: m.document_name is not None)
    await decided_by(services, NEWCOMER)


async def test_a_head_named_outside_the_chat_gets_the_card_with_the_reminder(
    sim: BotApiSimulator, app: Any, clock: FakeClock, services: Any
) -> None:
    """A role given some other way (the storage directly, as a restore or a script would):
    the reminder brings the card it speaks of, first, and the other heads get no second."""
    eko = sim.user(ESCORT2)
    await eko.send_text("/start")
    await eko.wait_for("")
    await register(sim)
    await sim.user(APPROVER).wait_for(predicate=decidable)
    await services.storage.staff.set_roles(
        ESCORT2, frozenset({Role.APPROVER}), ADMIN, services.now()
    )
    await services.refresh_staff()
    clock.advance(minutes=8)
    await run_job(app, "deadline_job")
    reminder = await eko.wait_for("Pengingat")
    (card,) = said(sim, ESCORT2, CARD)
    assert card.seq < reminder.seq and decidable(card)
    await idle(sim, app)
    for head in (APPROVER, APPROVER2):
        assert len(said(sim, head, CARD)) == 1


# --- the escorts who were told leave ------------------------------------------------------


async def test_the_last_escort_off_duty_hands_the_waiting_visitor_to_every_escort(
    sim: BotApiSimulator, app: Any
) -> None:
    eko, dewi = sim.user(ESCORT2), sim.user(ESCORT)
    await go_on_duty(sim, ESCORT2)
    await register(sim)
    await approve(sim)
    await eko.wait_for(WAITING)
    await idle(sim, app)
    assert not said(sim, ESCORT, WAITING)  # only the escort on duty was told
    await eko.tap(duty_texts.BTN_END, await piket(sim, ESCORT2))
    await eko.wait_for("Anda sedang tidak piket")
    notice = await dewi.wait_for(WAITING)
    assert "Ayu Lestari" in notice.text_or_caption
    assert notice.buttons == [[door_texts.BTN_OPEN_VISIT]]
    await dewi.tap(door_texts.BTN_OPEN_VISIT, notice)  # it opens the visit like the first
    await dewi.wait_for("Badge pengunjung")
    await idle(sim, app)
    assert len(said(sim, ESCORT2, WAITING)) == 1  # told before: not again


async def test_off_duty_hands_the_waiting_visitor_to_the_escort_still_on_duty(
    sim: BotApiSimulator, app: Any
) -> None:
    """Eko was on duty at the approval; Dewi came on duty after it. When Eko leaves, Dewi,
    still on duty, is told (and nobody else would be)."""
    eko, dewi = sim.user(ESCORT2), sim.user(ESCORT)
    await go_on_duty(sim, ESCORT2)
    await register(sim)
    await approve(sim)
    await eko.wait_for(WAITING)
    await go_on_duty(sim, ESCORT)
    await idle(sim, app)
    assert not said(sim, ESCORT, WAITING)
    await eko.tap(duty_texts.BTN_END, await piket(sim, ESCORT2))
    await eko.wait_for("Anda sedang tidak piket")
    await dewi.wait_for(WAITING)


async def test_the_escort_on_duty_removed_hands_the_waiting_visitor_on(
    sim: BotApiSimulator, app: Any
) -> None:
    await go_on_duty(sim, ESCORT2)
    await register(sim)
    await approve(sim)
    await sim.user(ESCORT2).wait_for(WAITING)
    view = await open_member(sim, "Eko Pendamping")
    await sim.user(ADMIN).tap(staff_texts.BTN_REMOVE, view)
    await sim.user(ADMIN).wait_for("dihapus dari staf")
    await sim.user(ESCORT).wait_for(WAITING)


# --- an escort removed with a visitor inside ------------------------------------------------


async def inside_with_dewi(sim: BotApiSimulator) -> None:
    """A visitor approved and taken in by Dewi (ESCORT)."""
    await register(sim)
    await approve(sim)
    await scan(sim, badge_link(sim), ESCORT)
    await sim.user(ESCORT).tap("Catat MASUK")
    await sim.user(ESCORT).wait_for("MASUK tercatat")


async def test_an_escort_removed_with_a_visitor_inside(
    sim: BotApiSimulator, app: Any, clock: FakeClock
) -> None:
    await inside_with_dewi(sim)
    admin = sim.user(ADMIN)
    await admin.tap(staff_texts.BTN_REMOVE, await open_member(sim, "Dewi Pendamping"))
    gone = await admin.wait_for("dihapus dari staf")
    answer = gone.text_or_caption
    assert "KRS-2026-00001" in answer and "Ayu Lestari" in answer
    assert "Masih di ruang server" in answer and "pendamping lain" in answer

    clock.advance(minutes=31)  # 30 minutes planned
    await run_job(app, "deadline_job")
    alert = await sim.user(ESCORT2).wait_for(OVERSTAY)
    assert "sudah bukan pendamping" in alert.text_or_caption
    await sim.user(OFFICER).wait_for(OVERSTAY)
    await idle(sim, app)
    assert not said(sim, ESCORT, OVERSTAY)  # Dewi, no longer staff, hears nothing


async def test_an_escort_role_taken_with_a_visitor_inside(
    sim: BotApiSimulator, app: Any, clock: FakeClock
) -> None:
    await inside_with_dewi(sim)
    admin = sim.user(ADMIN)
    view = await open_member(sim, "Dewi Pendamping")
    await admin.tap(staff_texts.role_toggle(Role.OFFICER, False), view)  # one role must stay
    await admin.wait_for(predicate=lambda m: "Petugas" in m.text_or_caption, since=view.seq)
    await admin.tap(staff_texts.role_toggle(Role.ESCORT, True), view)
    changed = await admin.wait_for("Masih di ruang server")
    assert "KRS-2026-00001" in changed.text_or_caption
    clock.advance(minutes=31)
    await run_job(app, "deadline_job")
    await sim.user(ESCORT2).wait_for(OVERSTAY)
    await idle(sim, app)
    assert not said(sim, ESCORT, OVERSTAY)
