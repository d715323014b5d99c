"""What a phone really sends into the form, beside typed text and camera photos.

A reviewer sent the form what people's phones send: a KTP photo "as File" (Android's way to
keep the quality), a contact card at the phone question, "tidak ada" typed where a "none"
button waits, a reply to an earlier question, and /Batal as a phone's keyboard capitalises
it in a visitor's own form. Each got a wrong or misleading answer, or stored the wrong thing.
"""

from __future__ import annotations

import io

from PIL import Image

from bot.app.services import Services
from bot.core.visits import VisitStatus
from bot.texts import form as form_texts
from simulator import BotApiSimulator, SimUser
from tests.conftest import OFFICER, STRANGER
from tests.dbstate import watch
from tests.e2e.test_e2e_selfreg import make_link
from tests.flows import NIK_WOMAN, Visitor, act, ktp_image, register


async def to_step(sim: BotApiSimulator, field: str) -> SimUser:
    """/daftar answered up to the question of ``field``, which is now open."""
    officer = sim.user(OFFICER)
    moves = Visitor().script()
    await officer.send_text("/daftar")
    await officer.wait_for(moves[0].asked)
    for move in moves:
        if move.field == field:
            return officer
        await act(officer, move)
        await officer.wait_for(move.then)
    raise AssertionError(f"no step {field}")


async def finish(sim: BotApiSimulator, officer: SimUser, after: str) -> None:
    """The rest of the form from the step after ``after``, then Kirim."""
    moves = Visitor().script()
    start = next(i for i, m in enumerate(moves) if m.field == after) + 1
    for move in moves[start:]:
        await act(officer, move)
        await officer.wait_for(move.then)
    await officer.tap(form_texts.BTN_SUBMIT)
    await officer.wait_for("terkirim")


def jpeg() -> bytes:
    out = io.BytesIO()
    Image.open(io.BytesIO(ktp_image())).save(out, "JPEG", quality=90)
    return out.getvalue()


async def test_a_ktp_photo_sent_as_a_file_is_asked_again_as_a_photo_saying_how(
    sim: BotApiSimulator, app: object
) -> None:
    officer = await to_step(sim, "ktp")
    db = await watch(app, sim)
    await officer.send_document(jpeg(), "IMG_20261128_090112.jpg", "image/jpeg")
    told = await officer.wait_for("terkirim sebagai")
    assert told.html == form_texts.WANT_PHOTO_NOT_IMAGE_FILE
    await officer.send_document(b"%PDF-1.4 ...", "scan.pdf", "application/pdf")
    await officer.wait_for(predicate=lambda m: m.html == form_texts.WANT_PHOTO_NOT_FILE)
    await sim.settle()
    await db.unchanged()
    await officer.send_photo(ktp_image())  # as it says: the same picture as a photo
    await officer.wait_for("Ketik NIK")


async def test_a_contact_card_answers_the_phone_question(
    sim: BotApiSimulator, app: object, services: Services
) -> None:
    officer = await to_step(sim, "phone")
    await officer.send_contact("+62 813-9876-5432", "Ayu Lestari")
    (move,) = [m for m in Visitor().script() if m.field == "phone"]
    await officer.wait_for(move.then)
    await finish(sim, officer, after="phone")
    (visit,) = await services.storage.visits.with_status(VisitStatus.PENDING)
    assert visit.phone == "081398765432"


async def test_none_typed_under_a_none_button_is_that_button(
    sim: BotApiSimulator, app: object, services: Services
) -> None:
    """ "tidak ada" typed at the equipment question was stored as equipment called "tidak
    ada", which the escort then had to confirm went back out at KELUAR."""
    await register(sim, Visitor(equipment="Tidak ada"))
    (visit,) = await services.storage.visits.with_status(VisitStatus.PENDING)
    assert visit.equipment == ""


async def test_a_reply_to_an_earlier_question_is_not_taken_for_the_open_one(
    sim: BotApiSimulator, app: object, services: Services
) -> None:
    officer = sim.user(OFFICER)
    await to_step(sim, "name")
    name_question = officer.last_bot_message
    assert name_question is not None
    await officer.send_text("Ayu Lestri")  # a typo, seen once the next question is asked
    organisation = await officer.wait_for("instansi")
    await sim.settle()

    db = await watch(app, sim)
    await officer.send_text("Ayu Lestari", reply_to=name_question)
    await officer.wait_for(predicate=lambda m: m.html == form_texts.REPLY_TO_EARLIER)
    await sim.settle()
    await db.unchanged()
    # A reply to the open question itself is its answer, as typed.
    await officer.send_text("PT Jaringan Nusantara", reply_to=organisation)
    await officer.wait_for("surat tugas")
    await finish(sim, officer, after="organisation")
    (visit,) = await services.storage.visits.with_status(VisitStatus.PENDING)
    assert (visit.name, visit.organisation) == ("Ayu Lestri", "PT Jaringan Nusantara")


async def test_a_visitor_closes_their_own_form_with_a_capitalised_batal(
    sim: BotApiSimulator, app: object
) -> None:
    payload = await make_link(sim)
    visitor = sim.user(STRANGER)
    await visitor.send_text(f"/start {payload}")
    await visitor.wait_for("foto KTP")
    await visitor.send_text("/Batal")
    await visitor.wait_for("dibatalkan")


async def test_an_album_at_the_ktp_question_keeps_the_first_photo_and_says_so(
    sim: BotApiSimulator, app: object, services: Services
) -> None:
    """Front and back picked together from the gallery: the first is the KTP photo, the
    second is not taken for the NIK's answer ("ketik" was all it got)."""
    officer = await to_step(sim, "ktp")
    await officer.send_album([ktp_image("DEPAN"), ktp_image("BELAKANG")])
    await officer.wait_for(predicate=lambda m: m.html == form_texts.ALBUM_REST)
    await sim.settle()
    said = [m.html or m.text for m in officer.bot_messages[-3:]]
    assert form_texts.WANT_TEXT not in said
    await finish(sim, officer, after="ktp")
    (visit,) = await services.storage.visits.with_status(VisitStatus.PENDING)
    assert visit.ktp_file_id


async def test_a_reply_to_the_open_question_asked_again_below_the_errors_is_its_answer(
    sim: BotApiSimulator, app: object
) -> None:
    """After a few wrong NIKs the question is asked again lower down; a reply to where it
    was first asked still answers the same open question."""
    officer = await to_step(sim, "nik")
    question = officer.last_bot_message
    assert question is not None
    for _ in range(4):
        await officer.send_text("123", reply_to=question)
        await sim.settle()
    await officer.send_text(NIK_WOMAN, reply_to=question)
    await officer.wait_for("nama lengkap")
    said = [m.html for m in officer.bot_messages]
    assert form_texts.REPLY_TO_EARLIER not in said
