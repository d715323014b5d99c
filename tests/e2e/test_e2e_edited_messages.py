"""A message edited after it was sent (a phone's "Edit").

The officer who typed the wrong NIK, saw it and corrected the message in place believed the
NIK was fixed; the bot had not asked Telegram for edits, so it never heard of it, said
nothing, and the first NIK was stored. Now the edit reaches the bot, which says it is not
read and how to correct the answer, and changes nothing: reading it as a new message would
take it for the answer to whatever is asked now.
"""

from __future__ import annotations

from bot.app.services import Services
from bot.core.visits import VisitStatus
from bot.texts import common as common_texts
from bot.texts import form as form_texts
from simulator import BotApiSimulator
from tests.conftest import APPROVER, OFFICER, STRANGER
from tests.dbstate import watch
from tests.flows import NIK_MAN, NIK_WOMAN, Visitor, act, ktp_image, register

EDIT_NOT_READ = "Pesan yang diedit tidak dibaca"


async def test_a_nik_corrected_by_editing_is_not_taken_and_the_officer_is_told_how(
    sim: BotApiSimulator, app: object, services: Services
) -> None:
    officer = sim.user(OFFICER)
    await officer.send_text("/daftar")
    await officer.wait_for("foto KTP")
    await officer.send_photo(ktp_image())
    await officer.wait_for("Ketik NIK")
    typed = await officer.send_text(NIK_MAN)  # valid, but not this visitor's
    question = await officer.wait_for("nama lengkap")
    await sim.settle()

    db = await watch(app, sim)
    await officer.edit_text(typed, NIK_WOMAN)
    told = await officer.wait_for(EDIT_NOT_READ)
    assert told.text == common_texts.edit_not_read(in_form=True)
    assert "/kembali" in told.text
    await sim.settle()
    await db.unchanged()
    assert officer.last_bot_message is told  # nothing else: the name question still waits
    assert question.text and "nama lengkap" in question.text

    # As the answer says: /kembali to the NIK, typed again, and the form goes on.
    await officer.send_text("/kembali")
    await officer.wait_for("Ketik NIK")
    await officer.send_text(NIK_WOMAN)
    moves = Visitor().script()
    for move in moves[2:]:
        await act(officer, move)
        await officer.wait_for(move.then)
    await officer.tap(form_texts.BTN_SUBMIT)
    await officer.wait_for("terkirim")
    (visit,) = await services.storage.visits.with_status(VisitStatus.PENDING)
    assert visit.nik == NIK_WOMAN


async def test_an_edited_deny_reason_changes_nothing_and_says_so(
    sim: BotApiSimulator, app: object, services: Services
) -> None:
    await register(sim)
    head = sim.user(APPROVER)
    await head.wait_for("Permintaan akses ruang server")
    await head.tap("Tolak")
    await head.wait_for("alasan penolakan")
    typed = await head.send_text("NIK tidak cocok dengan KTP")
    await sim.user(OFFICER).wait_for("ditolak")
    await sim.settle()

    db = await watch(app, sim)
    await head.edit_text(typed, "Jadwal bentrok dengan pemeliharaan UPS")
    told = await head.wait_for(EDIT_NOT_READ)
    assert told.text == common_texts.edit_not_read(in_form=False)
    await sim.settle()
    await db.unchanged()
    (visit,) = await services.storage.visits.with_status(VisitStatus.DENIED)
    assert visit.deny_reason == "NIK tidak cocok dengan KTP"


async def test_a_strangers_edit_gets_nothing_more(sim: BotApiSimulator, app: object) -> None:
    """A stranger was refused when they wrote; their edit is not a second conversation."""
    stranger = sim.user(STRANGER)
    sent = await stranger.send_text("halo, saya mau masuk ruang server")
    await stranger.wait_for(str(STRANGER))
    await sim.settle()
    count = len(stranger.bot_messages)
    db = await watch(app, sim)
    await stranger.edit_text(sent, "3508015507900002")
    await sim.settle()
    await db.unchanged()
    assert len(stranger.bot_messages) == count


async def test_an_edit_whose_answer_fails_to_go_is_still_not_read(
    sim: BotApiSimulator, app: object
) -> None:
    """The gate's answer to an edit fails (Telegram's 5xx outlasting the retries): the error
    is reported, and the edit is still not read as the open question's answer."""
    officer = sim.user(OFFICER)
    await officer.send_text("/daftar")
    await officer.wait_for("foto KTP")
    await officer.send_photo(ktp_image())
    await officer.wait_for("Ketik NIK")
    await officer.send_text(NIK_WOMAN)
    typed = await officer.send_text("Ayu Lestari")
    await officer.wait_for("instansi")
    await sim.settle()
    db = await watch(app, sim)
    sim.faults.inject("500", method="sendMessage", times=4)
    await officer.edit_text(typed, "PT Salah Ketik")
    await officer.wait_for(common_texts.ERROR, timeout=30)
    await sim.settle()
    await db.unchanged(new_outbox=["error"])  # the admins' report of the failure
    assert not [m for m in officer.bot_messages if "surat tugas" in m.text_or_caption]
