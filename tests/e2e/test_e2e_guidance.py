"""What a person meets before and outside the procedure's flows: the bot's description,
/help, a guide instead of "unknown command", and commands that ask for their argument."""

from __future__ import annotations

from bot.app.build import build_application, start_polling, stop_polling
from bot.app.config import Config
from bot.texts import common as common_texts
from simulator import BotApiSimulator
from tests.conftest import APPROVER, ESCORT, OFFICER, FakeClock
from tests.dbstate import watch


async def test_description_is_set_at_start_within_telegrams_limits(
    sim: BotApiSimulator, app: object
) -> None:
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


async def test_help_lists_the_persons_own_commands_and_parts(
    sim: BotApiSimulator, app: object
) -> None:
    """/bantuan shows the procedure to everyone, then each person's own commands (as in
    their menu) and only the parts their roles take part in."""
    officer, escort, head = sim.user(OFFICER), sim.user(ESCORT), sim.user(APPROVER)
    for person in (officer, escort, head):
        await person.send_text("/bantuan")
    said = {p: (await p.wait_for("Cara kerja")).text for p in (officer, escort, head)}
    assert "/batalkan" in said[officer] and "/laporan" in said[officer]
    assert "/jadwal" in said[officer] and "/piket" not in said[officer]
    assert "/piket" in said[escort] and "/kode" in said[escort]
    assert "/jadwal" not in said[escort] and "/blokir" not in said[escort]
    assert "/blokir" in said[head] and "/undang_tamu" not in said[head]
    for text in said.values():
        assert len(text) < 4096  # one message


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


async def test_a_command_without_its_argument_asks_and_takes_the_next_text(
    sim: BotApiSimulator, app: object
) -> None:
    officer, escort = sim.user(OFFICER), sim.user(ESCORT)
    await officer.send_text("/riwayat")
    await officer.wait_for("Ketik NIK atau nama")
    await officer.send_text("Ayu Lestari")
    await officer.wait_for("Tidak ada riwayat kunjungan untuk Ayu Lestari")
    await officer.send_text("Ayu Lestari")  # answered once: the wait is over
    await officer.wait_for("Pilih perintah")

    await escort.send_text("/kode")
    await escort.wait_for("Ketik kode yang tercetak")
    await escort.send_text("abcd efgh")
    await escort.wait_for("tidak dikenal atau palsu")

    await officer.send_text("/laporan")
    prompt = await officer.wait_for("ketik dua tanggal")
    assert prompt.buttons  # the period buttons still answer it too
    await officer.send_text("2026-11-01 28-11-2026")  # either way of writing a date
    await officer.wait_for("Tidak ada permintaan akses pada periode 01-11-2026 s.d. 28-11-2026")

    await officer.send_text("/statistik")
    await officer.wait_for("Statistik standar waktu")
    await officer.send_text("kemarin")
    await officer.wait_for("Tanggal tidak dikenali")


async def test_batal_or_another_command_abandons_the_wait(
    sim: BotApiSimulator, app: object, config: Config, clock: FakeClock
) -> None:
    officer = sim.user(OFFICER)
    db = await watch(app, sim)
    await officer.send_text("/riwayat")
    await officer.wait_for("Ketik NIK")
    await officer.send_text("/batal")
    await officer.wait_for("dibatalkan")
    await officer.send_text("Ayu")
    await officer.wait_for("Pilih perintah")

    await officer.send_text("/laporan")
    await officer.wait_for("ketik dua tanggal")
    await officer.send_text("/aktif")
    await officer.wait_for("Tidak ada pengunjung")
    await officer.send_text("01-11-2026 28-11-2026")
    await officer.wait_for("Pilih perintah")

    # A period button answers the question as well as a typed period would.
    await officer.send_text("/laporan")
    await officer.wait_for("ketik dua tanggal")
    await officer.tap("Hari ini")
    await officer.wait_for("Tidak ada permintaan akses")
    await officer.send_text("Ayu")
    await officer.wait_for("Pilih perintah")
    await db.unchanged()


async def test_the_wait_survives_a_restart(
    sim: BotApiSimulator, config: Config, clock: FakeClock
) -> None:
    app = build_application(config, clock=clock, rate_limit=False)
    await start_polling(app, poll_timeout=1)
    try:
        officer = sim.user(OFFICER)
        await officer.send_text("/riwayat")
        await officer.wait_for("Ketik NIK")
        await sim.settle()
        await stop_polling(app)
        app = build_application(config, clock=clock, rate_limit=False)
        await start_polling(app, poll_timeout=1)
        await officer.send_text("Ayu")
        await officer.wait_for("Tidak ada riwayat kunjungan untuk Ayu")
    finally:
        await stop_polling(app)


async def test_an_unreadable_answer_changes_nothing_and_is_asked_again(
    sim: BotApiSimulator, app: object
) -> None:
    """An answer the command cannot read (a period, a code, a name too short) gets one line
    that says how to write it, changes nothing, and the wait goes on, as BotFather keeps
    asking after an invalid answer: the corrected text is taken as the answer."""
    officer, escort = sim.user(OFFICER), sim.user(ESCORT)
    await officer.send_text("/statistik")
    await officer.wait_for("Statistik standar waktu")
    await escort.send_text("/kode")
    await escort.wait_for("Ketik kode yang tercetak")
    await officer.send_text("/riwayat")  # the officer's wait is now for /riwayat
    await officer.wait_for("Ketik NIK atau nama")
    db = await watch(app, sim)
    await officer.send_text("A")
    await officer.wait_for("Ketik paling sedikit")
    await escort.send_text("bukan kode")
    await escort.wait_for("Kode manual terdiri dari")
    await db.unchanged()
    await escort.send_text("abcd efgh")  # well-formed now: looked up, and not found
    await escort.wait_for("tidak dikenal atau palsu")

    await officer.send_text("/statistik")
    prompt = await officer.wait_for("Statistik standar waktu")
    db = await watch(app, sim)
    for typed, says in (
        ("kemarin", "Tanggal tidak dikenali"),
        ("28-11-2026 01-11-2026", "Tanggal awal harus sebelum"),
    ):
        await officer.send_text(typed)
        error = await officer.wait_for(says)
        assert "\n" not in error.text and not error.buttons
    await db.unchanged()
    assert prompt.buttons  # still the open question
    await officer.send_text("01-11-2026 28-11-2026")
    await officer.wait_for("Tidak ada permintaan akses pada periode 01-11-2026 s.d. 28-11-2026")
    await sim.settle()
    assert prompt.buttons == []  # answered by the typed period: only open questions are live
    await officer.send_text("halo")  # answered: the wait is over
    await officer.wait_for("Pilih perintah")
