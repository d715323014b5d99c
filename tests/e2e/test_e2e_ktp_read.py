"""The KTP photo fills the form: the officer checks what was read, and types only the rest.

Through the simulator and the real Application, with the committed specimen photos
(tests/fixtures/ktp, made by bench/ktp_corpus.py; every card says SPESIMEN).
"""

from __future__ import annotations

import json
from pathlib import Path

from bot.texts import form as form_texts
from simulator import BotApiSimulator, Faults
from tests.conftest import OFFICER
from tests.e2e.test_e2e_double_tap import tap_twice
from tests.flows import Visitor, act, at, fill_in, ktp_image, live_question

FIXTURES = Path(__file__).parent.parent / "fixtures" / "ktp"
TRUTH = {
    t["file"]: t
    for t in (json.loads(line) for line in (FIXTURES / "truth.jsonl").read_text().splitlines())
}
CARD = "ktp-4242-0004.jpg"  # BAGUS A. KURNIAWAN, born in Jember on 10-10-1974


# Each question as the officer reads it (no markup), from the form's own step script.
QUESTIONS = {move.field: move.asked for move in Visitor().script()}


def question(field: str) -> str:
    return QUESTIONS[field]


async def send_card(sim: BotApiSimulator, name: str) -> None:
    officer = sim.user(OFFICER)
    await officer.send_text("/daftar")
    await officer.wait_for(question("ktp"))
    await officer.send_photo((FIXTURES / name).read_bytes())


async def test_a_readable_ktp_fills_nik_and_name_and_the_officer_confirms_once(
    sim: BotApiSimulator, app: object
) -> None:
    officer = sim.user(OFFICER)
    truth = TRUTH[CARD]
    await send_card(sim, CARD)
    read = await officer.wait_for("Terbaca dari foto KTP", timeout=15)
    assert f"NIK: {truth['nik']}" in read.text_or_caption
    assert "Nama: BAGUS A. KURNIAWAN" in read.text_or_caption
    assert "JEMBER, 10-10-1974" in read.text_or_caption and "LAKI-LAKI" in read.text_or_caption
    await officer.tap(form_texts.BTN_READ_OK)
    # Neither the NIK nor the name is asked: the form goes on with the organisation.
    await officer.wait_for(question("organisation"))
    moves = Visitor(nik=truth["nik"], name="BAGUS A. KURNIAWAN").script()
    summary = await fill_in(officer, moves[at(moves, "organisation") :])
    assert truth["nik"] in summary.text_or_caption
    assert "BAGUS A. KURNIAWAN" in summary.text_or_caption
    asked = [m.text_or_caption for m in officer.bot_messages]
    assert not any(question("nik") in text for text in asked)
    assert not any(question("name") in text for text in asked)
    # The officer's turns: /daftar, the photo, ✅ Benar, then the fields no card holds.
    turns = [m for m in sim.messages(OFFICER) if not m.from_bot]
    taps = len([a for a in sim.state.callbacks.values() if a.user_id == OFFICER])
    rest = len(moves) - at(moves, "organisation")
    assert len(turns) + taps == 3 + rest


async def test_ubah_nik_keeps_the_name_and_asks_only_the_nik(
    sim: BotApiSimulator, app: object
) -> None:
    officer = sim.user(OFFICER)
    await send_card(sim, CARD)
    await officer.wait_for("Terbaca dari foto KTP", timeout=15)
    await officer.tap(form_texts.BTN_READ_FIX_NIK)
    await officer.wait_for(question("nik"))
    await officer.send_text("3508015507900002")
    await officer.wait_for(question("organisation"))  # the name was confirmed from the card
    live_question(officer, question("organisation"))


async def test_ubah_nama_keeps_the_nik_and_asks_the_name(
    sim: BotApiSimulator, app: object
) -> None:
    officer = sim.user(OFFICER)
    await send_card(sim, CARD)
    await officer.wait_for("Terbaca dari foto KTP", timeout=15)
    await officer.tap(form_texts.BTN_READ_FIX_NAME)
    await officer.wait_for(question("name"))
    await officer.send_text("Bagus Kurniawan")
    await officer.wait_for(question("organisation"))


async def test_a_card_whose_nik_disagrees_with_its_birth_date_has_the_nik_typed(
    sim: BotApiSimulator, app: object
) -> None:
    officer = sim.user(OFFICER)
    await send_card(sim, "disagreeing-date.jpg")
    # The card's NIK is not this card's birth date: nothing is proposed, the NIK is asked.
    await officer.wait_for(question("nik"), timeout=15)
    assert not any("Terbaca" in m.text_or_caption for m in officer.bot_messages)


async def test_a_photo_without_a_readable_card_asks_as_before(
    sim: BotApiSimulator, app: object
) -> None:
    officer = sim.user(OFFICER)
    await officer.send_text("/daftar")
    await officer.wait_for(question("ktp"))
    moves = Visitor().script()
    await act(officer, moves[0])  # tests/flows.py's stand-in: no card on it
    await officer.wait_for(question("nik"), timeout=15)
    assert not any("Terbaca" in m.text_or_caption for m in officer.bot_messages)
    assert ktp_image()  # the same stand-in every other test sends


async def test_a_slow_download_gives_up_after_three_seconds_and_asks(
    sim: BotApiSimulator, app: object
) -> None:
    officer = sim.user(OFFICER)
    sim.faults = Faults(latency=8.0, methods={"getFile"})  # Telegram slow to hand the file
    try:
        await send_card(sim, CARD)
        await officer.wait_for(question("nik"), timeout=6)
    finally:
        sim.faults = Faults()
    assert not any("Terbaca" in m.text_or_caption for m in officer.bot_messages)


async def test_benar_tapped_twice_confirms_once_and_a_late_replay_changes_nothing(
    sim: BotApiSimulator, app: object
) -> None:
    """Real Telegram: the second tap finds the buttons gone; no generic error, the form
    moves on once, and the same tap replayed later changes nothing in the database."""
    officer = sim.user(OFFICER)
    await send_card(sim, CARD)
    read = await officer.wait_for("Terbaca dari foto KTP", timeout=15)
    await tap_twice(app, sim, officer, form_texts.BTN_READ_OK, read)  # waits until idle
    asked = [m for m in officer.bot_messages if question("organisation") in m.text_or_caption]
    assert len(asked) == 1
    live_question(officer, question("organisation"))


async def test_telegram_refusing_the_file_asks_as_before(
    sim: BotApiSimulator, app: object
) -> None:
    """getFile failing for good (the retries used up): the form asks for the NIK, no error."""
    officer = sim.user(OFFICER)
    sim.faults.inject("500", method="getFile", times=50)
    try:
        await send_card(sim, CARD)
        await officer.wait_for(question("nik"), timeout=15)
    finally:
        sim.faults = Faults()
    assert not any("Terbaca" in m.text_or_caption for m in officer.bot_messages)
    assert not any("terjadi kesalahan" in m.text_or_caption for m in officer.bot_messages)
