"""Every lookup of stored personal data is audited (who, when, which visitor by id), and a
stored visitor's phone is shown masked unless the officer taps for it."""

from __future__ import annotations

from bot.app.services import Services
from bot.core.callbacks import FormWord
from bot.flows import lookups
from bot.texts import form as form_texts
from bot.texts import lookups as lookup_texts
from simulator import BotApiSimulator, SimCallback
from tests.conftest import APPROVER, OFFICER
from tests.dbstate import watch
from tests.flows import NIK_WOMAN, Visitor, act, approve, at, fill_in, register

STORED_PHONE = "081234567890"  # Visitor().phone as stored
MASKED_PHONE = "0812****7890"


async def looked_up(services: Services, action: str) -> list[tuple[int | None, str]]:
    return [
        (e.actor_id, e.detail) for e in await services.storage.audit.events() if e.action == action
    ]


async def test_every_history_lookup_is_audited_by_ids_never_by_nik_or_name(
    sim: BotApiSimulator, app: object, services: Services
) -> None:
    await register(sim)
    await approve(sim)
    officer = sim.user(OFFICER)
    db = await watch(app, sim)
    await officer.send_text(f"/riwayat {NIK_WOMAN}")
    await officer.wait_for("Riwayat kunjungan")
    await db.unchanged(new_audit=[lookups.HISTORY])
    await officer.send_text("/riwayat lestari")
    await officer.wait_for("Riwayat kunjungan: lestari")
    await sim.user(APPROVER).send_text("/riwayat Budi_%")
    await sim.user(APPROVER).wait_for("Tidak ada riwayat kunjungan")
    assert await looked_up(services, lookups.HISTORY) == [
        (OFFICER, "by nik; visitors 1; visits 1"),
        (OFFICER, "by name; visitors 1; visits 1"),
        (APPROVER, "by name; visitors none; visits none"),
    ]


async def test_a_returning_visitor_is_audited_and_the_phone_shown_only_on_a_tap(
    sim: BotApiSimulator, app: object, services: Services
) -> None:
    await register(sim)
    officer = sim.user(OFFICER)
    moves = Visitor().script()
    nik = at(moves, "nik")
    await officer.send_text("/daftar")
    await officer.wait_for(moves[0].asked)
    await fill_in(officer, moves[:nik])
    assert await looked_up(services, lookups.RECALLED) == []
    await act(officer, moves[nik])
    offer = await officer.wait_for("pernah terdaftar")
    assert f"HP: {MASKED_PHONE}" in offer.text_or_caption
    assert STORED_PHONE not in offer.text_or_caption
    assert await looked_up(services, lookups.RECALLED) == [(OFFICER, "visitor 1")]
    assert await looked_up(services, lookups.PHONE_SHOWN) == []

    tap = await officer.tap(lookup_texts.BTN_SHOW_PHONE, offer)
    assert isinstance(tap, SimCallback)
    await sim.settle()
    assert tap.answer is not None and tap.answer.show_alert
    assert STORED_PHONE in tap.answer.text  # in a pop-up, not kept in the chat
    newer = [m for m in officer.bot_messages if m.message_id >= offer.message_id]
    assert not any(STORED_PHONE in m.text_or_caption for m in newer)
    assert await looked_up(services, lookups.PHONE_SHOWN) == [(OFFICER, "visitor 1")]

    # Reused, the summary and the section head's card show the stored number masked too.
    await officer.tap(form_texts.BTN_REUSE, offer)
    letter = at(moves, "assignment_letter")  # asked of every visit, after the stored fields
    await officer.wait_for(moves[letter].asked)
    await act(officer, moves[letter])
    purpose = at(moves, "purpose")  # the stored phone is not asked again
    await officer.wait_for(moves[purpose].asked)
    summary = await fill_in(officer, moves[purpose:])
    assert f"HP: {MASKED_PHONE}" in summary.text_or_caption
    await officer.tap(form_texts.BTN_SUBMIT, summary)
    await officer.wait_for("terkirim")
    card = await sim.user(APPROVER).wait_for("Permintaan akses ruang server")
    assert MASKED_PHONE in card.text_or_caption and STORED_PHONE not in card.text_or_caption
    # The button is gone once the question is answered, and a forged tap reveals nothing.
    assert offer.buttons == []
    late = await officer.send_callback(offer, FormWord("phone").data)
    await sim.settle()
    assert late.answer is not None
    assert STORED_PHONE not in late.answer.text
    assert len(await looked_up(services, lookups.PHONE_SHOWN)) == 1


async def test_a_number_typed_now_is_shown_in_full_to_the_officer_who_typed_it(
    sim: BotApiSimulator, app: object
) -> None:
    officer = sim.user(OFFICER)
    moves = Visitor().script()
    await officer.send_text("/daftar")
    await officer.wait_for(moves[0].asked)
    summary = await fill_in(officer, moves)
    assert f"HP: {STORED_PHONE}" in summary.text_or_caption
