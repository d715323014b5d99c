"""A tap's answer (answerCallbackQuery) goes out beside what the tap changes, not before
it (handlers/edits.py ``answer_tap``): with Telegram 100-200 ms away, a tap costs one
round trip instead of two, and a failed answer only leaves the phone's spinner to time out.
"""

from __future__ import annotations

from bot.texts import common as common_texts
from bot.texts import form as form_texts
from simulator import BotApiSimulator, Faults
from tests.conftest import OFFICER
from tests.flows import Visitor, fill_in, register


async def test_a_taps_edit_does_not_wait_for_its_answer(sim: BotApiSimulator, app: object) -> None:
    moves = Visitor().script()
    officer = sim.user(OFFICER)
    await officer.send_text("/daftar")
    await officer.wait_for(moves[0].asked)
    summary = await fill_in(officer, moves, 10.0)
    # Telegram slow to take the tap's answer only.
    sim.faults = Faults(latency=2.0, methods={"answerCallbackQuery"})
    tap = await officer.tap(form_texts.BTN_SUBMIT, summary)
    await officer.wait_for("terkirim", timeout=1.5)  # the receipt, before the answer's 2 s
    assert tap.answer is None  # still on its way
    sim.faults = Faults()
    await sim.settle()


async def test_a_tap_whose_answer_fails_still_does_its_work(
    sim: BotApiSimulator, app: object
) -> None:
    # Every answerCallbackQuery fails (after the client's retries): the form goes on.
    sim.faults = Faults(rate=1.0, kinds={"500"}, methods={"answerCallbackQuery"})
    await register(sim, timeout=20)
    texts = [m.text_or_caption for m in sim.user(OFFICER).bot_messages]
    assert not any(common_texts.ERROR in t for t in texts)
    sim.faults = Faults()
