"""UpdateTimer: from getUpdates offering an update to the bot's first call answering it."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from simulator import BotApiSimulator
from simulator.timing import UpdateTimer

OFFICER, APPROVER = 1001, 2001


class Ticks:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        self.now += 1.0
        return self.now


@pytest.fixture
async def sim():
    simulator = BotApiSimulator()
    await simulator.start()
    simulator.add_user(OFFICER, "Sari")
    simulator.add_user(APPROVER, "Budi")
    yield simulator
    await simulator.stop()


@pytest.fixture
async def api(sim):
    async with httpx.AsyncClient(base_url=f"{sim.base_url}{sim.token}/", trust_env=False) as c:
        yield c


async def call(api: httpx.AsyncClient, method: str, **params: object) -> object:
    body = (await api.post(method, json=params)).json()
    assert body["ok"], body
    return body["result"]


async def test_message_is_answered_by_the_first_call_to_its_chat(sim, api):
    timer = sim.update_timer = UpdateTimer(clock=Ticks())
    await sim.user(OFFICER).send_text("/daftar")
    updates = await call(api, "getUpdates")
    # A re-delivery (offset not confirmed yet) does not restart the clock.
    assert await call(api, "getUpdates") == updates
    await call(api, "sendMessage", chat_id=APPROVER, text="someone else's chat")
    assert timer.samples == [] and timer.unanswered == 1
    await call(api, "sendMessage", chat_id=OFFICER, text="Kirim foto KTP")
    await call(api, "sendMessage", chat_id=OFFICER, text="a second call answers nothing")
    [sample] = timer.samples
    assert sample.update_id == updates[0]["update_id"]
    assert (sample.kind, sample.chat_id, sample.method) == ("message", OFFICER, "sendMessage")
    assert sample.offered == 1.0  # the clock's first tick: the first getUpdates
    assert sample.latency > 0
    assert timer.unanswered == 0


async def test_tap_is_answered_by_its_callback_answer_or_an_edit_of_its_message(sim, api):
    card = await call(
        api,
        "sendMessage",
        chat_id=APPROVER,
        text="card",
        reply_markup={"inline_keyboard": [[{"text": "Setujui", "callback_data": "a"}]]},
    )
    timer = sim.update_timer = UpdateTimer()
    approver = sim.user(APPROVER)
    first = await approver.tap("Setujui")
    second = await approver.tap("Setujui")
    await call(api, "getUpdates")
    # Another card in the same chat is not an answer to either tap.
    await call(api, "sendMessage", chat_id=APPROVER, text="a card for another visit")
    assert timer.samples == []
    await call(api, "answerCallbackQuery", callback_query_id=first.id)
    await call(
        api, "editMessageText", chat_id=APPROVER, message_id=card["message_id"], text="decided"
    )
    assert [(s.method, s.kind) for s in timer.samples] == [
        ("answerCallbackQuery", "callback_query"),
        ("editMessageText", "callback_query"),
    ]
    assert all(s.latency >= 0 for s in timer.samples) and timer.unanswered == 0
    assert second.answer is None  # the edit answered it for the timer, not for the phone


async def test_off_by_default(sim, api):
    assert sim.update_timer is None
    await sim.user(OFFICER).send_text("halo")
    await call(api, "getUpdates")
    await call(api, "sendMessage", chat_id=OFFICER, text="ok")


async def test_latency_is_a_round_trip_so_an_answer_takes_at_least_one(sim, api):
    # Half of it brings the offered update to the bot, half brings the answer back.
    sim.faults.latency = 0.2
    timer = sim.update_timer = UpdateTimer()
    await sim.user(OFFICER).send_text("/daftar")
    loop = asyncio.get_running_loop()
    started = loop.time()
    await call(api, "getUpdates")
    assert loop.time() - started >= 0.2
    await call(api, "sendMessage", chat_id=OFFICER, text="Kirim foto KTP")
    [sample] = timer.samples
    assert 0.19 <= sample.latency < 0.5
