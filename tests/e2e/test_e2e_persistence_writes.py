"""Issue 13: the persisted conversation is written only when it changed.

PTB hands the persistence every handled person's user data and every conversation state a
handler returned, changed or not; each write re-encrypts the officer's draft. The writes
are counted where they happen: the SQL statements the bot's own SQLite connection runs on
the two tables (a trace callback on the real storage).
"""

from __future__ import annotations

import sqlite3
from collections import Counter

from bot.app.build import build_application, start_polling, stop_polling
from bot.app.config import Config
from bot.app.services import Services
from bot.texts import form as form_texts
from simulator import BotApiSimulator
from tests.conftest import ESCORT, OFFICER, FakeClock
from tests.flows import (
    Visitor,
    act,
    approve,
    at,
    badge_link,
    fill_in,
    ktp_image,
    live_question,
    scan,
)

TABLES = ("user_state", "conversation_state")


class Writes:
    """Statements that write the conversation tables, by table."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()

    def __call__(self, sql: str) -> None:
        words = sql.split()
        if words and words[0].upper() in ("INSERT", "DELETE", "UPDATE", "REPLACE"):
            for table in TABLES:
                if table in sql:
                    self.counts[table] += 1

    def take(self) -> Counter[str]:
        counts, self.counts = self.counts, Counter()
        return counts


async def counted(app: object) -> Writes:
    services: Services = app.bot_data  # type: ignore[attr-defined]
    writes = Writes()
    await services.storage.connection.set_trace_callback(writes)
    return writes


def stored(config: Config) -> tuple[int, int]:
    with sqlite3.connect(f"file:{config.database_path}?mode=ro", uri=True) as raw:
        users = raw.execute("SELECT count(*) FROM user_state").fetchone()[0]
        states = raw.execute("SELECT count(*) FROM conversation_state").fetchone()[0]
    return users, states


async def test_only_changes_are_written_and_a_restart_still_resumes_the_form(
    sim: BotApiSimulator, config: Config, clock: FakeClock
) -> None:
    moves = Visitor().script()
    officer = sim.user(OFFICER)
    app = build_application(config, clock=clock, rate_limit=False)
    await start_polling(app, poll_timeout=1)
    try:
        writes = await counted(app)
        await officer.send_text("/daftar")
        await officer.wait_for(moves[0].asked)
        await sim.settle()
        # The draft and the conversation's state: each written once.
        assert writes.take() == Counter(user_state=1, conversation_state=1)

        # A wrong input changes nothing: nothing is written (it was both, every time).
        await officer.send_text("bukan foto")
        await officer.wait_for("bukan teks")
        await sim.settle()
        assert writes.take() == Counter()

        # Each answer changes the draft only; the state (one for the whole form) stays.
        phone = at(moves, "phone")
        await fill_in(officer, moves[:phone])
        await sim.settle()
        assert writes.take() == Counter(user_state=phone)
        await stop_polling(app)

        # After a restart the form is where it was, and again only changes are written.
        app = build_application(config, clock=clock, rate_limit=False)
        await start_polling(app, poll_timeout=1)
        await officer.wait_for(form_texts.RESUMED)
        await sim.settle()
        writes = await counted(app)
        # The first update after the start writes the draft once: the question was asked
        # again at the start, under a new message id.
        for expected in (Counter(user_state=1), Counter()):
            await officer.send_photo(ktp_image())
            await officer.wait_for("jawaban yang diketik")
            await sim.settle()
            assert writes.take() == expected
        summary = await fill_in(officer, moves[phone:])
        await officer.tap(form_texts.BTN_SUBMIT, summary)
        await officer.wait_for("terkirim")
        await sim.settle()
        counts = writes.take()
        # Every answer and the submit change the draft; the submit also ends the form.
        assert counts["user_state"] == len(moves) - phone + 1, counts
        assert counts["conversation_state"] == 1, counts
        assert stored(config) == (0, 0)

        # The section head, the escort and the officer's notices change no conversation.
        await approve(sim)
        link = badge_link(sim)
        await scan(sim, link)
        escort = sim.user(ESCORT)
        await escort.tap("Catat MASUK")
        await escort.wait_for("MASUK tercatat")
        await sim.settle()
        assert writes.take() == Counter()
    finally:
        await stop_polling(app)


async def test_a_form_answer_is_kept_across_a_restart(
    sim: BotApiSimulator, config: Config, clock: FakeClock
) -> None:
    """A change made right after the start (from the stored draft) is written: what was
    read at start counts as stored, not as written."""
    moves = Visitor().script()
    officer = sim.user(OFFICER)
    app = build_application(config, clock=clock, rate_limit=False)
    await start_polling(app, poll_timeout=1)
    try:
        await officer.send_text("/daftar")
        await officer.wait_for(moves[0].asked)
        await fill_in(officer, moves[: at(moves, "name")])
        await sim.settle()
        await stop_polling(app)
        app = build_application(config, clock=clock, rate_limit=False)
        await start_polling(app, poll_timeout=1)
        await officer.wait_for(form_texts.RESUMED)
        await act(officer, moves[at(moves, "name")])
        await officer.wait_for(moves[at(moves, "name")].then)
        await sim.settle()
        await stop_polling(app)
        app = build_application(config, clock=clock, rate_limit=False)
        await start_polling(app, poll_timeout=1)
        await officer.wait_for(form_texts.RESUMED)
        await sim.settle()
        # The answer given after the first restart is there: the form asks the next one.
        live_question(officer, moves[at(moves, "name")].then)
    finally:
        await stop_polling(app)
