"""The KTP reader's own process, through the simulator and the real Application: a read
that runs past the time limit, or a reader that crashes, gives the officer the form's
usual questions (no error), the process is killed, and the next photo is read by a fresh
one. The worker is the real one (tests/ktp_faults.py adds the hang and the crash, on
photos marked for it)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator

import pytest

from bot.app.build import build_application, start_polling, stop_polling
from bot.app.config import Config
from bot.flows import ktp_read
from bot.texts import form as form_texts
from simulator import BotApiSimulator
from tests.conftest import OFFICER, FakeClock
from tests.e2e.test_e2e_ktp_read import CARD, FIXTURES, TRUTH, question, send_card
from tests.ktp_faults import COMMAND, CRASH, HANG
from tests.unit.test_ktp_reader_process import ended, logged


@pytest.fixture
def faulty_reader(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Set before the application starts (it starts the reader process at once)."""
    monkeypatch.setattr(ktp_read.reader, "command", COMMAND)
    yield


async def replacement(pid: int) -> int:
    """The fresh reader process started when process `pid` was killed, once loaded."""
    for _ in range(400):
        if ktp_read.reader.pid is not None:
            break
        await asyncio.sleep(0.05)
    fresh = ktp_read.reader.pid
    assert fresh not in (None, pid)
    await ktp_read.reader.warm()  # a loaded engine: the next read is not a cold start's
    assert ktp_read.reader.pid == fresh
    return fresh


async def read_is_offered_again(sim: BotApiSimulator, pid: int) -> None:
    """/batal, /daftar and the card again: read by the fresh process."""
    fresh = await replacement(pid)
    officer = sim.user(OFFICER)
    await officer.send_text("/batal")
    await officer.wait_for("Pendaftaran dibatalkan")
    await send_card(sim, CARD)
    read = await officer.wait_for("Terbaca dari foto KTP", timeout=15)
    assert f"NIK: {TRUTH[CARD]['nik']}" in read.text_or_caption
    assert ktp_read.reader.pid == fresh


async def send_marked(sim: BotApiSimulator, mark: bytes) -> None:
    officer = sim.user(OFFICER)
    await officer.send_text("/daftar")
    await officer.wait_for(question("ktp"))
    await officer.send_photo((FIXTURES / CARD).read_bytes() + mark)


async def test_a_read_past_the_time_limit_kills_the_reader_and_the_form_asks(
    faulty_reader: None, sim: BotApiSimulator, app: object, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    officer = sim.user(OFFICER)
    await ktp_read.reader.warm()  # loaded: the time limit runs out in the read itself
    pid = ktp_read.reader.pid  # the process the photo goes to
    assert pid is not None
    await send_marked(sim, HANG)
    await officer.wait_for(question("nik"), timeout=15)
    assert await ended(pid)  # not left reading a photo nobody waits for
    texts = [m.text_or_caption for m in officer.bot_messages]
    assert not any("Terbaca" in t or "terjadi kesalahan" in t for t in texts)
    await read_is_offered_again(sim, pid)
    assert TRUTH[CARD]["nik"] not in caplog.text and "KURNIAWAN" not in caplog.text


async def test_a_reader_that_crashes_leaves_the_form_asking_and_the_next_photo_read(
    faulty_reader: None, sim: BotApiSimulator, app: object, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    officer = sim.user(OFFICER)
    await ktp_read.reader.warm()
    pid = ktp_read.reader.pid
    assert pid is not None
    await send_marked(sim, CRASH)
    await officer.wait_for(question("nik"), timeout=15)
    assert await ended(pid)
    texts = [m.text_or_caption for m in officer.bot_messages]
    assert not any("Terbaca" in t or "terjadi kesalahan" in t for t in texts)
    assert await logged(caplog, "signal 11")
    await read_is_offered_again(sim, pid)
    # The form goes on as usual after the fresh read.
    await officer.tap(form_texts.BTN_READ_OK)
    await officer.wait_for("satu pesan")
    assert TRUTH[CARD]["nik"] not in caplog.text and "KURNIAWAN" not in caplog.text


async def test_opening_the_form_starts_a_stopped_reader_before_the_photo(
    sim: BotApiSimulator, app: object
) -> None:
    """After the idle stop, /daftar (whose first question is the photo) starts the reader,
    so it loads while the officer takes the photo instead of after it arrives."""
    await ktp_read.reader.stop()  # as after IDLE_STOP without a photo
    assert ktp_read.reader.pid is None
    officer = sim.user(OFFICER)
    await officer.send_text("/daftar")
    await officer.wait_for(question("ktp"))
    for _ in range(100):
        if ktp_read.reader.pid is not None:
            break
        await asyncio.sleep(0.05)
    assert ktp_read.reader.pid is not None
    await officer.send_photo((FIXTURES / CARD).read_bytes())
    await officer.wait_for("Terbaca dari foto KTP", timeout=15)


async def test_the_reader_process_ends_with_the_bot(
    sim: BotApiSimulator, config: Config, clock: FakeClock
) -> None:
    app = build_application(config, clock=clock, rate_limit=False)
    await start_polling(app, poll_timeout=1)
    try:
        officer = sim.user(OFFICER)
        await ktp_read.reader.warm()  # started with the bot: wait for it to be loaded
        await send_card(sim, CARD)
        await officer.wait_for("Terbaca dari foto KTP", timeout=15)
        pid = ktp_read.reader.pid
        assert pid is not None
    finally:
        await stop_polling(app)  # what systemd's stop (SIGTERM) ends in
    assert ktp_read.reader.pid is None
    assert await ended(pid)
