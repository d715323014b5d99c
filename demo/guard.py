"""The demo page answers only the tab opened from the printed address.

The simulator serves the phones page and an API that acts as the officer, the section head
and the escort. Unguarded, any web page the user visits could drive it: browsers let a
page POST to localhost and open a WebSocket to it, and DNS rebinding reaches it under a
name the attacker owns. So every request passes three checks:

- **Host** names this server by an IP address or ``localhost``, with its port (a rebinding
  page comes under its own domain name);
- **Origin**, when a browser sends one (on every cross-origin request, every POST, every
  WebSocket), is this server's own;
- **a random key per run**: the printed address carries it (``/?key=...``); the page gets it
  back as an HttpOnly, SameSite=Strict cookie that every later request of the tab sends.
  The Bot API routes, which the bot itself calls, need no cookie: their path holds the
  run's random bot token instead.
"""

from __future__ import annotations

import hmac
import ipaddress
import secrets
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

from aiohttp import web

COOKIE = "akses_demo_key"
KEY_PARAM = "key"
BOT_API_PATHS = ("/bot", "/file/bot")
REFUSED = (
    "Halaman demo ini hanya bisa dibuka dari alamat yang dicetak di terminal "
    "(http://127.0.0.1:PORT/?key=...)."
)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def new_key() -> str:
    return secrets.token_urlsafe(24)


def host_allowed(host: str, port: int) -> bool:
    """``127.0.0.1:8080``, ``[::1]:8080``, ``localhost:8080``, a LAN address: yes; a name: no."""
    try:
        parts = urlsplit(f"//{host}")
        name, given_port = parts.hostname, parts.port
    except ValueError:
        return False
    if name is None or given_port != port:
        return False
    if name == "localhost":
        return True
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def guard(key: str, port: Callable[[], int]) -> Callable[[web.Request, Handler], Awaitable]:
    """The middleware; ``port()`` is the server's, known once it listens."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if not host_allowed(request.host, port()):
            return web.Response(status=403, text=REFUSED)
        origin = request.headers.get("Origin")
        if origin is not None and origin != f"{request.scheme}://{request.host}":
            return web.Response(status=403, text=REFUSED)
        if request.path.startswith(BOT_API_PATHS):
            return await handler(request)
        given = request.query.get(KEY_PARAM)
        if given is not None and hmac.compare_digest(given, key):
            response = await handler(request)
            response.set_cookie(COOKIE, key, httponly=True, samesite="Strict", path="/")
            return response
        if hmac.compare_digest(request.cookies.get(COOKIE, ""), key):
            return await handler(request)
        return web.Response(status=403, text=REFUSED)

    return middleware
