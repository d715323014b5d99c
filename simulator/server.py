"""The HTTP side: an aiohttp server answering Bot API calls the way api.telegram.org does."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import time
from collections import Counter
from collections.abc import Callable
from urllib.parse import quote

from aiohttp import web

import simulator.groups
import simulator.media
import simulator.settings  # noqa: F401
from simulator.api import ApiError, Params, error_body, read_params
from simulator.faults import Faults
from simulator.message import SimMessage
from simulator.methods import METHODS
from simulator.people import SimUser
from simulator.polling import LongPoll
from simulator.state import SimState, UserInfo
from simulator.timing import UpdateTimer, call_target
from simulator.webhook import WebhookDelivery

__all__ = ["BotApiSimulator"]

logger = logging.getLogger(__name__)

# What nginx in front of the Bot API answers when the backend is down: not JSON at all.
BAD_GATEWAY_PAGE = (
    "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    "<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx/1.18.0</center>\r\n"
    "</body>\r\n</html>\r\n"
)


class BotApiSimulator:
    """A local Telegram: Bot API over HTTP for the bot, and SimUsers acting as people."""

    def __init__(
        self,
        token: str = "123456:TEST",
        bot_username: str = "AksesServerBot",
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        bot_name: str | None = None,
        now: Callable[[], float] = time.time,
    ):
        bot_id = token.split(":", 1)[0]
        if not bot_id.isdigit():
            raise ValueError("a bot token starts with the bot's numeric id, e.g. '123456:ABC'")
        self.token = token
        self.bot_username = bot_username
        self.host = host
        self._requested_port = port
        self.port: int | None = None
        bot = {
            "id": int(bot_id),
            "is_bot": True,
            "first_name": bot_name or bot_username,
            "username": bot_username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }
        self.state = SimState(bot=bot, now=now, on_change=self._on_change)
        self.faults = Faults()
        self.call_counts: Counter[str] = Counter()
        self.errors: list[Exception] = []  # simulator bugs hit while answering calls
        # Set to an UpdateTimer to time updates from getUpdates to the bot's answer.
        self.update_timer: UpdateTimer | None = None
        self.users: dict[int, SimUser] = {}
        self._subscribers: set[asyncio.Queue] = set()
        self._changed = asyncio.Event()
        self._closing = asyncio.Event()
        # Wakes and "timeout" sleeps end early once stopping; updates are confirmed by offset.
        self._poller = LongPoll(self.state, on_confirm=self._touch)
        # While a webhook is set (setWebhook), updates are POSTed to it instead.
        self.webhook = WebhookDelivery(self.state, on_activity=self._touch)
        self._in_flight = 0
        self._last_activity = 0.0
        self._runner: web.AppRunner | None = None
        # Routes may be added to `app` (e.g. the browser phones) before start().
        self.app = web.Application(client_max_size=64 * 1024 * 1024)
        self.app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        self.app.router.add_get("/file/bot{token}/{file_path:.+}", self._handle_download)
        self.app.router.add_get("/sim/files/{file_id}", self._handle_sim_file)

    # -- lifecycle ----------------------------------------------------------------------

    @property
    def url(self) -> str:
        if self.port is None:
            raise RuntimeError("the simulator is not started")
        return f"http://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        return f"{self.url}/bot"

    @property
    def base_file_url(self) -> str:
        return f"{self.url}/file/bot"

    async def start(self) -> None:
        self._closing.clear()
        self._poller.closing = False
        self._runner = web.AppRunner(self.app, access_log=None, shutdown_timeout=2.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self._requested_port)
        await site.start()
        self.port = self._runner.addresses[0][1]
        self.webhook.start()

    async def stop(self) -> None:
        """Answer pending long polls and held "timeout" faults at once, then close."""
        self._closing.set()
        self._poller.close()
        await self.webhook.stop()
        self._signal_change()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> BotApiSimulator:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    # -- people and observation ---------------------------------------------------------

    def add_user(
        self,
        user_id: int,
        first_name: str,
        last_name: str | None = None,
        username: str | None = None,
        *,
        language_code: str | None = None,
        started: bool = True,
    ) -> SimUser:
        """A person whose private chat with the bot exists from now on.

        started=False models someone who never pressed Start: the bot may not write first.
        """
        if user_id in self.users:
            raise ValueError(f"user {user_id} already exists")
        if user_id <= 0:
            raise ValueError("user ids are positive")
        info = UserInfo(user_id, first_name, last_name, username, language_code, started=started)
        self.state.add_user(info)
        self.users[user_id] = SimUser(self, info)
        return self.users[user_id]

    def user(self, user_id: int) -> SimUser:
        return self.users[user_id]

    def messages(self, chat_id: int) -> list[SimMessage]:
        """Every message of the chat, deleted ones included, oldest first."""
        return self.state.chat_messages(chat_id)

    def commands_for(self, chat_id: int) -> list[tuple[str, str]]:
        return self.state.commands_for(chat_id)

    def subscribe(self) -> asyncio.Queue:
        queue: asyncio.Queue = asyncio.Queue()
        self._subscribers.add(queue)
        return queue

    def unsubscribe(self, queue: asyncio.Queue) -> None:
        self._subscribers.discard(queue)

    def reset(self) -> None:
        """Forget chats, updates and files; keep users, bot settings, faults and the server.

        Update ids keep counting up so a running bot's offset stays valid.
        """
        self.state.reset()

    async def settle(self, quiet: float = 0.2, timeout: float = 10.0) -> None:  # noqa: ASYNC109
        """Wait until the bot confirmed every update and made no call for `quiet` seconds."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            now = loop.time()
            pending = len(self.state.updates)
            if not pending and not self._in_flight and now - self._last_activity >= quiet:
                return
            if now >= deadline:
                raise TimeoutError(
                    f"simulator not settled after {timeout}s: {pending} unconfirmed updates, "
                    f"{self._in_flight} Bot API calls in progress"
                )
            await asyncio.sleep(min(0.02, quiet / 2 or 0.02))

    async def changed(self, timeout: float) -> None:  # noqa: ASYNC109
        """Wait until anything in a chat changes (or `timeout` passes)."""
        event = self._changed
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), timeout)

    def _on_change(self, event: dict) -> None:
        if event["type"] in ("update", "webhook"):
            self._poller.wake()
            self.webhook.wake()
            return
        self._signal_change()
        public = {k: v for k, v in event.items() if k not in ("message", "alert")}
        if "message" in event:
            public["message"] = event["message"].to_json()
        if "alert" in event:
            public["alert"] = dataclasses.asdict(event["alert"])
        for queue in self._subscribers:
            queue.put_nowait(public)

    def _signal_change(self) -> None:
        # Waiters hold the old event; a fresh one makes the next wait block again.
        self._changed.set()
        self._changed = asyncio.Event()

    def _touch(self) -> None:
        self._last_activity = asyncio.get_running_loop().time()

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._closing.wait(), seconds)

    # -- HTTP ---------------------------------------------------------------------------

    async def _handle_api(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            return web.json_response(error_body(401, "Unauthorized"), status=401)
        name = request.match_info["method"]
        if name.lower() == "getupdates":
            name, impl = "getUpdates", None
        elif name.lower() in METHODS:
            name, impl = METHODS[name.lower()]
        else:
            return web.json_response(error_body(404, "Not Found"), status=404)
        self.call_counts[name] += 1
        counted = name != "getUpdates"  # an idle long poll is not activity
        if counted:
            self._in_flight += 1
            self._touch()
        try:
            response = await self._dispatch(request, name, impl)
            delay = self.faults.delay_for(name)
            if delay:
                await self._sleep(delay / 2)  # ... and the answer on its way back
            return response
        finally:
            if counted:
                self._in_flight -= 1
                self._touch()

    async def _dispatch(
        self, request: web.Request, name: str, impl: Callable | None
    ) -> web.StreamResponse:
        faults = self.faults
        try:
            params = Params(await read_params(request))
        except ApiError as exc:
            return _error(exc)
        delay = faults.delay_for(name)
        if delay:
            await self._sleep(delay / 2)  # a round trip: the request on its way in ...
        timer = self.update_timer
        if timer is not None and impl is not None:
            timer.called(name, *call_target(name, params))  # the call reaches "Telegram"
        fault = faults.decide(name)
        if fault == "drop":
            return _drop(request)
        if fault == "429":
            retry = faults.retry_after
            description = f"Too Many Requests: retry after {retry}"
            return _error(ApiError(429, description, {"retry_after": retry}))
        if fault == "500":
            return _error(ApiError(500, "Internal Server Error"))
        if fault == "502":
            return web.Response(status=502, text=BAD_GATEWAY_PAGE, content_type="text/html")
        try:
            result = (
                await self._poller.get_updates(params)
                if impl is None
                else impl(self.state, params)
            )
            if impl is None and self.update_timer is not None:
                self.update_timer.offered(result)  # read again: a long poll outlives timers
            response = web.json_response({"ok": True, "result": result})
        except ApiError as exc:
            response = _error(exc)
        except Exception as exc:
            # A simulator bug must not look like a Telegram answer: keep it for tests to see.
            logger.exception("simulator failed in %s", name)
            self.errors.append(exc)
            response = _error(ApiError(500, f"Internal Server Error: simulator bug: {exc!r}"))
        if fault == "timeout":
            await self._sleep(faults.timeout_delay)  # done, but answered too late
        return response

    async def _handle_download(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            return web.json_response(error_body(401, "Unauthorized"), status=401)
        stored = self.state.files_by_path.get(request.match_info["file_path"])
        if stored is None:
            return web.json_response(error_body(404, "Not Found"), status=404)
        mime = stored.mime_type or "application/octet-stream"
        return web.Response(body=stored.data, content_type=mime)

    async def _handle_sim_file(self, request: web.Request) -> web.StreamResponse:
        stored = self.state.files.get(request.match_info["file_id"])
        if stored is None:
            raise web.HTTPNotFound()
        headers = {}
        if stored.file_name:
            name = quote(stored.file_name)
            headers["Content-Disposition"] = f"inline; filename*=UTF-8''{name}"
        return web.Response(
            body=stored.data,
            content_type=stored.mime_type or "application/octet-stream",
            headers=headers,
        )


def _error(exc: ApiError) -> web.Response:
    body = error_body(exc.code, exc.description, exc.parameters)
    return web.json_response(body, status=exc.code)


def _drop(request: web.Request) -> web.StreamResponse:
    """Close the connection without answering, as a dying proxy would."""
    transport = request.transport
    if transport is not None:
        transport.abort()
    return web.Response(status=204)
