"""Nothing lost on a restart: a half-filled form, a pending deny reason, undelivered messages."""

from __future__ import annotations

from bot.app.build import build_application, start_polling, stop_polling
from bot.app.config import Config
from bot.core.visits import VisitStatus
from simulator import BotApiSimulator, Faults
from tests.conftest import APPROVER, OFFICER, FakeClock
from tests.flows import NIK_WOMAN, ktp_image, register


async def restart(app: object, config: Config, clock: FakeClock) -> object:
    await stop_polling(app)  # type: ignore[arg-type]
    fresh = build_application(config, clock=clock, rate_limit=False, retry_base=0.05)
    await start_polling(fresh, poll_timeout=1)
    return fresh


async def test_half_filled_form_survives_a_restart(
    sim: BotApiSimulator, config: Config, clock: FakeClock
) -> None:
    app = build_application(config, clock=clock, rate_limit=False)
    await start_polling(app, poll_timeout=1)
    officer = sim.user(OFFICER)
    await officer.send_text("/daftar")
    await officer.wait_for("foto KTP")
    await officer.send_photo(ktp_image())
    await officer.wait_for("NIK")
    await officer.send_text(NIK_WOMAN)
    await officer.wait_for("nama lengkap")
    raw = (
        config.database_path.read_bytes()
        + config.database_path.with_name(config.database_path.name + "-wal").read_bytes()
    )
    assert NIK_WOMAN.encode() not in raw  # the draft is stored encrypted

    app = await restart(app, config, clock)
    try:
        await officer.wait_for("dimulai ulang", since=0)
        await officer.wait_for("nama lengkap")
        for answer, question in [
            ("Ayu Lestari", "instansi"),
            ("PT A", "nomor HP"),
            ("081234567890", "keperluan"),
            ("Ganti UPS", "Berapa lama"),
            ("30", "Perangkat yang dibawa"),
            ("Laptop", "Periksa data pengunjung"),
        ]:
            await officer.send_text(answer)
            await officer.wait_for(question)
        await officer.tap("Kirim ke Kepala Seksi")
        await officer.wait_for("terkirim")
        (visit,) = await app.bot_data.storage.visits.with_status(VisitStatus.PENDING)  # type: ignore[attr-defined]
        assert visit.nik == NIK_WOMAN and visit.name == "Ayu Lestari"
    finally:
        await stop_polling(app)  # type: ignore[arg-type]


async def test_deny_reason_and_undelivered_messages_survive_a_restart(
    sim: BotApiSimulator, config: Config, clock: FakeClock
) -> None:
    app = build_application(config, clock=clock, rate_limit=False, retry_base=0.05)
    await start_polling(app, poll_timeout=1)
    await register(sim)
    approver = sim.user(APPROVER)
    await approver.wait_for("Permintaan akses")
    await approver.tap("Tolak")
    await approver.wait_for("alasan penolakan")
    app = await restart(app, config, clock)
    try:
        # Telegram is down for the officer: the decision is taken, the notice waits.
        sim.faults = Faults(rate=1.0, kinds={"502"}, methods={"sendMessage"})
        await approver.send_text("Tidak ada jadwal")
        await sim.settle()
        visit = (await app.bot_data.storage.visits.with_status(VisitStatus.DENIED))[0]  # type: ignore[attr-defined]
        assert visit.deny_reason == "Tidak ada jadwal"
        app = await restart(app, config, clock)
        sim.faults = Faults()
        notice = await sim.user(OFFICER).wait_for("ditolak", since=0)
        assert "Tidak ada jadwal" in notice.text_or_caption
    finally:
        sim.faults = Faults()
        await stop_polling(app)  # type: ignore[arg-type]
