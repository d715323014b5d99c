"""An experiment: python-telegram-bot's HTTP requests made with aiohttp instead of httpx.

The profiles show most of the bot's and all of the baseline's CPU time in httpx and
httpcore (connection-pool bookkeeping and socket checks on every request). This
`BaseRequest` (PTB's documented extension point for other HTTP libraries) lets the
benchmark measure what the HTTP client costs: `python -m bench.botproc KIND --transport
aiohttp` sends every request of the bot and of the baseline through it. The bot itself
does not use it.
"""

from __future__ import annotations

from typing import Any

import aiohttp
from telegram._utils.defaultvalue import DefaultValue
from telegram._utils.types import ODVInput
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData


class AiohttpRequest(BaseRequest):
    def __init__(
        self,
        connection_pool_size: int = 1,
        read_timeout: float | None = 5.0,
        write_timeout: float | None = 5.0,
        connect_timeout: float | None = 5.0,
        pool_timeout: float | None = 1.0,
    ) -> None:
        self._pool_size = connection_pool_size
        self._read_timeout = read_timeout
        self._connect_timeout = connect_timeout
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float | None:
        return self._read_timeout

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=self._pool_size)
            self._session = aiohttp.ClientSession(connector=connector)

    async def shutdown(self) -> None:
        if self._session is not None:
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
        if self._session is None:
            raise RuntimeError("This AiohttpRequest is not initialized!")
        read = self._read_timeout if isinstance(read_timeout, DefaultValue) else read_timeout
        data: aiohttp.FormData | dict[str, str] | None = None
        if request_data is not None and request_data.contains_files:
            form = aiohttp.FormData()
            for name, value in request_data.json_parameters.items():
                form.add_field(name, value)
            for name, (filename, content, mime) in request_data.multipart_data.items():
                form.add_field(name, content, filename=filename, content_type=mime)
            data = form
        elif request_data is not None:
            data = request_data.json_parameters
        timeout = aiohttp.ClientTimeout(sock_read=read, sock_connect=self._connect_timeout)
        try:
            async with self._session.request(method, url, data=data, timeout=timeout) as resp:
                return resp.status, await resp.read()
        except TimeoutError as exc:
            raise TimedOut from exc
        except aiohttp.ClientError as exc:
            raise NetworkError(f"aiohttp.{type(exc).__name__}: {exc}") from exc


def use_aiohttp() -> None:
    """Make every HTTPXRequest in this process send through aiohttp (benchmark only).

    Patched on the class, so the bot's own subclasses (retries, say) keep their logic and
    only the HTTP client underneath changes.
    """
    from telegram.request import HTTPXRequest

    original_init = HTTPXRequest.__init__

    def __init__(self: HTTPXRequest, *args: Any, **kwargs: Any) -> None:
        original_init(self, *args, **kwargs)
        timeout = self._client.timeout
        self._aiohttp = AiohttpRequest(  # type: ignore[attr-defined]
            connection_pool_size=kwargs.get("connection_pool_size", 1),
            read_timeout=timeout.read,
            connect_timeout=timeout.connect,
        )

    async def initialize(self: HTTPXRequest) -> None:
        await self._aiohttp.initialize()  # type: ignore[attr-defined]

    async def shutdown(self: HTTPXRequest) -> None:
        await self._aiohttp.shutdown()  # type: ignore[attr-defined]
        await self._client.aclose()

    async def do_request(self: HTTPXRequest, *args: Any, **kwargs: Any) -> tuple[int, bytes]:
        return await self._aiohttp.do_request(*args, **kwargs)  # type: ignore[attr-defined]

    HTTPXRequest.__init__ = __init__  # type: ignore[method-assign]
    HTTPXRequest.initialize = initialize  # type: ignore[method-assign]
    HTTPXRequest.shutdown = shutdown  # type: ignore[method-assign]
    HTTPXRequest.do_request = do_request  # type: ignore[method-assign]
