"""The server-room rules (tata tertib) in the form: off by default, a required step when on."""

from __future__ import annotations

import dataclasses
from dataclasses import asdict

import pytest

from bot.app.config import Config, Rules
from bot.app.services import Services
from bot.core.form import DECLARED, RULES
from bot.core.visits import VisitStatus
from bot.texts import form as form_texts
from simulator import BotApiSimulator
from tests.conftest import APPROVER, OFFICER, FakeClock
from tests.dbstate import watch
from tests.flows import Visitor, at, fill_in, live_question, one_line_error, register

RULES_TEXT = "1. Badge dipakai selama di ruang server.\n2. Dilarang makan & minum <di dalam>."


@pytest.fixture
def rules_on() -> bool:
    return False  # a test switches them on with @pytest.mark.parametrize("rules_on", [True])


@pytest.fixture
def config(config: Config, rules_on: bool) -> Config:
    """The shared config, with the rules switched on for the tests that ask for them."""
    if not rules_on:
        return config
    return dataclasses.replace(config, rules=Rules(enabled=True, text=RULES_TEXT))


async def test_rules_are_not_asked_by_default(
    sim: BotApiSimulator, app: object, services: Services
) -> None:
    assert not services.config.rules.enabled
    await register(sim)
    officer = sim.user(OFFICER)
    assert not any("Tata tertib" in m.text_or_caption for m in officer.bot_messages)
    (visit,) = await services.storage.visits.with_status(VisitStatus.PENDING)
    assert visit.rules_agreed_at is None
    card = await sim.user(APPROVER).wait_for("Permintaan akses ruang server")
    assert "Tata tertib" not in card.text_or_caption


def rules_script() -> list:  # type: ignore[type-arg]
    values = {**asdict(Visitor()), "rules": form_texts.BTN_RULES_AGREED}
    return form_texts.script(values, DECLARED.enabled({RULES}))


@pytest.mark.parametrize("rules_on", [True])
async def test_rules_step_is_required_and_its_time_recorded(
    sim: BotApiSimulator, app: object, services: Services, clock: FakeClock
) -> None:
    moves = rules_script()
    rules = at(moves, "rules")
    assert rules == len(moves) - 1  # the last step, before the summary
    officer = sim.user(OFFICER)
    await officer.send_text("/daftar")
    await officer.wait_for(moves[0].asked)
    asked = await fill_in(officer, moves[:rules])
    assert "Langkah 10/10" in asked.text_or_caption
    assert "Dilarang makan & minum <di dalam>." in asked.text_or_caption  # escaped, shown
    assert live_question(officer, "Tata tertib").buttons[0] == [form_texts.BTN_RULES_AGREED]

    # Typed answers are refused, even a time: only the button agrees. Nothing is stored.
    db = await watch(app, sim)
    for typed in ("setuju", "2026-11-28T09:00:00+07:00"):
        await officer.send_text(typed)
        await one_line_error(officer, "Langkah ini dijawab dengan tombol", "Tata tertib")
    await db.unchanged()
    assert await services.storage.visits.with_status(*VisitStatus) == []

    # The summary cannot be reached without it: Back and the edit buttons lead through it.
    clock.advance(minutes=3)  # 09:03 WIB
    _first, second = await officer.double_tap(form_texts.BTN_RULES_AGREED)
    summary = await officer.wait_for(form_texts.SUMMARY_TITLE)
    assert second.answer is None or "kesalahan" not in (second.answer.text or "")
    assert "Tata tertib: ✅ disetujui 28-11-2026 09:03" in summary.text_or_caption
    assert form_texts.FIELDS["rules"].button in [b for row in summary.buttons for b in row]
    await officer.tap(form_texts.BTN_SUBMIT, summary)
    await officer.wait_for("terkirim")
    (visit,) = await services.storage.visits.with_status(VisitStatus.PENDING)
    assert visit.rules_agreed_at == "2026-11-28T09:03:00+07:00"
    card = await sim.user(APPROVER).wait_for("Permintaan akses ruang server")
    assert "Tata tertib: ✅ disetujui 28-11-2026 09:03" in card.text_or_caption
    await officer.send_text("/riwayat Ayu")
    history = await officer.wait_for("Ayu Lestari")
    assert "Tata tertib disetujui 28-11 09:03" in history.text_or_caption
