"""The door during an evacuation roll call: no MASUK until it ends, KELUAR as ever; and the
scan view that shows a KTP photo cannot be forwarded."""

from __future__ import annotations

from bot.app.services import Services
from bot.core.visits import VisitStatus
from bot.texts import rollcall as rollcall_texts
from simulator import BotApiSimulator, SimMessage
from tests.conftest import APPROVER, ESCORT, OFFICER
from tests.dbstate import watch
from tests.e2e.test_e2e_rollcall import TITLE, VISITORS, inside, roll_message
from tests.flows import badge_link, register, scan

REFUSED = "Apel darurat sedang berjalan"
# Where python-telegram-bot's Application bot logs every Bot API call with its parameters.
BOT_LOGGER = "telegram.ext.ExtBot"


async def _approved(sim: BotApiSimulator) -> str:
    """The second visitor registered and approved, not yet in: their badge's link."""
    await register(sim, VISITORS[1])
    head = sim.user(APPROVER)
    card = await head.wait_for(
        "Bima", predicate=lambda m: any("Setujui" in b for r in m.buttons for b in r)
    )
    floor = max(m.seq for m in sim.user(OFFICER).messages)
    await head.tap("Setujui", card)
    await sim.user(OFFICER).wait_for(predicate=lambda m: m.document_name is not None, since=floor)
    return badge_link(sim)


async def _status(services: Services, reference_id: int) -> VisitStatus:
    visit = await services.storage.visits.get(reference_id)
    assert visit is not None
    return visit.status


def _view(sim: BotApiSimulator) -> SimMessage:
    return sim.user(ESCORT).bot_messages[-1]


async def test_masuk_waits_for_the_roll_call_to_end(
    sim: BotApiSimulator, app: object, services: Services
) -> None:
    """A visitor let in while a roll call runs would be missing from it, and "all visitors
    safe" announced with them inside: MASUK is refused until it ends, from an earlier view's
    button (nothing written) and on a scan (no button, the view says why); KELUAR still
    marks the visitor safe, and once the roll call ends the same button records MASUK."""
    await inside(sim, VISITORS[0], ESCORT)
    first = badge_link(sim)
    second = await _approved(sim)
    dewi = sim.user(ESCORT)
    await scan(sim, second, ESCORT)
    earlier = _view(sim)
    assert earlier.buttons == [["✅ Catat MASUK"]]
    (notice,) = [m for m in dewi.bot_messages if "Pengunjung menunggu" in (m.text or "")][1:]
    assert "Bima" in notice.text_or_caption

    await sim.user(OFFICER).send_text("/darurat")
    await dewi.wait_for(TITLE)
    db = await watch(app, sim)
    tap = await dewi.tap("Catat MASUK", earlier)
    await sim.settle()
    assert tap.answer is not None and tap.answer.show_alert, tap.answer
    assert tap.answer.text == rollcall_texts.NO_ENTRY_TAP
    await db.unchanged()
    assert await _status(services, 2) == VisitStatus.APPROVED

    await scan(sim, second, ESCORT)
    during = _view(sim)
    assert during.buttons == [] and REFUSED in during.caption, during
    await dewi.tap("Buka kunjungan", notice)
    await sim.settle()
    assert REFUSED in notice.text and notice.buttons == []

    await scan(sim, first, ESCORT)  # Ayu walks out through the door: safe, the roll call ends
    await dewi.tap("Perangkat sesuai")
    await dewi.wait_for("KELUAR tercatat")
    await services.delivery.wait_idle()
    await sim.settle()
    roll = roll_message(sim, ESCORT).text_or_caption
    assert "Semua pengunjung aman" in roll and "Bima" not in roll
    assert await services.storage.visits.with_status(VisitStatus.INSIDE) == []

    await scan(sim, second, ESCORT)
    assert _view(sim).buttons == [["✅ Catat MASUK"]]
    await dewi.tap("Catat MASUK", earlier)
    await dewi.wait_for("MASUK tercatat")
    assert await _status(services, 2) == VisitStatus.INSIDE


async def test_the_scan_view_and_the_cards_with_the_ktp_photo_are_protected(
    sim: BotApiSimulator, app: object
) -> None:
    """The section heads' cards and the escort's scan view show the visitor's KTP photo:
    sent with protect_content, so they cannot be forwarded or saved, and no copy outlives
    the photo's retention. The officer's badge stays forwardable (it is printed, shown)."""
    await register(sim)
    card = await sim.user(APPROVER).wait_for("Permintaan akses ruang server")
    assert card.protected
    await sim.user(APPROVER).tap("Setujui")
    await sim.user(OFFICER).wait_for(predicate=lambda m: m.document_name is not None)
    badge = next(m for m in sim.user(OFFICER).bot_messages if m.photo_bytes)
    assert not badge.protected
    await scan(sim, badge_link(sim), ESCORT)
    view = _view(sim)
    assert view.photo_bytes and view.protected
