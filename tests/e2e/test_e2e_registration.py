"""The officer's registration: bad input gets a clear answer and changes nothing."""

from __future__ import annotations

import pytest

from bot.app.services import Services
from bot.core.form import FORM
from bot.core.visits import VisitStatus
from bot.texts import form as form_texts
from simulator import BotApiSimulator, SimMessage
from tests.conftest import APPROVER, ESCORT, OFFICER
from tests.dbstate import watch
from tests.flows import (
    NIK_WOMAN,
    Visitor,
    act,
    at,
    fill_in,
    ktp_image,
    live_question,
    one_line_error,
    register,
)


async def start_form(sim: BotApiSimulator) -> None:
    officer = sim.user(OFFICER)
    await officer.send_text("/daftar")
    await officer.wait_for("foto KTP")


async def to_name_step(sim: BotApiSimulator) -> None:
    officer = sim.user(OFFICER)
    await start_form(sim)
    await officer.send_photo(ktp_image())
    await officer.wait_for("NIK")
    await officer.send_text(NIK_WOMAN)
    await officer.wait_for("nama lengkap")


async def pending(services: Services) -> list[object]:
    return list(await services.storage.visits.with_status(VisitStatus.PENDING))


@pytest.mark.parametrize(
    ("nik", "says"),
    [
        ("1234", "tepat 16 angka"),
        ("3508015507900002x", "tepat 16 angka"),
        ("9908015507900002", "kode provinsi"),
        ("3508013507900002", "tanggal yang benar"),  # day 35: neither a man's nor a woman's
        ("3508015507900000", "0000"),
    ],
)
async def test_wrong_nik_says_what_is_wrong_and_asks_again(
    sim: BotApiSimulator, app: object, nik: str, says: str
) -> None:
    officer = sim.user(OFFICER)
    await start_form(sim)
    await officer.send_photo(ktp_image())
    await officer.wait_for("NIK")
    db = await watch(app, sim)
    await officer.send_text(nik)
    await one_line_error(officer, says, "Ketik NIK")
    await db.unchanged()
    await officer.send_text(NIK_WOMAN)  # the form continues where it was
    await officer.wait_for("nama lengkap")


async def test_text_or_file_where_the_ktp_photo_is_expected(
    sim: BotApiSimulator, app: object
) -> None:
    officer = sim.user(OFFICER)
    await start_form(sim)
    db = await watch(app, sim)
    await officer.send_text("ini KTP-nya")
    await officer.wait_for("bukan teks")
    await officer.send_document(b"%PDF-1.4 not a photo", "ktp.pdf", "application/pdf")
    await officer.wait_for("bukan sebagai File")
    await db.unchanged()
    await officer.send_photo(ktp_image())
    await officer.wait_for("NIK")


async def test_photo_where_text_is_expected(sim: BotApiSimulator, app: object) -> None:
    officer = sim.user(OFFICER)
    await to_name_step(sim)
    db = await watch(app, sim)
    await officer.send_photo(ktp_image())
    await officer.wait_for("bukan foto")
    await db.unchanged()
    await officer.send_text("Ayu")
    await officer.wait_for("instansi")


async def test_huge_name_is_refused(sim: BotApiSimulator, app: object, services: Services) -> None:
    officer = sim.user(OFFICER)
    await to_name_step(sim)
    db = await watch(app, sim)
    huge = "A" * 5000
    # A Telegram client splits anything over 4096 characters into several messages.
    for chunk in (huge[:4096], huge[4096:]):
        await officer.send_text(chunk)
        await one_line_error(officer, "terlalu panjang", "nama lengkap")
    await db.unchanged()
    await officer.send_text("Ayu")
    await officer.wait_for("instansi")
    assert await pending(services) == []


async def test_a_name_or_organisation_without_letters_is_asked_again(
    sim: BotApiSimulator, app: object, services: Services
) -> None:
    """Emoji, punctuation or an invisible Hangul filler (a letter to Unicode that draws
    nothing) would name nobody on the card, the badge and the log."""
    officer = sim.user(OFFICER)
    await to_name_step(sim)
    db = await watch(app, sim)
    for typed in ("😀😀😀", "\u3164\u3164", "-- ..."):
        await officer.send_text(typed)
        await one_line_error(officer, "harus berisi huruf", "nama lengkap")
    await db.unchanged()
    await officer.send_text("Ayu")
    await officer.wait_for("instansi")
    await officer.send_text("\u3164")
    await one_line_error(officer, "Nama instansi harus berisi huruf", "perusahaan")
    await officer.send_text("3M")  # two characters, a digit among them: a real company
    await officer.wait_for("surat tugas")


async def test_bad_phone_and_duration(sim: BotApiSimulator, app: object) -> None:
    officer = sim.user(OFFICER)
    moves = Visitor(
        organisation="PT A",
        phone="+62 812 3456 7890",
        purpose="Ganti UPS",
        duration="45 menit",
        equipment=None,
    ).script()
    phone, duration = at(moves, "phone"), at(moves, "duration")
    await start_form(sim)
    await fill_in(officer, moves[:phone])
    db = await watch(app, sim)
    await officer.send_text("telepon saya")
    await one_line_error(officer, "Nomor HP tidak valid", moves[phone].asked)
    await db.unchanged()
    await fill_in(officer, moves[phone:duration])
    db = await watch(app, sim)
    await officer.send_text("sepuluh jam")
    await one_line_error(officer, "antara 5 dan 480", moves[duration].asked)
    await db.unchanged()
    summary = await fill_in(officer, moves[duration:])
    assert "HP: 081234567890" in summary.text_or_caption
    assert "Durasi: 45 menit" in summary.text_or_caption
    assert "Keperluan: Ganti UPS" in summary.text_or_caption
    assert "Perangkat: -" in summary.text_or_caption


async def test_html_in_fields_is_shown_literally(
    sim: BotApiSimulator, app: object, services: Services
) -> None:
    name = "<b>Ayu</b> & Co &amp;"
    await register(sim, Visitor(name=name, organisation="<i>PT</i> <script>", equipment="<a>"))
    card = await sim.user(APPROVER).wait_for("Permintaan akses")
    assert name in card.text_or_caption
    assert "<i>PT</i> <script>" in card.text_or_caption
    visit = (await pending(services))[0]
    assert visit.name == name  # stored as typed, escaped only when shown


@pytest.mark.parametrize("step", range(len(FORM)))
async def test_cancel_at_every_step_stores_nothing(
    sim: BotApiSimulator, app: object, services: Services, step: int
) -> None:
    officer = sim.user(OFFICER)
    moves = Visitor(organisation="PT A", purpose="Ganti UPS", duration="30").script()
    db = await watch(app, sim)  # a cancelled form leaves no trace at all
    await start_form(sim)
    for move in moves[:step]:
        await act(officer, move)
        await sim.settle()
    question = await officer.wait_for(moves[step].asked)
    await sim.settle()
    if question.buttons and step % 2 == 0:
        await officer.tap("Batal")
    else:  # typed, or tapped as the link at the end of a typed question
        await officer.send_text("/batal")
    await officer.wait_for("Pendaftaran dibatalkan")
    assert await pending(services) == []
    await officer.send_text("Ayu")  # no longer in a form
    guide = await officer.wait_for("Pilih perintah")
    assert "/daftar" in guide.text and "tidak dikenal" not in guide.text
    await officer.send_text("/batal")
    await officer.wait_for("Tidak ada isian atau pertanyaan yang sedang menunggu")
    await db.unchanged()


async def test_back_and_edit_from_the_summary(
    sim: BotApiSimulator, app: object, services: Services
) -> None:
    officer = sim.user(OFFICER)
    moves = Visitor(
        organisation="PT A",
        phone="081234567890",
        purpose="Audit / pemeriksaan",
        duration="60 mnt",
        equipment="Laptop",
    ).script()
    await start_form(sim)
    await fill_in(officer, moves[: at(moves, "name")])
    await officer.send_text("/kembali")  # the name question's link: it has no buttons
    await officer.wait_for("Ketik NIK")
    await fill_in(officer, moves[at(moves, "nik") :])  # the NIK again, and the rest
    await officer.tap("Nama")
    await officer.wait_for("nama lengkap")
    await officer.send_text("Ayu Lestari Putri")
    summary = await officer.wait_for("Periksa data pengunjung")
    assert "Nama: Ayu Lestari Putri" in summary.text_or_caption
    assert "Durasi: 60 menit" in summary.text_or_caption
    await officer.tap("Kirim ke Kepala Seksi")
    await officer.wait_for("terkirim")
    (visit,) = await pending(services)
    assert visit.name == "Ayu Lestari Putri" and visit.purpose == "Audit / pemeriksaan"


async def test_stale_registration_buttons_change_nothing(
    sim: BotApiSimulator, app: object, services: Services
) -> None:
    officer = sim.user(OFFICER)
    await register(sim)
    db = await watch(app, sim)
    summary = next(m for m in officer.bot_messages if "Periksa data" in m.text_or_caption)
    callback = await officer.send_callback(summary, "v1:reg:send")  # a double submit
    await sim.settle()
    assert callback.answer is not None and "tidak berlaku" in callback.answer.text
    assert len(await pending(services)) == 1
    await db.unchanged()


async def test_only_officers_register(sim: BotApiSimulator, app: object) -> None:
    db = await watch(app, sim)
    for person in (APPROVER, ESCORT):
        await sim.user(person).send_text("/daftar")
        await sim.user(person).wait_for("khusus untuk Petugas")
    await db.unchanged()


async def refused(sim: BotApiSimulator, question: SimMessage, data: str) -> None:
    callback = await sim.user(OFFICER).send_callback(question, data)
    await sim.settle()
    assert callback.answer is not None and "tidak berlaku" in callback.answer.text, data


async def test_buttons_of_another_question_change_nothing(
    sim: BotApiSimulator, app: object, services: Services
) -> None:
    # One conversation state serves the whole form: each tap is checked against the open
    # question, so a button kept from (or forged for) another question is refused.
    officer = sim.user(OFFICER)
    moves = Visitor(purpose="Ganti UPS", duration="60 mnt").script()
    name, duration = at(moves, "name"), at(moves, "duration")
    await start_form(sim)
    question = await fill_in(officer, moves[:name])
    db = await watch(app, sim)
    for data in [
        "v1:reg:c:purpose:0",  # a suggested purpose, before the purpose is asked
        "v1:reg:n:equipment",  # "no equipment"
        "v1:reg:n:name",  # "none" for a required field
        "v1:reg:e:name",  # an edit button, before the summary
        "v1:reg:send",
        "v1:reg:reuse",  # no returning visitor was offered
    ]:
        await refused(sim, question, data)
    await db.unchanged()  # the draft included
    question = await fill_in(officer, moves[name:duration])
    assert "Berapa lama" in question.text_or_caption
    db = await watch(app, sim)
    await refused(sim, question, "v1:reg:c:duration:9")  # there is no ninth duration
    await refused(sim, question, "v1:reg:c:purpose:0")  # the purpose is answered already
    await db.unchanged()
    summary = await fill_in(officer, moves[duration:])
    assert "Nama: Ayu Lestari" in summary.text_or_caption
    assert "Keperluan: Ganti UPS" in summary.text_or_caption
    assert "Durasi: 60 menit" in summary.text_or_caption
    assert await pending(services) == []


async def test_answered_questions_show_their_answer_and_only_the_current_one_is_live(
    sim: BotApiSimulator, app: object, services: Services
) -> None:
    officer = sim.user(OFFICER)
    moves = Visitor(equipment=None).script()
    await start_form(sim)
    for move in moves:
        live_question(officer, move.asked)
        await fill_in(officer, [move])
    live_question(officer, "Periksa data pengunjung")
    texts = [m.text_or_caption for m in officer.bot_messages]
    # A tapped answer stands where its question was, the next question under it in the same
    # message (issue 13: one edit, no second message); a typed one sits under its question.
    assert any(t.startswith("Keperluan: Pemeliharaan server\nDurasi: 30 menit\n") for t in texts)
    assert any("\nPerangkat: -\n\nPeriksa data pengunjung" in t for t in texts)
    assert not any("Pilih keperluan" in t for t in texts)
    assert any("Ketik NIK" in t for t in texts)


async def test_a_double_tap_on_a_suggested_answer_shows_no_error(
    sim: BotApiSimulator, app: object
) -> None:
    officer = sim.user(OFFICER)
    moves = Visitor().script()
    purpose = at(moves, "purpose")
    await start_form(sim)
    await fill_in(officer, moves[:purpose])
    question = live_question(officer, moves[purpose].asked)
    data = question.inline_keyboard[0][0]["callback_data"]
    first = await officer.send_callback(question, data)
    second = await officer.send_callback(question, data)  # before the first edit arrived
    await officer.wait_for(moves[purpose].then)
    await sim.settle()
    # The question became its answer, and the next question with its buttons (issue 13).
    assert question.text_or_caption.startswith("Keperluan: Pemeliharaan server\n\n")
    assert first.answer is not None and not first.answer.show_alert
    assert second.answer is not None  # answered: "no longer valid", never an error
    assert not any("kesalahan" in m.text_or_caption for m in officer.bot_messages)
    live_question(officer, moves[purpose].then)


async def test_a_question_scrolled_away_is_asked_again_below_the_error(
    sim: BotApiSimulator, app: object
) -> None:
    officer = sim.user(OFFICER)
    await to_name_step(sim)
    first = live_question(officer, "nama lengkap")
    for _ in range(3):  # question, then three wrong answers and their one-line errors
        await officer.send_photo(ktp_image())
        await one_line_error(officer, "bukan foto", "nama lengkap")
    await officer.send_photo(ktp_image())
    again = await officer.wait_for(
        "nama lengkap", predicate=lambda m: m.message_id > first.message_id
    )
    await sim.settle()
    assert not first.buttons
    assert live_question(officer, "nama lengkap") is again
    await officer.send_text("Ayu")
    await officer.wait_for("instansi")


async def test_a_form_started_again_asks_before_throwing_answers_away(
    sim: BotApiSimulator, app: object, services: Services
) -> None:
    """/daftar (or /jadwal) typed in the middle of a form, e.g. from the menu by mistake:
    the answers so far are kept unless the officer says to throw them away."""
    officer = sim.user(OFFICER)
    await to_name_step(sim)
    await officer.send_text("Ayu")
    asked = await officer.wait_for("instansi")
    await officer.send_text("/daftar")
    offer = await officer.wait_for("belum selesai")
    assert "langkah 4/" in offer.text
    assert offer.buttons == [[form_texts.BTN_RESUME], [form_texts.BTN_RESTART]]
    await officer.tap(form_texts.BTN_RESUME, offer)
    again = await officer.wait_for("instansi", predicate=lambda m: m is not asked)
    assert offer.text == form_texts.RESUMING and offer.buttons == []
    assert again.message_id > offer.message_id
    await officer.send_text("PT Jaringan Nusantara")
    await officer.wait_for("surat tugas")
    draft = app.user_data[OFFICER]["draft"]  # type: ignore[attr-defined]
    assert (draft["name"], draft["organisation"]) == ("Ayu", "PT Jaringan Nusantara")

    # /jadwal now, and this time the old form goes: the plan's first question follows.
    await officer.send_text("/jadwal")
    offer = await officer.wait_for("belum selesai")
    await officer.tap(form_texts.BTN_RESTART, offer)
    await officer.wait_for("Jadwal kunjungan")
    assert offer.text == form_texts.RESTARTED
    draft = app.user_data[OFFICER]["draft"]  # type: ignore[attr-defined]
    assert draft.get("plan") and "name" not in draft
    # Nothing of the old form is live; a late tap on the offer changes nothing.
    live = [m for m in officer.bot_messages if m.buttons]
    assert all("Jadwal kunjungan" in m.text_or_caption for m in live)
    tap = await officer.send_callback(offer, "v1:reg:resume")
    await sim.settle()
    assert tap.answer is not None and tap.answer.text == "Tombol ini sudah tidak berlaku."
    assert app.user_data[OFFICER]["draft"].get("plan")  # type: ignore[attr-defined]
    assert await pending(services) == []


async def test_an_offer_left_unanswered_goes_once_the_form_goes_on(
    sim: BotApiSimulator, app: object
) -> None:
    """/daftar again, then the open question answered instead of a choice: the offer's
    buttons go, so a late 🗑 cannot throw away the form the officer carried on with."""
    officer = sim.user(OFFICER)
    await to_name_step(sim)
    await officer.send_text("/daftar")
    offer = await officer.wait_for("belum selesai")
    await officer.send_text("Ayu")  # the open question: the name
    await officer.wait_for("instansi")
    await sim.settle()
    assert offer.buttons == []
    tap = await officer.send_callback(offer, "v1:reg:restart")
    await sim.settle()
    assert tap.answer is not None and tap.answer.text == "Tombol ini sudah tidak berlaku."
    assert app.user_data[OFFICER]["draft"]["name"] == "Ayu"  # type: ignore[attr-defined]


async def test_a_second_offer_replaces_the_first(sim: BotApiSimulator, app: object) -> None:
    """/daftar then /jadwal (the menu tapped twice): one offer is live, the newer one, and it
    does what its command asked."""
    officer = sim.user(OFFICER)
    await to_name_step(sim)
    await officer.send_text("/daftar")
    first = await officer.wait_for("belum selesai")
    await officer.send_text("/jadwal")
    second = await officer.wait_for("belum selesai", predicate=lambda m: m is not first)
    await sim.settle()
    assert first.buttons == [] and second.buttons
    await officer.tap(form_texts.BTN_RESTART, second)
    await officer.wait_for("Jadwal kunjungan")


async def test_a_form_with_nothing_in_it_starts_again_without_asking(
    sim: BotApiSimulator, app: object
) -> None:
    officer = sim.user(OFFICER)
    await start_form(sim)
    await officer.send_text("/daftar")  # a double tap on the menu's /daftar
    await officer.wait_for("foto KTP", predicate=lambda m: m.message_id > 2)
    await sim.settle()
    assert not any("belum selesai" in m.text_or_caption for m in officer.bot_messages)
