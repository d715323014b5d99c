"""People acting on their phones: what tests and the demo use to talk to the bot."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlsplit

from simulator.html import utf16_len
from simulator.media import store_document, store_photo
from simulator.message import SimMessage
from simulator.state import SimAlert, SimCallback, UserInfo

if TYPE_CHECKING:
    from simulator.server import BotApiSimulator

__all__ = ["SimUser"]

_COMMAND = re.compile(r"/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?(?=\s|$)")
_START_PARAMETER = re.compile(r"[A-Za-z0-9_-]{1,64}")
_START_ENTITY = {"type": "bot_command", "offset": 0, "length": len("/start")}
_TELEGRAM_HOSTS = {"t.me", "www.t.me", "telegram.me", "www.telegram.me", "telegram.dog"}


class SimUser:
    """One person with a private chat with the bot."""

    def __init__(self, sim: BotApiSimulator, info: UserInfo):
        self.sim = sim
        self.info = info
        self.opened_links: list[str] = []  # non-Telegram URLs the person opened
        self._last_action_seq = 0

    def __repr__(self) -> str:
        return f"<SimUser {self.id} {self.info.first_name!r}>"

    @property
    def id(self) -> int:
        return self.info.id

    @property
    def first_name(self) -> str:
        return self.info.first_name

    @property
    def blocked(self) -> bool:
        return self.info.blocked

    # -- what the phone shows -----------------------------------------------------------

    @property
    def messages(self) -> list[SimMessage]:
        """The visible chat: both directions, oldest first, deleted ones left out."""
        return [m for m in self.sim.state.chat_messages(self.id) if not m.deleted]

    @property
    def bot_messages(self) -> list[SimMessage]:
        return [m for m in self.messages if m.from_bot]

    @property
    def last_bot_message(self) -> SimMessage | None:
        bot_messages = self.bot_messages
        return bot_messages[-1] if bot_messages else None

    @property
    def alerts(self) -> list[SimAlert]:
        return self.sim.state.alerts.get(self.id, [])

    @property
    def reply_keyboard(self) -> list[list[str]] | None:
        """The custom keyboard currently replacing the phone's keyboard, if any."""
        for message in reversed(self.bot_messages):
            markup = message.reply_markup or {}
            if "keyboard" in markup:
                return message.reply_keyboard
            if markup.get("remove_keyboard"):
                return None
        return None

    # -- actions ------------------------------------------------------------------------

    async def send_text(self, text: str, *, reply_to: SimMessage | None = None) -> SimMessage:
        if not text.strip() or len(text) > 4096:
            raise ValueError("a Telegram message has 1 to 4096 characters")
        entities = []
        command = _COMMAND.match(text)
        if command:
            # PTB's CommandHandler only reacts to a bot_command entity at offset 0.
            entities.append({"type": "bot_command", "offset": 0, "length": utf16_len(command[0])})
        message = SimMessage(self.id, False, text=text, entities=entities)
        return await self._send(message, reply_to)

    async def edit_text(self, message: SimMessage, text: str) -> SimMessage:
        """Edit a text message this person sent, as a phone's "Edit" does: the chat shows
        the new text, and Telegram sends the bot an ``edited_message`` update (the same
        message id, an ``edit_date``) if the bot asked for that kind in allowed_updates."""
        if message.chat_id != self.id or message.from_bot or message.text is None:
            raise ValueError("a person can edit only a text message they sent")
        if not text.strip() or len(text) > 4096:
            raise ValueError("a Telegram message has 1 to 4096 characters")
        command = _COMMAND.match(text)
        message.text = text
        message.entities = (
            [{"type": "bot_command", "offset": 0, "length": utf16_len(command[0])}]
            if command
            else []
        )
        state = self.sim.state
        state.touch_edited(message)
        self._queue("edited_message", state.message_to_api(message))
        await asyncio.sleep(0)
        return message

    async def send_photo(
        self, image: bytes, caption: str | None = None, *, reply_to: SimMessage | None = None
    ) -> SimMessage:
        sizes = store_photo(self.sim.state, image, strict=False)
        message = SimMessage(self.id, False, caption=caption or None, photo=sizes)
        return await self._send(message, reply_to)

    async def send_document(
        self,
        data: bytes,
        file_name: str,
        mime_type: str | None = None,
        caption: str | None = None,
        *,
        reply_to: SimMessage | None = None,
    ) -> SimMessage:
        if not data:
            raise ValueError("a phone cannot send an empty file")
        document = store_document(self.sim.state, data, file_name, mime_type)
        message = SimMessage(self.id, False, caption=caption or None, document=document)
        return await self._send(message, reply_to)

    async def send_album(self, images: list[bytes]) -> list[SimMessage]:
        """Several photos picked and sent together: Telegram delivers one message per photo,
        in order, sharing a ``media_group_id``."""
        if not 2 <= len(images) <= 10:
            raise ValueError("an album holds 2 to 10 photos")
        group = str(self.sim.state.next_seq())
        sent = []
        for image in images:
            sizes = store_photo(self.sim.state, image, strict=False)
            message = SimMessage(self.id, False, photo=sizes, media_group_id=group)
            sent.append(await self._send(message, None))
        return sent

    async def send_contact(
        self, phone_number: str, first_name: str, *, user_id: int | None = None
    ) -> SimMessage:
        """Share a contact card from the phone's address book (📎 > Kontak)."""
        contact: dict = {"phone_number": phone_number, "first_name": first_name}
        if user_id is not None:
            contact["user_id"] = user_id
        return await self._send(SimMessage(self.id, False, contact=contact), None)

    async def tap(
        self, label: str, message: SimMessage | None = None
    ) -> SimCallback | SimMessage | None:
        """Press an inline button, on `message` or on the newest bot message that has it.

        A callback button sends a callback_query and returns its SimCallback (whose
        `answer` is filled in once the bot answers); a URL button opens the link.
        """
        target, button = self._find_button(label, message)
        return await self.press(target, button)

    async def double_tap(
        self, label: str, message: SimMessage | None = None
    ) -> tuple[SimCallback, SimCallback]:
        """Press a callback button twice before the bot answered the first press, as an
        impatient thumb or a phone on a slow network does: two callback queries with the
        same data on the same message, the second built from the message as it was."""
        target, button = self.find_button(label, message)
        if "callback_data" not in button:
            raise LookupError(f"button {button['text']!r} is not a callback button")
        first = await self.send_callback(target, button["callback_data"])
        second = await self.send_callback(target, button["callback_data"])
        return first, second

    def find_button(
        self, label: str, message: SimMessage | None = None
    ) -> tuple[SimMessage, dict]:
        """(message, button) tap() would press: on `message`, or the newest that has it."""
        return self._find_button(label, message)

    async def press(self, target: SimMessage, button: dict) -> SimCallback | SimMessage | None:
        """Press `button` (one of `target`'s inline buttons), as tap() does once it found it."""
        if target.chat_id != self.id or target.deleted:
            raise LookupError(f"{self.first_name} cannot see message {target.message_id}")
        if "callback_data" in button:
            return await self.send_callback(target, button["callback_data"])
        if "url" in button:
            return await self.open_link(button["url"])
        raise LookupError(f"button {button['text']!r} has neither callback_data nor url")

    async def send_callback(self, message: SimMessage, data: str) -> SimCallback:
        """A callback_query with any data on a message in this chat.

        A modified client can send data no button carries; tests use this to forge taps.
        """
        if message.chat_id != self.id:
            raise LookupError(f"{self.first_name} cannot see a message in chat {message.chat_id}")
        state = self.sim.state
        callback = SimCallback(
            state.new_callback_id(), self.id, message.message_id, data, created=state.now()
        )
        state.callbacks[callback.id] = callback
        payload = {
            "id": callback.id,
            "from": self.info.to_api(),
            "message": state.message_to_api(message),
            "chat_instance": str(7_000_000_000_000_000_000 + self.id),
            "data": callback.data,
        }
        self._queue("callback_query", payload)
        await asyncio.sleep(0)
        return callback

    async def open_link(self, url: str) -> SimMessage | None:
        """Open a link as a phone does; a link to the bot with `start` sends /start PARAM."""
        link = url.strip()
        if "://" not in link and not link.startswith("tg:"):
            link = f"https://{link}"  # people type "t.me/bot?start=x" without a scheme
        parts = urlsplit(link)
        query = parse_qs(parts.query)
        if parts.scheme in ("http", "https") and (parts.hostname or "") in _TELEGRAM_HOSTS:
            username = parts.path.strip("/").split("/")[0]
        elif parts.scheme == "tg" and parts.netloc == "resolve":
            username = (query.get("domain") or [""])[0]
        else:
            self.opened_links.append(url)
            return None
        if username.lower() != self.sim.bot_username.lower():
            raise ValueError(f"{url} leads to @{username}, not to @{self.sim.bot_username}")
        start = (query.get("start") or [""])[0]
        if _START_PARAMETER.fullmatch(start):
            # The chat shows "/start", as Telegram's apps do; only the bot sees the parameter
            # (https://core.telegram.org/bots/features#deep-linking).
            shown = SimMessage(self.id, False, text="/start", entities=[_START_ENTITY])
            return await self._send(shown, None, sent_text=f"/start {start}")
        if not self.info.started:
            return await self.send_text("/start")  # the first visit shows a Start button
        return None  # the chat just opens; Telegram ignores an invalid start parameter

    def block(self) -> None:
        """Block the bot: sends fail with 403 and the bot gets a my_chat_member update."""
        if not self.info.blocked:
            self.info.blocked = True
            self._queue_member_change("member", "kicked")

    def unblock(self) -> None:
        if self.info.blocked:
            self.info.blocked = False
            self._queue_member_change("kicked", "member")

    async def wait_for(
        self,
        text: str | None = None,
        *,
        predicate: Callable[[SimMessage], bool] | None = None,
        since: int | None = None,
        timeout: float = 10.0,  # noqa: ASYNC109 - the documented test API takes a timeout
    ) -> SimMessage:
        """The first bot message created or edited after `since` that matches.

        `since` is a seq; by default the seq right after this person's last action.
        """
        floor = self._last_action_seq if since is None else since
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            candidates = sorted(
                (m for m in self.bot_messages if m.seq > floor), key=lambda m: m.seq
            )
            for message in candidates:
                if text is not None and text not in message.text_or_caption:
                    continue
                if predicate is None or predicate(message):
                    return message
            remaining = deadline - loop.time()
            if remaining <= 0:
                recent = "\n".join(f"  {m}" for m in self.sim.messages(self.id)[-6:])
                raise TimeoutError(
                    f"{self.first_name} ({self.id}) got no bot message matching text={text!r}"
                    f" after seq {floor} within {timeout}s; last messages:\n{recent or '  none'}"
                )
            await self.sim.changed(remaining)

    # -- internals ----------------------------------------------------------------------

    def _find_button(self, label: str, message: SimMessage | None) -> tuple[SimMessage, dict]:
        if message is not None:
            if message.chat_id != self.id:
                raise LookupError(
                    f"{self.first_name} cannot see a message in chat {message.chat_id}"
                )
            candidates = [message] if not message.deleted else []
        else:
            candidates = [m for m in reversed(self.bot_messages) if m.inline_keyboard]
        for exact in (True, False):
            for candidate in candidates:
                for row in candidate.inline_keyboard:
                    for button in row:
                        name = button.get("text", "")
                        if name == label or (not exact and label in name):
                            return candidate, button
        available = [m.buttons for m in candidates[:3]]
        raise LookupError(f"{self.first_name} sees no button {label!r}; buttons: {available}")

    async def _send(
        self, message: SimMessage, reply_to: SimMessage | None, *, sent_text: str | None = None
    ) -> SimMessage:
        """Add the message to the chat and queue its update; ``sent_text`` is what the bot
        receives when it differs from what the chat shows (a deep link's /start)."""
        if reply_to is not None:
            message.reply_to_message_id = reply_to.message_id
        if self.info.blocked:
            self.unblock()  # writing to a blocked bot means pressing "Restart" first
        self.info.started = True
        state = self.sim.state
        state.add_message(message)
        payload = state.message_to_api(message)
        if sent_text is not None:
            payload["text"] = sent_text
        self._queue("message", payload)
        await asyncio.sleep(0)
        return message

    def _queue(self, kind: str, payload: dict) -> None:
        self.sim.state.queue_update(kind, payload)
        self._last_action_seq = self.sim.state.seq

    def _queue_member_change(self, old: str, new: str) -> None:
        bot = self.sim.state.bot

        def member(status: str) -> dict:
            # ChatMemberBanned requires until_date; 0 means "forever".
            extra = {"until_date": 0} if status == "kicked" else {}
            return {"user": bot, "status": status, **extra}

        payload = {
            "chat": self.info.chat_api(),
            "from": self.info.to_api(),
            "date": int(self.sim.state.now()),
            "old_chat_member": member(old),
            "new_chat_member": member(new),
        }
        self._queue("my_chat_member", payload)
