"""The KTP photo fills the form: the officer checks what was read, and types only the rest.

Through the simulator and the real Application, with the committed specimen photos
(tests/fixtures/ktp, made by bench/ktp_corpus.py; every card says SPESIMEN).
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from bot.app.services import Services
from bot.core.visits import VisitStatus
from bot.texts import form as form_texts
from simulator import BotApiSimulator, Faults
from tests.conftest import OFFICER
from tests.dbstate import watch
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


def officer_interactions(sim: BotApiSimulator) -> int:
    """Messages the officer sent and buttons the officer tapped, from /daftar on."""
    sent = [m for m in sim.messages(OFFICER) if not m.from_bot]
    taps = [a for a in sim.state.callbacks.values() if a.user_id == OFFICER]
    return len(sent) + len(taps)


REPLY = (  # the template, filled in as an officer would (the labels in any case)
    "Instansi: PT Jaringan Nusantara\n"
    "No. Surat Tugas: -\n"
    "no. hp: 0812-3456-7890\n"
    "Keperluan: Pemeliharaan server\n"
    "Durasi: 60\n"
    "Perangkat: Laptop, kabel konsol"
)


async def confirm_card(sim: BotApiSimulator) -> None:
    """/daftar, the card's photo, ✅ Benar: the template for the rest is asked."""
    officer = sim.user(OFFICER)
    await send_card(sim, CARD)
    await officer.wait_for("Terbaca dari foto KTP", timeout=15)
    await officer.tap(form_texts.BTN_READ_OK)
    await officer.wait_for("satu pesan")


async def test_a_readable_ktp_is_registered_in_five_officer_interactions(
    sim: BotApiSimulator, app: object, services: Services
) -> None:
    officer = sim.user(OFFICER)
    truth = TRUTH[CARD]
    await send_card(sim, CARD)
    read = await officer.wait_for("Terbaca dari foto KTP", timeout=15)
    assert f"NIK: {truth['nik']}" in read.text_or_caption
    assert "Nama: BAGUS A. KURNIAWAN" in read.text_or_caption
    assert "JEMBER, 10-10-1974" in read.text_or_caption and "LAKI-LAKI" in read.text_or_caption
    await officer.tap(form_texts.BTN_READ_OK)
    # Neither the NIK nor the name is asked: the rest comes as one template to copy.
    template = await officer.wait_for("satu pesan")
    # One edit (issue 13): what was read stays, with the choice, and the template under it.
    assert template.message_id == read.message_id
    kept, asked = template.text_or_caption.split(f"Sudah benar? {form_texts.BTN_READ_OK}")
    assert f"NIK: {truth['nik']}" in kept
    for label in ("Instansi:", "No. Surat Tugas:", "No. HP:", "Keperluan:", "Durasi:"):
        assert label in asked
    assert "Nama:" not in asked and "NIK:" not in asked
    live_question(officer, "satu pesan")
    await officer.send_text(REPLY)
    summary = await officer.wait_for(form_texts.SUMMARY_TITLE)
    for shown in (truth["nik"], "BAGUS A. KURNIAWAN", "PT Jaringan Nusantara", "60 menit"):
        assert shown in summary.text_or_caption
    await officer.tap(form_texts.BTN_SUBMIT, summary)
    await officer.wait_for("terkirim")
    # /daftar, the photo, ✅ Benar, the reply, submit: the goal is at most five.
    assert officer_interactions(sim) == 5
    asked = [m.text_or_caption for m in officer.bot_messages]
    assert not any(question("nik") in text for text in asked)
    assert not any(question("organisation") in text for text in asked)
    (visit,) = await services.storage.visits.with_status(VisitStatus.PENDING)
    assert (visit.nik, visit.name) == (truth["nik"], "BAGUS A. KURNIAWAN")
    assert (visit.organisation, visit.assignment_letter) == ("PT Jaringan Nusantara", "")
    assert (visit.phone, visit.purpose, visit.duration_minutes) == (
        "081234567890",
        "Pemeliharaan server",
        60,
    )
    assert visit.equipment == "Laptop, kabel konsol"


async def test_a_refused_or_missing_line_is_asked_alone_then_the_summary(
    sim: BotApiSimulator, app: object
) -> None:
    officer = sim.user(OFFICER)
    await confirm_card(sim)
    reply = REPLY.replace("0812-3456-7890", "12345").replace("Durasi: 60", "Durasi:")
    await officer.send_text(reply)
    problems = await officer.wait_for("akan ditanyakan lagi")
    assert form_texts.BAD_PHONE in problems.text_or_caption
    await officer.wait_for(question("phone"))
    await officer.send_text("0812-3456-7890")
    await officer.wait_for(question("duration"))
    await officer.tap("60 mnt")
    summary = await officer.wait_for(form_texts.SUMMARY_TITLE)
    assert "PT Jaringan Nusantara" in summary.text_or_caption
    assert "60 menit" in summary.text_or_caption
    live_question(officer, form_texts.SUMMARY_TITLE)


async def test_a_reply_without_the_template_changes_nothing_and_says_why(
    sim: BotApiSimulator, app: object
) -> None:
    officer = sim.user(OFFICER)
    await confirm_card(sim)
    db = await watch(app, sim)
    await officer.send_text("PT Jaringan Nusantara, 0812-3456-7890")
    await officer.wait_for("tidak memuat baris templat")
    await db.unchanged()
    live_question(officer, "satu pesan")
    await officer.send_photo(ktp_image())  # not text either
    await officer.wait_for("jawaban yang diketik")
    await db.unchanged()


async def test_one_by_one_asks_the_rest_as_before(sim: BotApiSimulator, app: object) -> None:
    officer = sim.user(OFFICER)
    truth = TRUTH[CARD]
    await confirm_card(sim)
    template = live_question(officer, "satu pesan")
    await tap_twice(app, sim, officer, form_texts.BTN_ONE_BY_ONE, template)
    assert sum(question("organisation") in m.text_or_caption for m in officer.bot_messages) == 1
    live_question(officer, question("organisation"))
    moves = Visitor(nik=truth["nik"], name="BAGUS A. KURNIAWAN").script()
    summary = await fill_in(officer, moves[at(moves, "organisation") :])
    assert truth["nik"] in summary.text_or_caption
    assert "BAGUS A. KURNIAWAN" in summary.text_or_caption
    assert not any("terjadi kesalahan" in m.text_or_caption for m in officer.bot_messages)


async def test_ubah_nik_keeps_the_name_and_asks_only_the_nik(
    sim: BotApiSimulator, app: object
) -> None:
    officer = sim.user(OFFICER)
    await send_card(sim, CARD)
    await officer.wait_for("Terbaca dari foto KTP", timeout=15)
    await officer.tap(form_texts.BTN_READ_FIX_NIK)
    await officer.wait_for(question("nik"))
    await officer.send_text("3508015507900002")
    # The name was confirmed from the card: the template asks only what no card holds.
    template = await officer.wait_for("satu pesan")
    assert "Nama:" not in template.text_or_caption
    live_question(officer, "satu pesan")


async def test_ubah_nama_keeps_the_nik_and_asks_the_name(
    sim: BotApiSimulator, app: object
) -> None:
    officer = sim.user(OFFICER)
    await send_card(sim, CARD)
    await officer.wait_for("Terbaca dari foto KTP", timeout=15)
    await officer.tap(form_texts.BTN_READ_FIX_NAME)
    await officer.wait_for(question("name"))
    await officer.send_text("Bagus Kurniawan")
    await officer.wait_for("satu pesan")


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
    asked = [m for m in officer.bot_messages if "satu pesan" in m.text_or_caption]
    assert len(asked) == 1
    live_question(officer, "satu pesan")


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


async def test_back_from_the_template_asks_the_nik_and_then_the_template_again(
    sim: BotApiSimulator, app: object
) -> None:
    officer = sim.user(OFFICER)
    truth = TRUTH[CARD]
    await confirm_card(sim)
    await officer.tap(form_texts.BTN_BACK)
    await officer.wait_for(question("nik"))
    await officer.send_text(truth["nik"])
    await officer.wait_for("satu pesan")
    live_question(officer, "satu pesan")


async def test_typing_shows_at_once_while_the_photo_is_read(
    sim: BotApiSimulator, app: object
) -> None:
    """Reading takes getFile, the download and the reader: the officer sees "typing…"
    before any of them is done (Telegram slow to hand the file here)."""
    officer = sim.user(OFFICER)
    sim.faults = Faults(latency=1.5, methods={"getFile"})
    before = sim.call_counts["sendChatAction"]
    try:
        await send_card(sim, CARD)
        async with asyncio.timeout(1.0):  # well before getFile's answer
            while sim.call_counts["sendChatAction"] == before:
                await sim.changed(1.0)  # "typing" is a change in the chat
        assert not any("Terbaca" in m.text_or_caption for m in officer.bot_messages)
        await officer.wait_for("Terbaca dari foto KTP", timeout=15)
    finally:
        sim.faults = Faults()
    assert sim.call_counts["sendChatAction"] == before + 1


async def test_typing_telegram_refuses_changes_nothing(sim: BotApiSimulator, app: object) -> None:
    officer = sim.user(OFFICER)
    sim.faults.inject("500", method="sendChatAction", times=50)
    try:
        await send_card(sim, CARD)
        await officer.wait_for("Terbaca dari foto KTP", timeout=15)
    finally:
        sim.faults = Faults()
    await sim.settle()
    assert not any("terjadi kesalahan" in m.text_or_caption for m in officer.bot_messages)
