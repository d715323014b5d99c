"""What a person meets before and outside the procedure's flows: the bot's description,
/help, a guide instead of "unknown command", and commands that ask for their argument."""

from __future__ import annotations

from simulator import BotApiSimulator
from tests.conftest import ESCORT, OFFICER
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


async def test_free_text_gets_a_guide_to_the_persons_own_commands(
    sim: BotApiSimulator, app: object
) -> None:
    db = await watch(app, sim)
    officer, escort = sim.user(OFFICER), sim.user(ESCORT)
    await officer.send_text("halo")
    guide = await officer.wait_for("Pilih perintah")
    assert "tidak dikenal" not in guide.text
    assert "/daftar — Daftarkan pengunjung baru" in guide.text and "/kode" not in guide.text
    await escort.send_text("halo")
    guide = await escort.wait_for("Pilih perintah")
    assert "/kode — Masukkan kode manual badge" in guide.text and "/daftar" not in guide.text
    # An unknown command is still called one, with the same guide.
    await escort.send_text("/hapus")
    reply = await escort.wait_for("Perintah tidak dikenal")
    assert reply.text.splitlines()[1:] == guide.text.splitlines()
    await db.unchanged()
