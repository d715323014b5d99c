"""Someone who blocked the bot presses Mulai Ulang, as the officer and the admins were told
to ask: what Telegram refused meanwhile, and still needs them, arrives.

The notice said "minta dia ... menekan Mulai Ulang (Restart)"; the person did, and got the
welcome text and nothing else: the section head had no card to decide on, the officer no
badge to hand over, and the visitor could not go in.
"""

from __future__ import annotations

from bot.app.services import Services
from bot.core.visits import VisitStatus
from simulator import BotApiSimulator, SimMessage
from tests.conftest import ADMIN, APPROVER, ESCORT, OFFICER
from tests.flows import badge_link, register, scan

CARD = "Permintaan akses ruang server"


async def test_a_section_head_who_unblocks_gets_the_waiting_card_and_decides(
    sim: BotApiSimulator, app: object, services: Services
) -> None:
    head = sim.user(APPROVER)
    head.block()
    await register(sim)
    await sim.user(OFFICER).wait_for("memblokir bot")
    await sim.settle()
    assert not [m for m in head.bot_messages if CARD in m.text_or_caption]

    await head.send_text("/start")  # Mulai Ulang: unblocked, then /start
    card = await head.wait_for(CARD, predicate=lambda m: bool(m.buttons))
    await head.tap("Setujui", card)
    badge = await sim.user(OFFICER).wait_for("disetujui")
    assert badge.photo_bytes
    (visit,) = await services.storage.visits.with_status(VisitStatus.APPROVED)
    assert visit.decided_by == APPROVER

    # Blocked and unblocked again: the card is not sent a second time.
    head.block()
    await head.send_text("/start")
    await sim.settle()
    assert len([m for m in head.bot_messages if CARD in m.text_or_caption]) == 1


async def badge_sent_again(sim: BotApiSimulator) -> tuple[SimMessage, SimMessage]:
    """The officer blocked the bot before the approval, then presses Mulai Ulang: the badge
    PNG and PDF issued anew."""
    await register(sim)
    officer = sim.user(OFFICER)
    officer.block()
    head = sim.user(APPROVER)
    await head.tap("Setujui", await head.wait_for(CARD))
    await sim.user(ADMIN).wait_for("memblokir bot")
    await sim.settle()
    assert not [m for m in officer.bot_messages if m.photo_bytes]
    await officer.send_text("/start")
    photo = await officer.wait_for("Dikirim ulang", predicate=lambda m: bool(m.photo_bytes))
    pdf = await officer.wait_for(predicate=lambda m: (m.document_name or "").endswith(".pdf"))
    return photo, pdf


async def test_an_officer_who_unblocks_gets_a_new_badge_that_opens_the_door(
    sim: BotApiSimulator, app: object, services: Services
) -> None:
    officer = sim.user(OFFICER)
    badge, _ = await badge_sent_again(sim)
    assert "Badge dan kode ini yang berlaku" in badge.text_or_caption
    events = [e.action for e in await services.storage.audit.events()]
    assert events.count("badge_reissued") == 1

    # The new badge works at the door.
    await scan(sim, badge_link(sim))
    escort = sim.user(ESCORT)
    await escort.tap("Catat MASUK")
    await escort.wait_for("MASUK tercatat")
    (visit,) = await services.storage.visits.with_status(VisitStatus.INSIDE)
    assert visit.entry_escort_id == ESCORT

    # Restarting again now sends nothing: the visitor is inside.
    officer.block()
    await officer.send_text("/start")
    await sim.settle()
    assert len([m for m in officer.bot_messages if m.photo_bytes]) == 1
    assert [e.action for e in await services.storage.audit.events()].count("badge_reissued") == 1


async def test_a_section_head_who_never_opened_the_bot_gets_the_card_on_opening_it(
    sim: BotApiSimulator, app: object, services: Services
) -> None:
    head = sim.user(APPROVER)
    head.info.started = False  # added to /staf, never pressed Start
    await register(sim)
    await sim.user(OFFICER).wait_for("belum pernah membuka bot")
    await head.send_text("/start")  # Start, as the officer was told to ask
    card = await head.wait_for(CARD, predicate=lambda m: bool(m.buttons))
    await head.tap("Setujui", card)
    await sim.user(OFFICER).wait_for("disetujui")


async def test_a_badge_issued_anew_is_marked_void_when_its_request_is_withdrawn(
    sim: BotApiSimulator, app: object, services: Services
) -> None:
    """The void edit finds the badge sent again, not only the first one (which failed)."""
    officer = sim.user(OFFICER)
    photo, pdf = await badge_sent_again(sim)
    await sim.settle()
    reference = (await services.storage.visits.with_status(VisitStatus.APPROVED))[0].reference
    await officer.send_text(f"/batalkan {reference}")
    await officer.wait_for("alasan pembatalan")
    await officer.send_text("Salah tanggal, datang besok")
    await officer.wait_for("dibatalkan")
    await sim.settle()
    assert photo.edit_count == 1 and "BADGE TIDAK BERLAKU" in photo.caption
    assert pdf.edit_count == 1 and "BADGE TIDAK BERLAKU" in (pdf.caption or "")
