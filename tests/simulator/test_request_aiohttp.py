"""The bot's HTTP client (aiohttp under PTB, issue 13) behaves as PTB's default one does:
the same exceptions for each fault Telegram can show, each call's own timeouts, a bounded
pool, a proxy from the config or the environment, a clean shutdown, and retries on top."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable

import pytest
from aiohttp import web
from telegram import Bot
from telegram.error import TimedOut
from telegram.request import BaseRequest, HTTPXRequest

from bot.app.request import AiohttpRequest, RetryingRequest, env_proxy
from simulator import BotApiSimulator, Faults

USER = 1001

MAKERS: dict[str, Callable[..., BaseRequest]] = {
    "httpx": lambda **kw: HTTPXRequest(httpx_kwargs={"trust_env": False}, **kw),
    "aiohttp": lambda **kw: AiohttpRequest(**kw),
}


@pytest.fixture
async def sim() -> AsyncIterator[BotApiSimulator]:
    simulator = BotApiSimulator()
    await simulator.start()
    simulator.add_user(USER, "Sari")
    yield simulator
    await simulator.stop()


def bot_on(sim: BotApiSimulator, request: BaseRequest) -> Bot:
    return Bot(sim.token, base_url=sim.base_url, base_file_url=sim.base_file_url, request=request)


async def outcome(sim: BotApiSimulator, request: BaseRequest, kind: str) -> str:
    sim.faults = Faults()
    sim.faults.inject(kind, method="sendMessage")
    async with bot_on(sim, request) as bot:
        try:
            await bot.send_message(USER, "x")
        except Exception as exc:
            return type(exc).__name__
    return "ok"


@pytest.mark.parametrize("kind", ["timeout", "drop", "429", "500", "502"])
async def test_each_fault_raises_what_ptbs_default_client_raises(sim, monkeypatch, kind):
    monkeypatch.setenv("PTB_TIMEDELTA", "1")
    seen = {
        name: await outcome(sim, make(read_timeout=0.3), kind) for name, make in MAKERS.items()
    }
    expected = {"timeout": "TimedOut", "429": "RetryAfter"}.get(kind, "NetworkError")
    assert seen == {"httpx": expected, "aiohttp": expected}


async def test_sends_files_and_form_fields(sim):
    async with bot_on(sim, AiohttpRequest()) as bot:
        sent = await bot.send_document(USER, b"%PDF-1.4 x", filename="a.pdf", caption="Lencana")
    assert sent.caption == "Lencana"
    assert sim.user(USER).messages[-1].caption == "Lencana"


async def test_a_calls_own_read_timeout_overrides_the_default(sim):
    sim.faults = Faults()
    sim.faults.inject("timeout", method="sendMessage")
    sim.faults.timeout_delay = 2.0
    async with bot_on(sim, AiohttpRequest(read_timeout=10)) as bot:
        started = time.monotonic()
        with pytest.raises(TimedOut):
            await bot.send_message(USER, "x", read_timeout=0.2)
        assert time.monotonic() - started < 1.5


async def test_the_pool_is_bounded_and_a_pool_wait_times_out(sim):
    sim.faults = Faults()
    sim.faults.inject("timeout", method="sendMessage")
    sim.faults.timeout_delay = 1.5
    request = AiohttpRequest(connection_pool_size=1, pool_timeout=0.1, connect_timeout=0.1)
    async with bot_on(sim, request) as bot:
        held = asyncio.create_task(bot.send_message(USER, "holds the only connection"))
        await asyncio.sleep(0.2)
        with pytest.raises(TimedOut):
            await bot.get_me()
        assert (await held).text == "holds the only connection"  # read timeout 5 s > 1.5 s


async def test_shutdown_closes_the_session(sim):
    request = AiohttpRequest()
    async with bot_on(sim, request) as bot:
        await bot.get_me()
    with pytest.raises(RuntimeError, match="not initialized"):
        await request.do_request(f"{sim.base_url}{sim.token}/getMe", "POST")


async def test_retrying_request_retries_over_aiohttp(sim):
    sim.faults = Faults()
    for kind in ("drop", "500", "502", "timeout"):
        sim.faults.inject(kind, method="sendMessage")
    sim.faults.timeout_delay = 0.5
    request = RetryingRequest(retries=4, retry_base=0.01, read_timeout=0.3)
    async with bot_on(sim, request) as bot:
        await bot.send_message(USER, "sampai")
    # The timed-out attempt did send; the retry after it sent again, as with httpx.
    assert [m.text for m in sim.user(USER).messages] == ["sampai", "sampai"]
    assert sim.faults.counts == {"drop": 1, "500": 1, "502": 1, "timeout": 1}


class Proxy:
    """A plain HTTP proxy that forwards to the simulator and remembers what went through."""

    def __init__(self) -> None:
        self.seen: list[str] = []
        self.runner: web.AppRunner | None = None
        self.url = ""

    async def start(self) -> None:
        import aiohttp

        async def forward(request: web.Request) -> web.Response:
            self.seen.append(str(request.url))
            body = await request.read()
            async with (
                aiohttp.ClientSession() as session,
                session.request(
                    request.method, str(request.url), data=body, headers=request.headers
                ) as resp,
            ):
                return web.Response(
                    status=resp.status, body=await resp.read(), content_type="application/json"
                )

        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", forward)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"

    async def stop(self) -> None:
        assert self.runner is not None
        await self.runner.cleanup()


@pytest.fixture
async def proxy() -> AsyncIterator[Proxy]:
    server = Proxy()
    await server.start()
    yield server
    await server.stop()


async def test_the_configured_proxy_carries_every_call(sim, proxy, monkeypatch):
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    async with bot_on(sim, AiohttpRequest(proxy=proxy.url)) as bot:
        assert (await bot.get_me()).username
        await bot.send_message(USER, "lewat proxy")
    # Bot.initialize() asks getMe once itself.
    assert [url.rsplit("/", 1)[1] for url in proxy.seen] == ["getMe", "getMe", "sendMessage"]


async def test_the_environments_proxy_is_used_unless_no_proxy_exempts_the_host(
    sim, proxy, monkeypatch
):
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    monkeypatch.setenv("NO_PROXY", "example.org")
    async with bot_on(sim, AiohttpRequest()) as bot:
        await bot.get_me()
    assert len(proxy.seen) == 2  # Bot.initialize()'s getMe and this one
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    async with bot_on(sim, AiohttpRequest()) as bot:
        await bot.get_me()
    assert len(proxy.seen) == 2


def test_env_proxy_reads_the_variables_httpx_reads():
    api = "https://api.telegram.org/botX/getMe"
    assert env_proxy(api, {}) is None
    assert env_proxy(api, {"HTTPS_PROXY": "http://p:1"}) == "http://p:1"
    assert env_proxy(api, {"all_proxy": "http://p:2"}) == "http://p:2"
    assert env_proxy(api, {"HTTP_PROXY": "http://p:3"}) is None  # that one is for http://
    assert env_proxy(api, {"HTTPS_PROXY": "http://p:1", "NO_PROXY": ".telegram.org"}) is None
    assert env_proxy(api, {"ALL_PROXY": "socks5://p:4"}) is None  # not from the environment


async def test_a_socks_proxy_in_the_config_is_refused():
    with pytest.raises(ValueError, match="http"):
        AiohttpRequest(proxy="socks5://127.0.0.1:1080")
