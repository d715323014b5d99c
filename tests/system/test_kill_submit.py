"""Killed after the request is stored and before the officer's conversation is: the Kirim
tap is handled again at start (bot/app/intake.py), and the form's key finds the request it
stored. One request, one card per section head, and the officer gets the receipt."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from bot.texts import form as form_texts
from simulator import BotApiSimulator, Faults
from tests.conftest import APPROVER, OFFICER
from tests.flows import Visitor, fill_in
from tests.system.test_kill import BotProcess, status, write_config


def cards_sent(db: Path) -> bool:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as raw:
        states = [r[0] for r in raw.execute("SELECT status FROM outbox WHERE kind = 'card'")]
    return bool(states) and all(state == "sent" for state in states)


async def test_a_submit_replayed_after_a_kill_stores_one_request(
    tmp_path: Path, sim: BotApiSimulator
) -> None:
    config = write_config(tmp_path, sim)
    db = tmp_path / "data" / "akses.sqlite3"
    bot = BotProcess(sim, config)
    await bot.start()
    officer = sim.user(OFFICER)
    try:
        visitor = Visitor()
        moves = visitor.script()
        await officer.send_text("/daftar")
        await officer.wait_for(moves[0].asked, timeout=20)
        summary = await fill_in(officer, moves, 20.0)
        # Telegram slow to take the receipt's edit: the request is stored, the handler
        # has not returned, so the conversation still says "at the summary".
        sim.faults = Faults(latency=30.0, methods={"editMessageText"})
        await officer.tap(form_texts.BTN_SUBMIT, summary)
        for _ in range(400):
            if status(db, visitor.name) is not None and cards_sent(db):
                break
            await asyncio.sleep(0.05)
        assert status(db, visitor.name) == "pending"
        # Killed once the card is out and recorded: a kill between Telegram taking a message
        # and the outbox marking it sends it again after the restart (at least once, as the
        # Bot API has no idempotency key), which is not what this test is about.
        assert cards_sent(db)
        bot.kill()
        sim.faults = Faults()
        await bot.start()
        receipt = await officer.wait_for("terkirim ke", timeout=20)
        assert not receipt.buttons
        await sim.user(APPROVER).wait_for("Permintaan akses ruang server", timeout=20)
        await sim.settle(quiet=0.5, timeout=20)
    finally:
        bot.kill()
    with sqlite3.connect(db) as raw:
        visits = raw.execute("SELECT COUNT(*) FROM visits").fetchone()[0]
        submits = raw.execute(
            "SELECT COUNT(*) FROM audit_events WHERE action = 'submit'"
        ).fetchone()[0]
        cards = raw.execute("SELECT COUNT(*) FROM outbox WHERE kind = 'card'").fetchone()[0]
    assert (visits, submits, cards) == (1, 1, 1)
    assert len([m for m in sim.user(APPROVER).bot_messages if m.buttons]) == 1
