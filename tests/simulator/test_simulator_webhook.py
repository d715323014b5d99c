"""The simulator's webhook: setWebhook's checks, getUpdates refused while one is set, and
updates POSTed with the secret token and re-sent until answered 2XX, as Telegram does."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from telegram import Bot
from telegram.error import BadRequest, Conflict
from telegram.request import HTTPXRequest

from simulator import BotApiSimulator

USER = 1001
PUBLIC = "https://akses.example.go.id"
SECRET = "s3cret-Token_0123456789abcdefghijklmnop"


class Receiver:
    """The bot's end of the webhook: records each POST, answers with `statuses` in turn."""

    def __init__(self) -> None:
        self.received: list[tuple[dict, dict[str, str]]] = []
        self.statuses: list[int] = []
        self.runner: web.AppRunner | None = None
        self.base = ""

    async def handle(self, request: web.Request) -> web.Response:
        self.received.append((await request.json(), dict(request.headers)))
        return web.Response(status=self.statuses.pop(0) if self.statuses else 200)

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/hook/telegram", self.handle)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        self.base = f"http://127.0.0.1:{self.runner.addresses[0][1]}"


@pytest.fixture
async def sim() -> AsyncIterator[BotApiSimulator]:
    simulator = BotApiSimulator(token="123456:TEST", bot_username="AksesServerBot")
    simulator.webhook.retry_delay = 0.05
    await simulator.start()
    simulator.add_user(USER, "Sari")
    yield simulator
    await simulator.stop()
    assert simulator.errors == []


@pytest.fixture
async def bot(sim: BotApiSimulator) -> AsyncIterator[Bot]:
    request = HTTPXRequest(httpx_kwargs={"trust_env": False}, read_timeout=5)
    async with Bot(sim.token, base_url=sim.base_url, request=request) as bot:
        yield bot


@pytest.fixture
async def receiver(sim: BotApiSimulator) -> AsyncIterator[Receiver]:
    receiver = Receiver()
    await receiver.start()
    sim.webhook.route(PUBLIC, receiver.base)  # the office's reverse proxy
    yield receiver
    assert receiver.runner is not None
    await receiver.runner.cleanup()


async def until(condition: object, timeout: float = 5.0) -> None:  # noqa: ASYNC109
    for _ in range(int(timeout / 0.02)):
        if condition():  # type: ignore[operator]
            return
        await asyncio.sleep(0.02)
    raise TimeoutError


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"url": "http://akses.example.go.id/x"}, "An HTTPS URL must be provided for webhook"),
        ({"url": "https://akses.example.go.id:8080/x"}, "only on ports 80, 88, 443 or 8443"),
        ({"url": f"{PUBLIC}/x", "secret_token": "a b"}, "secret token contains unallowed"),
        ({"url": f"{PUBLIC}/x", "secret_token": "a" * 257}, "secret token is too long"),
    ],
)
async def test_set_webhook_refuses_what_telegram_refuses(
    bot: Bot, sim: BotApiSimulator, kwargs: dict, error: str
) -> None:
    with pytest.raises(BadRequest, match=f"(?i){error}"):  # PTB rewords the case
        await bot.set_webhook(**kwargs)
    assert (await bot.get_webhook_info()).url == ""
    assert await bot.get_updates(timeout=0) == ()  # still polling


async def test_updates_are_posted_with_the_secret_until_answered_200(
    bot: Bot, sim: BotApiSimulator, receiver: Receiver
) -> None:
    assert await bot.set_webhook(f"{PUBLIC}/hook/telegram", secret_token=SECRET)
    with pytest.raises(Conflict, match=r"(?i)can.t use getUpdates method while webhook is act"):
        await bot.get_updates()
    receiver.statuses = [403, 500]  # refused twice, then 200
    await sim.user(USER).send_text("halo")
    await until(lambda: len(receiver.received) == 3)
    await sim.settle()
    bodies = [body for body, _ in receiver.received]
    assert [b["message"]["text"] for b in bodies] == ["halo"] * 3
    assert len({b["update_id"] for b in bodies}) == 1  # the same update each time
    for _, headers in receiver.received:
        assert headers["X-Telegram-Bot-Api-Secret-Token"] == SECRET
        assert headers["Content-Type"] == "application/json"
    info = await bot.get_webhook_info()
    assert info.pending_update_count == 0
    assert info.last_error_message == "Wrong response from the webhook: 500 Internal Server Error"

    await sim.user(USER).send_text("lagi")  # answered at once: posted once
    await until(lambda: len(receiver.received) == 4)
    await sim.settle()
    assert receiver.received[-1][0]["message"]["text"] == "lagi"


async def test_an_unreachable_webhook_keeps_the_update_until_it_is_back(
    bot: Bot, sim: BotApiSimulator, receiver: Receiver
) -> None:
    assert receiver.runner is not None
    await bot.set_webhook(f"{PUBLIC}/hook/telegram", secret_token=SECRET)
    await receiver.runner.cleanup()  # the bot is down
    await sim.user(USER).send_text("halo")
    await until(lambda: len(sim.webhook.posts) >= 2)
    assert all(status is None for _, status in sim.webhook.posts)
    assert (await bot.get_webhook_info()).pending_update_count == 1
    assert (await bot.get_webhook_info()).last_error_message == "Connection refused"
    await receiver.start()  # back, on another port: the proxy follows
    sim.webhook.route(PUBLIC, receiver.base)
    await until(lambda: len(receiver.received) == 1)
    assert receiver.received[0][0]["message"]["text"] == "halo"


async def test_delete_webhook_lets_polling_fetch_again(
    bot: Bot, sim: BotApiSimulator, receiver: Receiver
) -> None:
    await bot.set_webhook(f"{PUBLIC}/nowhere")  # no route: nothing is delivered
    await sim.user(USER).send_text("halo")
    await until(lambda: bool(sim.webhook.posts))
    assert await bot.delete_webhook()
    (update,) = await bot.get_updates(timeout=1)
    assert update.message is not None and update.message.text == "halo"
    assert json.dumps((await bot.get_webhook_info()).url) == '""'
