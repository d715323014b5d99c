"""Fault injection: PTB sees the same exceptions it would see from a misbehaving Telegram."""

import asyncio
import datetime as dtm

import pytest
from telegram import Bot
from telegram.error import NetworkError, RetryAfter, TimedOut
from telegram.request import HTTPXRequest

from simulator import BotApiSimulator, Faults

USER = 1001


@pytest.fixture
async def sim():
    simulator = BotApiSimulator()
    await simulator.start()
    simulator.add_user(USER, "Sari")
    yield simulator
    await simulator.stop()


@pytest.fixture
async def bot(sim):
    # A short read timeout so the "timeout" fault (held for 1 s) is seen quickly.
    request = HTTPXRequest(httpx_kwargs={"trust_env": False}, read_timeout=0.3)
    async with Bot(
        sim.token, base_url=sim.base_url, base_file_url=sim.base_file_url, request=request
    ) as telegram_bot:
        yield telegram_bot


def texts(sim) -> list[str]:
    return [m.text for m in sim.user(USER).messages]


async def test_429_raises_retry_after_and_sends_nothing(bot, sim, monkeypatch):
    # PTB 22 warns about int retry_after unless opted in; warnings are errors here.
    monkeypatch.setenv("PTB_TIMEDELTA", "1")
    sim.faults = Faults(rate=1, kinds={"429"}, retry_after=3)
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(USER, "x")
    assert caught.value.retry_after == dtm.timedelta(seconds=3)
    assert texts(sim) == [] and sim.faults.counts == {"429": 1}


@pytest.mark.parametrize("kind", ["500", "502", "drop"])
async def test_server_errors_and_drops_raise_network_error_and_send_nothing(bot, sim, kind):
    sim.faults = Faults(rate=1, kinds={kind})
    with pytest.raises(NetworkError) as caught:
        await bot.send_message(USER, "x")
    assert not isinstance(caught.value, TimedOut)
    assert texts(sim) == []
    assert sim.faults.counts[kind] == 1
    sim.faults.rate = 0
    await bot.send_message(USER, "after")
    assert texts(sim) == ["after"]


async def test_timeout_raises_timed_out_but_the_message_exists(bot, sim):
    sim.faults = Faults(rate=1, kinds={"timeout"}, timeout_delay=1.0)
    with pytest.raises(TimedOut):
        await bot.send_message(USER, "sent anyway")
    assert texts(sim) == ["sent anyway"]
    assert sim.faults.counts == {"timeout": 1}


async def test_methods_exclude_latency_and_scripted_faults(bot, sim, monkeypatch):
    monkeypatch.setenv("PTB_TIMEDELTA", "1")
    sim.faults = Faults(rate=1, kinds={"500"}, methods={"editMessageText"})
    sent = await bot.send_message(USER, "ok")  # not a targeted method
    with pytest.raises(NetworkError):
        await bot.edit_message_text("new", USER, sent.message_id)

    sim.faults = Faults(rate=1, kinds={"500"}, exclude={"getUpdates"})
    assert await bot.get_updates() == ()

    sim.faults = Faults(latency=0.15)
    loop = asyncio.get_running_loop()
    started = loop.time()
    await bot.get_me()
    assert loop.time() - started >= 0.15

    sim.faults = Faults()
    sim.faults.inject("429", method="sendMessage")
    await bot.send_chat_action(USER, "typing")  # not the scripted method
    with pytest.raises(RetryAfter):
        await bot.send_message(USER, "x")
    await bot.send_message(USER, "y")
    assert texts(sim) == ["ok", "y"]


def test_seeded_faults_are_reproducible():
    def run() -> list[str | None]:
        faults = Faults(rate=0.5, seed=7)
        return [faults.decide("sendMessage") for _ in range(50)]

    first = run()
    assert first == run()
    assert 10 < sum(kind is not None for kind in first) < 40
    with pytest.raises(ValueError, match="unknown fault kinds"):
        Faults(kinds={"404"})


async def test_polling_application_recovers_from_get_updates_faults(sim):
    from telegram.ext import ApplicationBuilder, MessageHandler, filters

    async def echo(update, context):
        await update.message.reply_text(f"echo {update.message.text}")

    app = (
        ApplicationBuilder()
        .token(sim.token)
        .base_url(sim.base_url)
        .request(HTTPXRequest(httpx_kwargs={"trust_env": False}))
        .get_updates_request(HTTPXRequest(httpx_kwargs={"trust_env": False}))
        .job_queue(None)
        .build()
    )
    app.add_handler(MessageHandler(filters.TEXT, echo))
    await app.initialize()
    await app.start()
    await app.updater.start_polling(poll_interval=0, timeout=1)
    try:
        sim.faults.inject("drop", method="getUpdates")
        sim.faults.inject("502", method="getUpdates")
        await sim.user(USER).send_text("halo")
        reply = await sim.user(USER).wait_for("echo halo", timeout=8)
        assert reply.text == "echo halo"
        assert sim.faults.counts == {"drop": 1, "502": 1}
    finally:
        await app.updater.stop()
        await app.stop()
        await app.shutdown()
