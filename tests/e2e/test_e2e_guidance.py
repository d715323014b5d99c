"""What a person meets before and outside the procedure's flows: the bot's description,
/help, a guide instead of "unknown command", and commands that ask for their argument."""

from __future__ import annotations

from simulator import BotApiSimulator
from tests.conftest import OFFICER
from tests.dbstate import watch


async def test_description_is_set_at_start_within_telegrams_limits(
    sim: BotApiSimulator, app: object
) -> None:
    from bot.texts import common as common_texts

    description = sim.state.descriptions[""]
    short = sim.state.short_descriptions[""]
    assert description == common_texts.DESCRIPTION and len(description) <= 512
    assert short == common_texts.SHORT_DESCRIPTION and len(short) <= 120
    assert "Diskominfo" in description and "ruang server" in short


async def test_help_answers_like_bantuan(sim: BotApiSimulator, app: object) -> None:
    officer = sim.user(OFFICER)
    db = await watch(app, sim)
    await officer.send_text("/bantuan")
    bantuan = await officer.wait_for("Cara kerja")
    await officer.send_text("/help")
    help_ = await officer.wait_for("Cara kerja")
    assert help_.message_id != bantuan.message_id and help_.text == bantuan.text
    await db.unchanged()
