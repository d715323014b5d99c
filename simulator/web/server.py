"""The browser phones: a page served by the simulator, and the /sim/ API the page talks to.

Everything a person does on a phone goes through SimUser, exactly as in the tests, so the
bot sees the same updates whether a test or a browser acts. Routes must be attached
before `sim.start()`: aiohttp freezes the router when the server starts.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from aiohttp import WSCloseCode, web

from simulator.web.qr import read_qr

if TYPE_CHECKING:
    from simulator.people import SimUser
    from simulator.server import BotApiSimulator

__all__ = ["Phone", "WebPhones", "attach_web"]

STATIC = Path(__file__).parent / "static"
Handler = Callable[["WebPhones", web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class Phone:
    """One phone on the page: whose chat it shows and what it is titled."""

    user_id: int
    title: str
    scanner: bool = False  # shows the "Scan" button (the escort's camera)


class _Busy(Exception):
    """The demo is being reset; the page should try again in a moment."""


def _json_errors(handler: Handler) -> Handler:
    """Turn the person-acting API's refusals into JSON errors the page can show."""

    @functools.wraps(handler)
    async def wrapper(self: WebPhones, request: web.Request) -> web.StreamResponse:
        try:
            if self.resetting and request.method == "POST":
                raise _Busy
            return await handler(self, request)
        except _Busy:
            return _error(503, "Demo sedang dimulai ulang, coba lagi sebentar.")
        except LookupError as exc:
            return _error(404, str(exc))
        except ValueError as exc:
            return _error(400, str(exc))

    return wrapper


class WebPhones:
    def __init__(
        self,
        sim: BotApiSimulator,
        phones: list[Phone],
        on_reset: Callable[[], Awaitable[None]] | None = None,
    ):
        self.sim = sim
        self.phones = phones
        # Restarting the bot belongs to whoever runs it; without a hook only chats are wiped.
        self.on_reset = on_reset
        self.resetting = False
        self._sockets: set[web.WebSocketResponse] = set()

    def attach(self) -> None:
        router = self.sim.app.router
        router.add_get("/", self._index)
        router.add_static("/static/", STATIC)
        router.add_get("/sim/people", self._people)
        router.add_get("/sim/ws", self._live)
        router.add_post("/sim/reset", self._reset)
        chat = "/sim/chats/{user_id:\\d+}"
        router.add_get(chat, self._history)
        router.add_get(f"{chat}/commands", self._commands)
        for action in ("text", "photo", "document", "tap", "open_link", "scan"):
            router.add_post(f"{chat}/{action}", getattr(self, f"_{action}"))
        self.sim.app.on_shutdown.append(self._close_sockets)

    # -- reading ------------------------------------------------------------------------

    async def _index(self, request: web.Request) -> web.StreamResponse:
        return web.FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-cache"})

    async def _people(self, request: web.Request) -> web.StreamResponse:
        bot = self.sim.state.bot
        samples = sorted(p.name for p in (STATIC / "samples").glob("*.jpg"))
        return web.json_response(
            {
                "bot": {"username": bot["username"], "name": bot["first_name"]},
                "people": [
                    {
                        "id": phone.user_id,
                        "title": phone.title,
                        "name": self.sim.user(phone.user_id).first_name,
                        "scanner": phone.scanner,
                    }
                    for phone in self.phones
                ],
                "samples": [f"/static/samples/{name}" for name in samples],
            }
        )

    @_json_errors
    async def _history(self, request: web.Request) -> web.StreamResponse:
        user = self._user(request)
        description = self.sim.state.description_for(user.id)
        messages = [m.to_json() for m in user.messages]
        return web.json_response({"messages": messages, "description": description})

    @_json_errors
    async def _commands(self, request: web.Request) -> web.StreamResponse:
        user = self._user(request)
        commands = self.sim.commands_for(user.id)
        return web.json_response([{"command": c, "description": d} for c, d in commands])

    # -- acting -------------------------------------------------------------------------

    @_json_errors
    async def _text(self, request: web.Request) -> web.StreamResponse:
        body = await _json_body(request)
        message = await self._user(request).send_text(str(body.get("text", "")))
        return web.json_response({"message": message.to_json()})

    @_json_errors
    async def _photo(self, request: web.Request) -> web.StreamResponse:
        data, _, caption = await _upload(request, "photo")
        message = await self._user(request).send_photo(data, caption)
        return web.json_response({"message": message.to_json()})

    @_json_errors
    async def _document(self, request: web.Request) -> web.StreamResponse:
        data, name, caption = await _upload(request, "document")
        message = await self._user(request).send_document(data, name or "file", None, caption)
        return web.json_response({"message": message.to_json()})

    @_json_errors
    async def _tap(self, request: web.Request) -> web.StreamResponse:
        """Press the inline button with this callback_data (or url) on that message."""
        body = await _json_body(request)
        user = self._user(request)
        message = self.sim.state.get_message(user.id, _int(body.get("message_id")))
        if message is None or message.deleted:
            raise LookupError("message not found")
        key = "callback_data" if "callback_data" in body else "url"
        buttons = [b for row in message.inline_keyboard for b in row]
        button = next((b for b in buttons if key in b and b[key] == body.get(key)), None)
        if button is None:
            raise LookupError("the message has no such button")
        await user.press(message, button)
        return web.json_response({"ok": True, "url": button.get("url")})

    @_json_errors
    async def _open_link(self, request: web.Request) -> web.StreamResponse:
        body = await _json_body(request)
        message = await self._user(request).open_link(str(body.get("url", "")))
        return web.json_response({"message": message.to_json() if message else None})

    @_json_errors
    async def _scan(self, request: web.Request) -> web.StreamResponse:
        """Point the camera at an image: read its QR and follow it, as a phone camera does."""
        user = self._user(request)
        if request.content_type == "multipart/form-data":
            data, _, _ = await _upload(request, "image")
        else:
            file_id = str((await _json_body(request)).get("file_id", ""))
            stored = self.sim.state.files.get(file_id)
            if stored is None:
                raise LookupError("no such file")
            data = stored.data
        # Decoding takes tens of milliseconds of CPU; the bot shares this event loop.
        text = await asyncio.to_thread(read_qr, data)
        if text is None:
            return _error(422, "Tidak ada kode QR yang terbaca pada gambar ini.")
        message = await user.open_link(text)
        return web.json_response({"text": text, "message": message.to_json() if message else None})

    @_json_errors
    async def _reset(self, request: web.Request) -> web.StreamResponse:
        self.resetting = True
        try:
            if self.on_reset is None:
                self.sim.reset()
            else:
                await self.on_reset()
        finally:
            self.resetting = False
        return web.json_response({"ok": True})

    # -- live updates -------------------------------------------------------------------

    async def _live(self, request: web.Request) -> web.StreamResponse:
        """Push every change in the phones' chats (messages, edits, deletes, toasts, resets)."""
        ws = web.WebSocketResponse(heartbeat=20)
        await ws.prepare(request)
        shown = {phone.user_id for phone in self.phones}
        queue = self.sim.subscribe()
        self._sockets.add(ws)
        # Reading is what notices the browser closing the page; the events come from the queue.
        reader = asyncio.create_task(_drain(ws))
        try:
            while not reader.done():
                getter = asyncio.create_task(queue.get())
                await asyncio.wait({getter, reader}, return_when=asyncio.FIRST_COMPLETED)
                if not getter.done():
                    getter.cancel()
                    break
                event = getter.result()
                if event.get("chat_id", 0) in shown or event["type"] == "reset":
                    await ws.send_json(event)
        except ConnectionResetError:
            pass  # the page went away between two events
        finally:
            self.sim.unsubscribe(queue)
            self._sockets.discard(ws)
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader
        return ws

    async def _close_sockets(self, app: web.Application) -> None:
        for ws in list(self._sockets):
            await ws.close(code=WSCloseCode.GOING_AWAY, message=b"server shutdown")

    # -- helpers ------------------------------------------------------------------------

    def _user(self, request: web.Request) -> SimUser:
        user_id = int(request.match_info["user_id"])
        if user_id not in self.sim.users:
            raise LookupError(f"no person {user_id}")
        return self.sim.user(user_id)


def attach_web(
    sim: BotApiSimulator,
    phones: list[Phone],
    *,
    on_reset: Callable[[], Awaitable[None]] | None = None,
) -> WebPhones:
    """Serve the phones page and its API from `sim` (call before `sim.start()`)."""
    web_phones = WebPhones(sim, phones, on_reset)
    web_phones.attach()
    return web_phones


async def _drain(ws: web.WebSocketResponse) -> None:
    async for _ in ws:
        pass  # the page sends nothing; actions go through POST


async def _json_body(request: web.Request) -> dict:
    try:
        body = await request.json()
    except ValueError:
        raise ValueError("JSON body expected") from None
    if not isinstance(body, dict):
        raise ValueError("JSON object expected")
    return body


async def _upload(request: web.Request, field: str) -> tuple[bytes, str | None, str | None]:
    """The file part `field` of a multipart form, with its name and an optional caption."""
    if request.content_type != "multipart/form-data":
        raise ValueError("multipart/form-data expected")
    form = await request.post()
    part = form.get(field)
    if not isinstance(part, web.FileField):
        raise ValueError(f"file part {field!r} missing")
    # Read and close now: aiohttp spools parts to temporary files (ResourceWarning otherwise).
    with part.file as handle:
        data = handle.read()
    caption = form.get("caption")
    return data, part.filename, caption if isinstance(caption, str) and caption else None


def _int(value: object) -> int:
    try:
        return int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        raise ValueError("message_id must be a number") from None


def _error(status: int, text: str) -> web.Response:
    return web.json_response({"error": text}, status=status)
