"""Webhooks: setWebhook, and Telegram's side of delivery, POSTing each update to the bot.

While a webhook is set, getUpdates is refused with 409 (polling.py) and every pending
update is POSTed, oldest first, as a JSON body with the ``X-Telegram-Bot-Api-Secret-Token``
header when a secret token was set (https://core.telegram.org/bots/api#setwebhook).
"In case of an unsuccessful request (a request with response HTTP status code different
from 2XY), we will repeat the request and give up after a reasonable amount of attempts":
here an update stays queued, and is POSTed again, until it is answered with a 2XX.

Telegram accepts only https URLs on ports 443, 80, 88 and 8443; the bot behind it listens
on a local port behind a reverse proxy. ``route(public_prefix, local_base)`` is that
proxy: a URL starting with the public prefix is delivered to the local base instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import aiohttp

from simulator.api import Params, bad_request
from simulator.methods import method
from simulator.state import SimState

__all__ = ["CONFLICT_WEBHOOK", "TERMINATED_BY_SET_WEBHOOK", "Webhook", "WebhookDelivery"]

CONFLICT_WEBHOOK = (
    "Conflict: can't use getUpdates method while webhook is active; "
    "use deleteWebhook to delete the webhook first"
)
TERMINATED_BY_SET_WEBHOOK = "Conflict: terminated by setWebhook request"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
_SECRET = re.compile(r"[A-Za-z0-9_-]*")
_PORTS = (443, 80, 88, 8443)
_BAD_PORT = "bad webhook: Webhook can be set up only on ports 80, 88, 443 or 8443"


@dataclass
class Webhook:
    url: str
    secret_token: str | None = field(default=None, repr=False)
    max_connections: int = 40
    last_error_date: int | None = None
    last_error_message: str | None = None


def _webhook(state: SimState) -> Webhook | None:
    hook = state.webhook
    return hook if isinstance(hook, Webhook) else None


@method("setWebhook")
def set_webhook(state: SimState, p: Params) -> bool:
    url = (p.string("url") or "").strip()
    if not url:  # an empty url removes the webhook, as deleteWebhook does
        return delete_webhook(state, p)
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname:
        raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
    try:
        port = parts.port or 443
    except ValueError:
        raise bad_request(_BAD_PORT) from None
    if port not in _PORTS:
        raise bad_request(_BAD_PORT)
    secret = p.string("secret_token") or None
    if secret is not None:
        if len(secret) > 256:
            raise bad_request("secret token is too long")
        if not _SECRET.fullmatch(secret):
            raise bad_request("secret token contains unallowed characters")
    connections = p.integer("max_connections", 40) or 40
    if not 1 <= connections <= 100:
        raise bad_request("bad webhook: max_connections must be between 1 and 100")
    allowed = p.json("allowed_updates", invalid="can't parse allowed updates")
    if allowed is not None:
        if not isinstance(allowed, list):
            raise bad_request("can't parse allowed updates")
        state.allowed_updates = {str(kind) for kind in allowed} or None
    if p.boolean("drop_pending_updates"):
        state.updates.clear()
    state.webhook = Webhook(url, secret, connections)
    state.emit({"type": "webhook"})
    return True


@method("deleteWebhook")
def delete_webhook(state: SimState, p: Params) -> bool:
    if p.boolean("drop_pending_updates"):
        state.updates.clear()
    if state.webhook is not None:
        state.webhook = None
        state.emit({"type": "webhook"})
    return True


@method("getWebhookInfo")
def get_webhook_info(state: SimState, p: Params) -> dict:
    hook = _webhook(state)
    info: dict = {
        "url": hook.url if hook else "",
        "has_custom_certificate": False,
        "pending_update_count": len(state.updates),
    }
    if hook is not None:
        info["max_connections"] = hook.max_connections
        if state.allowed_updates is not None:
            info["allowed_updates"] = sorted(state.allowed_updates)
        if hook.last_error_date is not None:
            info["last_error_date"] = hook.last_error_date
            info["last_error_message"] = hook.last_error_message
    return info


class WebhookDelivery:
    """POSTs pending updates to the webhook, one at a time in order, until each gets a 2XX."""

    def __init__(
        self,
        state: SimState,
        on_activity: Callable[[], None],
        retry_delay: float = 0.2,
        timeout: float = 10.0,
    ) -> None:
        self.state = state
        self.retry_delay = retry_delay
        self.timeout = timeout
        self.routes: dict[str, str] = {}
        self.posts: list[tuple[int, int | None]] = []  # (update_id, HTTP status or None)
        self._on_activity = on_activity
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def route(self, public_prefix: str, local_base: str) -> None:
        """Deliver URLs under `public_prefix` to `local_base` (the office's reverse proxy)."""
        self.routes[public_prefix.rstrip("/")] = local_base.rstrip("/")

    def wake(self) -> None:
        self._wake.set()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="sim-webhook")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        timeout = aiohttp.ClientTimeout(total=self.timeout)
        async with aiohttp.ClientSession(timeout=timeout, trust_env=False) as session:
            while True:
                self._wake.clear()
                hook = _webhook(self.state)
                pending = self.state.deliverable(1) if hook is not None else []
                if hook is None or not pending:
                    await self._wake.wait()
                    continue
                update = pending[0]
                if await self._post(session, hook, update):
                    self.state.confirm(update["update_id"] + 1)
                else:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._wake.wait(), self.retry_delay)
                self._on_activity()

    async def _post(self, session: aiohttp.ClientSession, hook: Webhook, update: dict) -> bool:
        headers = {"Content-Type": "application/json"}
        if hook.secret_token:
            headers[SECRET_HEADER] = hook.secret_token
        target = self._target(hook.url)
        status: int | None = None
        reason = ""
        error: str | None = None
        if target is None:
            error = "Failed to resolve host: Name or service not known"
        else:
            try:
                async with session.post(
                    target, data=json.dumps(update).encode(), headers=headers
                ) as response:
                    status, reason = response.status, response.reason or ""
                    await response.read()
            except TimeoutError:
                error = "Read timeout expired"
            except aiohttp.ClientError:
                error = "Connection refused"
        self.posts.append((update["update_id"], status))
        if status is not None and 200 <= status < 300:
            return True
        if status is not None:
            error = f"Wrong response from the webhook: {status} {reason}".strip()
        hook.last_error_date = int(self.state.now())
        hook.last_error_message = error
        return False

    def _target(self, url: str) -> str | None:
        for prefix, local in self.routes.items():
            if url == prefix or url.startswith(prefix + "/"):
                return local + url[len(prefix) :]
        return None
