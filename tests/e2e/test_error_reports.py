"""An unhandled error reaches the admins in their chat: grouped by type and place, at most
one report per group per 30 minutes (with the count since the last one), never with the
error's message or the update (they may hold a NIK or a name), and through the outbox.

The failing handlers are the test's own, registered on the real Application before the
access gate: what is tested is the bot's error handler, not a stand-in for it.
"""

from __future__ import annotations

import sqlite3

from telegram import Update
from telegram.ext import CommandHandler

from bot.app.context import BotContext
from bot.app.errorgroups import REPORT_EVERY
from bot.texts import common as common_texts
from simulator import BotApiSimulator
from tests.conftest import ADMIN, OFFICER, FakeClock
from tests.flows import NIK_WOMAN

NAME = "Siti Aminah"


async def broken_lookup(update: Update, context: BotContext) -> None:
    raise ValueError(f"no visitor with NIK {NIK_WOMAN} ({NAME})")


async def broken_index(update: Update, context: BotContext) -> None:
    raise KeyError(NAME)


def reports(sim: BotApiSimulator) -> list[str]:
    return [
        m.text_or_caption for m in sim.user(ADMIN).bot_messages if "Galat" in m.text_or_caption
    ]


async def test_errors_are_reported_grouped_rate_limited_and_without_personal_data(
    app: object, sim: BotApiSimulator, clock: FakeClock
) -> None:
    app.add_handler(CommandHandler("rusak", broken_lookup), group=-5)  # type: ignore[attr-defined]
    app.add_handler(CommandHandler("rusak2", broken_index), group=-5)  # type: ignore[attr-defined]
    admin, officer = sim.user(ADMIN), sim.user(OFFICER)
    await admin.send_text("/start")  # a bot may only write to people who wrote to it
    await sim.settle()

    await officer.send_text("/rusak")
    await officer.wait_for(common_texts.ERROR)  # the person is told, as before
    first = await admin.wait_for("Galat pada bot")
    assert "ValueError" in first.text_or_caption
    assert "test_error_reports.py:" in first.text_or_caption  # where: file and line
    assert "(broken_lookup)" in first.text_or_caption
    assert "Terjadi 1 kali" in first.text_or_caption

    # The same error again and again within the window: counted, not reported.
    for _ in range(3):
        await officer.send_text("/rusak")
        await officer.wait_for(common_texts.ERROR)
    await sim.settle()
    assert len(reports(sim)) == 1

    # Another kind of error is its own group, reported at once.
    await officer.send_text("/rusak2")
    other = await admin.wait_for("KeyError")
    assert "(broken_index)" in other.text_or_caption
    assert len(reports(sim)) == 2

    # After the window the next one is reported with the count since the last report.
    clock.advance(seconds=REPORT_EVERY.total_seconds() + 1)
    await officer.send_text("/rusak")
    again = await admin.wait_for("ValueError", since=other.seq)
    assert "Terjadi 4 kali sejak laporan terakhir" in again.text_or_caption
    assert len(reports(sim)) == 3

    # Nothing of the message: no NIK (not even masked), no name.
    for text in reports(sim):
        assert NIK_WOMAN not in text and NIK_WOMAN[:4] + "*" not in text
        assert NAME not in text and "Siti" not in text
    # Only admins get it; the officer only the usual apology.
    assert not any("Galat pada bot" in m.text_or_caption for m in officer.bot_messages)

    # Sent through the outbox (kept, retried, in order), and the text forgotten once sent.
    await app.bot_data.delivery.wait_idle()  # type: ignore[attr-defined]
    db = sqlite3.connect(app.bot_data.config.database_path)  # type: ignore[attr-defined]
    try:
        rows = db.execute(
            "SELECT chat_id, status, payload FROM outbox WHERE key LIKE 'error:%'"
        ).fetchall()
    finally:
        db.close()
    assert [(chat, status) for chat, status, _ in rows] == [(ADMIN, "sent")] * 3
    assert all(NIK_WOMAN not in payload for _, _, payload in rows)


async def test_an_error_in_a_job_is_reported_too(
    app: object, sim: BotApiSimulator, clock: FakeClock
) -> None:
    admin = sim.user(ADMIN)
    await admin.send_text("/start")
    await sim.settle()

    async def failing_job(context: BotContext) -> None:
        raise RuntimeError(f"purge failed for {NIK_WOMAN}")

    app.job_queue.run_once(failing_job, when=0.01)  # type: ignore[attr-defined]
    report = await admin.wait_for("RuntimeError")
    assert "(failing_job)" in report.text_or_caption
    assert NIK_WOMAN not in report.text_or_caption
