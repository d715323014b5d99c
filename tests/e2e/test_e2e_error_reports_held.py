"""An error that happened again within its report's window, then stopped, still reaches the
admins: the deadline job sends what the window held back once it has passed. The failing
handler is the test's own, on the real Application; the report is the bot's."""

from __future__ import annotations

from typing import Any

from telegram import Update
from telegram.ext import CommandHandler

from bot.app.context import BotContext
from bot.app.errorgroups import REPORT_EVERY
from bot.texts import common as common_texts
from simulator import BotApiSimulator
from tests.conftest import ADMIN, OFFICER, FakeClock
from tests.flows import NIK_WOMAN


async def broken(update: Update, context: BotContext) -> None:
    raise ValueError(f"no visitor with NIK {NIK_WOMAN}")


def reports(sim: BotApiSimulator) -> list[str]:
    return [
        m.text_or_caption for m in sim.user(ADMIN).bot_messages if "Galat" in m.text_or_caption
    ]


async def deadline_job(app: Any, sim: BotApiSimulator) -> None:
    (job,) = [j for j in app.job_queue.jobs() if j.name == "deadline_job"]
    await job.run(app)
    await app.bot_data.delivery.wait_idle()
    await sim.settle()


async def test_errors_held_in_a_window_are_reported_when_it_passes(
    app: Any, sim: BotApiSimulator, clock: FakeClock
) -> None:
    app.add_handler(CommandHandler("rusak", broken), group=-5)
    admin, officer = sim.user(ADMIN), sim.user(OFFICER)
    await admin.send_text("/start")
    await sim.settle()
    await officer.send_text("/rusak")
    await officer.wait_for(common_texts.ERROR)
    first = await admin.wait_for("Galat pada bot")
    assert "Terjadi 1 kali" in first.text_or_caption
    for _ in range(2):  # twice more within the window, then never again
        clock.advance(minutes=5)
        await officer.send_text("/rusak")
        await officer.wait_for(common_texts.ERROR)
    await deadline_job(app, sim)  # the window still runs: nothing yet
    assert len(reports(sim)) == 1

    clock.advance(seconds=REPORT_EVERY.total_seconds() - 10 * 60)  # 30 minutes after the first
    await deadline_job(app, sim)
    held = await admin.wait_for("kali lagi", since=first.seq)
    assert "Terjadi 2 kali lagi sejak laporan pukul 09:00 WIB" in held.text_or_caption
    assert "terakhir pukul 09:10 WIB" in held.text_or_caption
    assert "ValueError" in held.text_or_caption and NIK_WOMAN not in held.text_or_caption
    clock.advance(hours=2)
    await deadline_job(app, sim)
    assert len(reports(sim)) == 2  # reported once
