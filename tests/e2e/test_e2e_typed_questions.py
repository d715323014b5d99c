"""A question answered by typing has no buttons (issue 13): its text ends with the
commands /kembali and /batal, which Telegram shows as links that send themselves. A typed
answer then costs one call (the next question), and no answered question keeps live
buttons. /kembali does what « Kembali does; the link tapped twice goes back once."""

from __future__ import annotations

from bot.core.form import FORM, INVITE_FORM, PLAN_FORM
from bot.texts import common as common_texts
from bot.texts import form as form_texts
from simulator import BotApiSimulator, Faults, SimMessage, SimUser
from tests.conftest import OFFICER, STRANGER, FakeClock
from tests.dbstate import watch
from tests.e2e.test_e2e_planned import TOMORROW
from tests.e2e.test_e2e_selfreg import make_link
from tests.flows import NIK_WOMAN, Visitor, act, at, fill_in, ktp_image, live_question

KTP = form_texts.plain(form_texts.question(FORM.fields[0], FORM))
NIK = form_texts.plain(form_texts.question(FORM.fields[1], FORM))
NAME = form_texts.plain(form_texts.question(FORM.fields[2], FORM))


def asked_count(person: SimUser, asked: str) -> int:
    return sum(asked in m.text_or_caption for m in person.bot_messages)


def live(person: SimUser) -> list[int]:
    return [m.message_id for m in person.bot_messages if m.buttons and not m.deleted]


async def to_name(sim: BotApiSimulator) -> SimUser:
    officer = sim.user(OFFICER)
    await officer.send_text("/daftar")
    await officer.wait_for(KTP)
    await officer.send_photo(ktp_image())
    await officer.wait_for(NIK)
    await officer.send_text(NIK_WOMAN)
    await officer.wait_for(NAME)
    await sim.settle()
    return officer


async def test_a_typed_question_has_no_buttons_and_ends_with_the_commands(
    sim: BotApiSimulator, app: object
) -> None:
    officer = sim.user(OFFICER)
    moves = Visitor().script()
    await officer.send_text("/daftar")
    first = await officer.wait_for(moves[0].asked)
    # The first step has nothing before it: /batal only.
    assert not first.buttons
    assert first.text_or_caption.endswith(form_texts.CANCEL_COMMAND)
    assert "/kembali" not in first.text_or_caption
    for move in moves:
        question = live_question(officer, move.asked)
        field = FORM.get(move.field)
        assert field is not None
        typed = not form_texts.FIELDS[field.name].suggested and not field.optional
        if typed:
            assert not question.buttons, question
            assert form_texts.CANCEL_COMMAND in question.text_or_caption
            if field.name != FORM.first:
                assert form_texts.GO_BACK in question.text_or_caption
        else:  # suggested answers or "none": the buttons, « Kembali and ✖ Batal with them
            labels = [b for row in question.buttons for b in row]
            assert form_texts.BTN_BACK in labels and form_texts.BTN_CANCEL in labels
            assert "/kembali" not in question.text_or_caption
        await fill_in(officer, [move])
    summary = live_question(officer, form_texts.SUMMARY_TITLE)
    # From the summary, a typed field's question leads back to the summary.
    await officer.tap(form_texts.FIELDS["name"].button, summary)
    again = await officer.wait_for(moves[at(moves, "name")].asked)
    assert not again.buttons
    assert form_texts.GO_BACK_TO_SUMMARY in again.text_or_caption
    await officer.send_text("/kembali")
    await officer.wait_for(form_texts.SUMMARY_TITLE)


async def test_kembali_goes_back_one_step_from_a_typed_question(
    sim: BotApiSimulator, app: object
) -> None:
    officer = await to_name(sim)
    await officer.send_text("/kembali")
    nik = await officer.wait_for(NIK)
    await sim.settle()
    assert officer.bot_messages[-1] is nik and asked_count(officer, NIK) == 2
    await officer.send_text(NIK_WOMAN)
    await officer.wait_for(NAME)


async def test_kembali_goes_back_one_step_from_a_button_question(
    sim: BotApiSimulator, app: object
) -> None:
    officer = sim.user(OFFICER)
    moves = Visitor().script()
    purpose = at(moves, "purpose")
    await officer.send_text("/daftar")
    await officer.wait_for(moves[0].asked)
    await fill_in(officer, moves[:purpose])
    question = live_question(officer, moves[purpose].asked)
    assert question.buttons
    await officer.send_text("/kembali")
    phone = await officer.wait_for(moves[purpose - 1].asked)
    await sim.settle()
    # The purpose question's buttons went; the phone question (typed) has none.
    assert live(officer) == [] and not phone.buttons
    await act(officer, moves[purpose - 1])
    await officer.wait_for(moves[purpose].asked)
    assert live_question(officer, moves[purpose].asked).buttons


async def test_the_kembali_link_tapped_twice_goes_back_once(
    sim: BotApiSimulator, app: object, clock: FakeClock
) -> None:
    officer = await to_name(sim)
    seen = len(officer.bot_messages)
    # Two /kembali before the bot answered the first: one step back, nothing else said.
    await officer.send_text("/kembali")
    await officer.send_text("/kembali")
    await officer.wait_for(NIK)
    await sim.settle()
    assert len(officer.bot_messages) == seen + 1
    assert NIK in officer.bot_messages[-1].text_or_caption
    # Within the two seconds, still the same tap; after them, a /kembali of its own.
    clock.advance(seconds=1)
    db = await watch(app, sim)
    await officer.send_text("/kembali")
    await sim.settle()
    assert len(officer.bot_messages) == seen + 1
    await db.unchanged()
    clock.advance(seconds=2)
    await officer.send_text("/kembali")
    await officer.wait_for(KTP)
    await sim.settle()
    assert len(officer.bot_messages) == seen + 2


async def test_kembali_outside_a_form_says_there_is_none(
    sim: BotApiSimulator, app: object
) -> None:
    officer = sim.user(OFFICER)
    db = await watch(app, sim)
    await officer.send_text("/kembali")
    said = await officer.wait_for(form_texts.NOTHING_TO_GO_BACK)
    assert "\n" not in said.text_or_caption
    # And after a form was cancelled by its /batal link.
    await officer.send_text("/daftar")
    await officer.wait_for(KTP)
    await officer.send_text("/batal")
    await officer.wait_for(form_texts.CANCELLED)
    await officer.send_text("/kembali")
    await officer.wait_for(form_texts.NOTHING_TO_GO_BACK)
    await db.unchanged()


async def test_after_a_whole_form_only_the_current_question_is_live(
    sim: BotApiSimulator, app: object
) -> None:
    officer = sim.user(OFFICER)
    moves = Visitor(equipment="Laptop").script()
    await officer.send_text("/daftar")
    await officer.wait_for(moves[0].asked)
    for move in moves:
        await fill_in(officer, [move])
        await sim.settle()
        newest = officer.bot_messages[-1]
        assert live(officer) in ([], [newest.message_id]), move.field
    summary = officer.bot_messages[-1]
    assert live(officer) == [summary.message_id]
    await officer.tap(form_texts.BTN_SUBMIT, summary)
    await officer.wait_for("terkirim")
    await sim.settle()
    assert live(officer) == []


async def test_kembali_in_the_planning_form_and_the_visitors_own_form(
    sim: BotApiSimulator, app: object
) -> None:
    officer = sim.user(OFFICER)
    day_asked, window_asked = (
        form_texts.plain(form_texts.question(field, PLAN_FORM)) for field in PLAN_FORM.fields[:2]
    )
    await officer.send_text("/jadwal")
    day = await officer.wait_for(day_asked)
    assert not day.buttons and "/kembali" not in day.text_or_caption
    await officer.send_text(TOMORROW)
    await officer.wait_for(window_asked)
    window = live_question(officer, window_asked)
    assert window.buttons and form_texts.BTN_BACK in str(window.buttons)
    await officer.send_text("/kembali")
    await officer.wait_for(day_asked)
    await officer.send_text("/batal")
    await officer.wait_for("dibatalkan")

    # A visitor with a self-registration link may send /kembali in their own form.
    assert INVITE_FORM.first == "planned_date"
    payload = await make_link(sim)
    guest = sim.user(STRANGER)
    await guest.send_text(f"/start {payload}")
    own_ktp = form_texts.plain(form_texts.question(FORM.fields[0], FORM, visitor=True))
    await guest.wait_for(own_ktp)
    await guest.send_photo(ktp_image())
    await guest.wait_for(NIK)
    await guest.send_text("/kembali")
    await guest.wait_for(own_ktp)
    await guest.send_text("/batal")
    await guest.wait_for("dibatalkan")


async def _up_to_equipment(sim: BotApiSimulator) -> tuple[SimUser, Visitor]:
    """The form filled in up to the equipment question (it has "Tidak membawa perangkat")."""
    officer = sim.user(OFFICER)
    visitor = Visitor(equipment="Laptop")
    moves = visitor.script()
    await officer.send_text("/daftar")
    await officer.wait_for(moves[0].asked)
    await fill_in(officer, moves[: at(moves, "equipment")])
    await sim.settle()
    return officer, visitor


async def test_a_typed_answer_drops_the_buttons_beside_the_next_question(
    sim: BotApiSimulator, app: object
) -> None:
    """Typing the equipment drops its question's buttons and asks for the summary in one
    round trip: the summary does not wait for the drop (Telegram slow to edit here)."""
    officer, visitor = await _up_to_equipment(sim)
    question = live_question(officer, visitor.script()[at(visitor.script(), "equipment")].asked)
    assert question.buttons
    sim.faults = Faults(latency=1.0, methods={"editMessageReplyMarkup"})
    await officer.send_text("Laptop")
    await officer.wait_for(predicate=lambda m: _has(m, form_texts.BTN_SUBMIT))
    assert question.buttons  # the summary came first: the drop is still on its way
    await sim.settle(timeout=10)
    assert not question.buttons


async def test_a_drop_telegram_refuses_does_not_stop_the_form(
    sim: BotApiSimulator, app: object
) -> None:
    officer, visitor = await _up_to_equipment(sim)
    question = live_question(officer, visitor.script()[at(visitor.script(), "equipment")].asked)
    sim.faults = Faults(rate=1.0, kinds={"500"}, methods={"editMessageReplyMarkup"})
    await officer.send_text("Laptop")
    summary = await officer.wait_for(predicate=lambda m: _has(m, form_texts.BTN_SUBMIT))
    await sim.settle(timeout=20)
    assert not any(common_texts.ERROR in m.text_or_caption for m in officer.bot_messages)
    sim.faults = Faults()
    # The old buttons stayed (Telegram refused every try); a tap on them is stale, and the
    # form goes on from the summary.
    assert question.buttons
    await officer.tap(form_texts.BTN_SUBMIT, summary)
    await officer.wait_for("terkirim")


def _has(message: SimMessage, label: str) -> bool:
    return any(label in button for row in message.buttons for button in row)
