"""HTTP to the Bot API: aiohttp underneath PTB, and retries that ride out a flaky connection.

`AiohttpRequest` is a `telegram.request.BaseRequest` (PTB's extension point for other HTTP
libraries). It replaces PTB's default HTTPXRequest because httpx and httpcore took half of
the bot's CPU (bench/findings.md: the connection pool re-examines every pooled connection
on every request). It keeps HTTPXRequest's contract: the same default timeouts, each call's
own timeouts honoured, a proxy from the config or the environment (HTTPS_PROXY, ALL_PROXY),
a bounded connection pool, and the same PTB exceptions (TimedOut for timeouts, NetworkError
for a broken connection), so the retry wrapper and the outbox treat both alike.

A patchy network (or Telegram itself) answers some calls with 429, 5xx, a timeout or
a dropped connection. `RetryingRequest` tries each call a few more times with a short
backoff before the error reaches the handler, so the officer's next question still
arrives. Messages the workflow depends on are in the outbox as well
(bot.flows.delivery), which keeps retrying across restarts.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import random
import re
import urllib.parse
from collections.abc import Mapping
from typing import Any

import aiohttp
from telegram._utils.defaultvalue import DefaultValue
from telegram._utils.types import ODVInput
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

log = logging.getLogger(__name__)

RETRY_STATUS = {500, 502, 503, 504}
_JSON = {"Content-Type": "application/json"}
MAX_INLINE_RETRY_AFTER = 10.0  # longer waits are left to the outbox
MAX_BACKOFF = 4.0  # between attempts; someone is waiting for an answer
_TRUE = json.dumps({"ok": True, "result": True}).encode()
# What Telegram says when a retried call finds that the first attempt did arrive.
_ALREADY_DONE = re.compile(rb"message is not modified|query ID is invalid")
# answerCallbackQuery after the person's app stopped waiting (the tap queued while the bot
# was down or busy) or a second time: "query is too old and response timeout expired or
# query ID is invalid". The spinner is gone either way and the answer can no longer be
# shown, so it is not an error: the call returns False (Telegram itself never does), and
# the caller may say it another way (handlers/edits.py sends an alert's words as a reply).
_QUERY_GONE = b"query is too old"
_FALSE = json.dumps({"ok": True, "result": False}).encode()


def env_proxy(url: str, env: Mapping[str, str] | None = None) -> str | None:
    """The proxy the environment names for `url`, read as httpx reads it for PTB's
    default client: HTTPS_PROXY (HTTP_PROXY for an http:// URL), then ALL_PROXY, in
    upper or lower case; None when NO_PROXY exempts the host. Like httpx under PTB,
    only http:// and https:// proxies are taken from the environment."""
    env = os.environ if env is None else env
    parsed = urllib.parse.urlsplit(url)
    names = (
        ("HTTP_PROXY", "ALL_PROXY") if parsed.scheme == "http" else ("HTTPS_PROXY", "ALL_PROXY")
    )
    proxy = next((env[n] for name in names for n in (name, name.lower()) if env.get(n)), None)
    if proxy is None or not proxy.startswith(("http://", "https://")):
        return None
    host = (parsed.hostname or "").lower()
    no_proxy = env.get("NO_PROXY") or env.get("no_proxy") or ""
    for entry in (e.strip().lower().lstrip(".") for e in no_proxy.split(",")):
        if entry == "*" or (entry and (host == entry or host.endswith("." + entry))):
            return None
    return proxy


class AiohttpRequest(BaseRequest):
    """PTB's requests made with aiohttp; the arguments mean what HTTPXRequest's do.

    aiohttp has no separate write timeout: the write and read timeouts together bound
    the whole call (`total`), the read timeout bounds each wait for the answer, and the
    pool and connect timeouts together bound getting a connection.
    """

    def __init__(
        self,
        connection_pool_size: int = 1,
        read_timeout: float | None = 5.0,
        write_timeout: float | None = 5.0,
        connect_timeout: float | None = 5.0,
        pool_timeout: float | None = 1.0,
        media_write_timeout: float | None = 20.0,
        proxy: str | None = None,
    ) -> None:
        if proxy is not None and not proxy.startswith(("http://", "https://")):
            raise ValueError("aiohttp supports http:// and https:// proxies only")
        self._pool_size = connection_pool_size
        self._read_timeout = read_timeout
        self._write_timeout = write_timeout
        self._connect_timeout = connect_timeout
        self._pool_timeout = pool_timeout
        self._media_write_timeout = media_write_timeout
        self._proxy = proxy
        self._env_proxies: dict[str, str | None] = {}  # by scheme and host, read once
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float | None:
        return self._read_timeout

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=self._pool_size)
            self._session = aiohttp.ClientSession(
                connector=connector, headers={"User-Agent": self.USER_AGENT}
            )

    async def shutdown(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        if self._session is None or self._session.closed:
            raise RuntimeError("This AiohttpRequest is not initialized!")
        files = request_data is not None and request_data.contains_files
        read = self._read_timeout if isinstance(read_timeout, DefaultValue) else read_timeout
        connect = (
            self._connect_timeout if isinstance(connect_timeout, DefaultValue) else connect_timeout
        )
        pool = self._pool_timeout if isinstance(pool_timeout, DefaultValue) else pool_timeout
        if isinstance(write_timeout, DefaultValue):
            write = self._media_write_timeout if files else self._write_timeout
        else:
            write = write_timeout
        timeout = aiohttp.ClientTimeout(
            total=None if read is None or write is None else read + write,
            connect=None if connect is None or pool is None else connect + pool,
            sock_connect=connect,
            sock_read=read,
        )
        data: aiohttp.FormData | bytes | None = None
        headers: dict[str, str] | None = None
        if request_data is not None and files:
            form = aiohttp.FormData()
            for name, value in request_data.json_parameters.items():
                form.add_field(name, value)
            for name, (filename, content, mime) in request_data.multipart_data.items():
                form.add_field(name, content, filename=filename, content_type=mime)
            data = form
        elif request_data is not None:
            # One JSON body, which the Bot API takes as it takes a form: about 2 µs against
            # 25 for aiohttp's urlencoding of the same parameters.
            data, headers = request_data.json_payload, _JSON
        proxy = self._proxy or self._env_proxy(url)
        try:
            async with self._session.request(
                method, url, data=data, headers=headers, timeout=timeout, proxy=proxy
            ) as resp:
                return resp.status, await resp.read()
        except TimeoutError as exc:  # aiohttp's timeouts are TimeoutErrors too
            raise TimedOut from exc
        except aiohttp.ClientError as exc:
            raise NetworkError(f"aiohttp.{type(exc).__name__}: {exc}") from exc

    def _env_proxy(self, url: str) -> str | None:
        key = url[: url.find("/", url.find("//") + 2)]  # scheme://host:port
        if key not in self._env_proxies:
            self._env_proxies[key] = env_proxy(url)
        return self._env_proxies[key]


class RetryingRequest(AiohttpRequest):
    def __init__(self, *args: Any, retries: int = 3, retry_base: float = 0.5, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._retries = retries
        self._retry_base = retry_base

    async def do_request(self, *args: Any, **kwargs: Any) -> tuple[int, bytes]:
        timed_out = False
        for attempt in range(self._retries + 1):
            last = attempt == self._retries
            try:
                code, payload = await super().do_request(*args, **kwargs)
            except TimedOut:
                # The request may have reached Telegram; a retry can show a duplicate.
                if last:
                    raise
                timed_out = True
            except NetworkError:
                if last:
                    raise
            else:
                if code == 400 and timed_out and _ALREADY_DONE.search(payload):
                    return 200, _TRUE  # the timed-out edit or callback answer did happen
                if code == 400 and _QUERY_GONE in payload and _answers_callback(args, kwargs):
                    log.info("a callback query was answered too late")
                    return 200, _FALSE
                if code == 429 and not last:
                    wait = _retry_after(payload)
                    if wait is not None and wait <= MAX_INLINE_RETRY_AFTER:
                        await asyncio.sleep(wait)
                        continue
                if code not in RETRY_STATUS or last:
                    return code, payload
            backoff = min(MAX_BACKOFF, self._retry_base * 2**attempt)
            await asyncio.sleep(backoff * random.uniform(0.5, 1.0))
        raise AssertionError("unreachable")


def _answers_callback(args: tuple[Any, ...], kwargs: dict[str, Any]) -> bool:
    url = kwargs.get("url", args[0] if args else "")
    return str(url).lower().endswith("/answercallbackquery")


def _retry_after(payload: bytes) -> float | None:
    try:
        return float(json.loads(payload)["parameters"]["retry_after"])
    except (ValueError, KeyError, TypeError):
        return None
