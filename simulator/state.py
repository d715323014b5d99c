"""Everything the simulated Telegram remembers: users, chats, messages, updates, files.

Pure data: no asyncio, no HTTP. Changes are reported through `SimState.on_change` so the
server can wake long polls and waiters and feed subscribers.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from simulator.message import SimFile, SimMessage

__all__ = ["SimAlert", "SimCallback", "SimFile", "SimMessage", "SimState", "UserInfo"]


@dataclass
class UserInfo:
    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = None
    blocked: bool = False
    started: bool = True  # False: never wrote to the bot, so it has no chat ("chat not found")

    def to_api(self) -> dict:
        user: dict[str, Any] = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        for key in ("last_name", "username", "language_code"):
            if getattr(self, key):
                user[key] = getattr(self, key)
        return user

    def chat_api(self) -> dict:
        chat: dict[str, Any] = {"id": self.id, "type": "private", "first_name": self.first_name}
        for key in ("last_name", "username"):
            if getattr(self, key):
                chat[key] = getattr(self, key)
        return chat


@dataclass(frozen=True)
class SimAlert:
    """What answerCallbackQuery showed the person: a toast, a modal alert or a URL."""

    text: str | None
    show_alert: bool = False
    url: str | None = None
    query_id: str = ""


@dataclass
class SimCallback:
    id: str
    user_id: int
    message_id: int
    data: str
    answer: SimAlert | None = None
    created: float = 0.0  # SimState.now() when the button was pressed


@dataclass
class SimState:
    bot: dict  # the bot's User object, as getMe returns it
    now: Callable[[], float]
    on_change: Callable[[dict], None] | None = None
    users: dict[int, UserInfo] = field(default_factory=dict)
    chats: dict[int, dict[int, SimMessage]] = field(default_factory=dict)
    files: dict[str, SimFile] = field(default_factory=dict)
    files_by_path: dict[str, SimFile] = field(default_factory=dict)
    updates: list[dict] = field(default_factory=list)
    callbacks: dict[str, SimCallback] = field(default_factory=dict)
    alerts: dict[int, list[SimAlert]] = field(default_factory=dict)
    commands: dict[tuple, list[dict]] = field(default_factory=dict)
    menu_buttons: dict[int | None, dict] = field(default_factory=dict)
    # setMyDescription / setMyShortDescription, by language_code ("" for every language).
    descriptions: dict[str, str] = field(default_factory=dict)
    short_descriptions: dict[str, str] = field(default_factory=dict)
    allowed_updates: set[str] | None = None
    # Seconds a callback query may wait for its answer; None: no limit. Telegram documents
    # no figure (https://core.telegram.org/bots/api#answercallbackquery), but the client
    # stops waiting and a late answer gets "query is too old"; tests set it to model that.
    callback_answer_window: float | None = None
    # Group chats the bot was added to (simulator/groups.py), by chat id.
    groups: dict[int, Any] = field(default_factory=dict)
    webhook: Any = None  # a simulator.webhook.Webhook while one is set (setWebhook)
    seq: int = 0
    next_update_id: int = 1
    _file_counter: int = 0

    # -- bookkeeping --------------------------------------------------------------------

    def next_seq(self) -> int:
        self.seq += 1
        return self.seq

    def emit(self, event: dict) -> None:
        if self.on_change is not None:
            self.on_change(event)

    def reset(self) -> None:
        """Forget conversations, updates and files.

        Users and the bot's own settings (commands, menu buttons) stay: a bot sets those once
        at startup and keeps running across a reset.
        """
        self.chats = {uid: {} for uid in self.users}
        self.files.clear()
        self.files_by_path.clear()
        self.updates.clear()
        self.callbacks.clear()
        self.alerts = {uid: [] for uid in self.users}
        self.emit({"type": "reset"})

    # -- users and messages -------------------------------------------------------------

    def add_user(self, info: UserInfo) -> None:
        self.users[info.id] = info
        self.chats.setdefault(info.id, {})
        self.alerts.setdefault(info.id, [])

    def chat_messages(self, chat_id: int) -> list[SimMessage]:
        return list(self.chats.get(chat_id, {}).values())

    def get_message(self, chat_id: int, message_id: int) -> SimMessage | None:
        return self.chats.get(chat_id, {}).get(message_id)

    def add_message(self, message: SimMessage) -> SimMessage:
        chat = self.chats.setdefault(message.chat_id, {})
        # Ids only grow (deleted messages stay in the dict), so the last key is the highest.
        message.message_id = next(reversed(chat), 0) + 1
        message.date = int(self.now())
        message.seq = self.next_seq()
        chat[message.message_id] = message
        self.emit({"type": "message", "chat_id": message.chat_id, "message": message})
        return message

    def touch_edited(self, message: SimMessage) -> None:
        message.edit_count += 1
        message.edit_date = int(self.now())
        message.seq = self.next_seq()
        self.emit({"type": "edit", "chat_id": message.chat_id, "message": message})

    def mark_deleted(self, message: SimMessage) -> None:
        message.deleted = True
        message.seq = self.next_seq()
        self.emit({"type": "delete", "chat_id": message.chat_id, "message": message})

    def message_to_api(self, message: SimMessage, *, with_reply: bool = True) -> dict:
        user = self.users[message.chat_id]
        sender = self.bot if message.from_bot else user.to_api()
        result = message.to_api(sender, user.chat_api())
        if with_reply and message.reply_to_message_id is not None:
            replied = self.get_message(message.chat_id, message.reply_to_message_id)
            if replied is not None and not replied.deleted:
                result["reply_to_message"] = self.message_to_api(replied, with_reply=False)
        return result

    # -- files --------------------------------------------------------------------------

    def add_file(
        self,
        data: bytes,
        kind: str,
        *,
        file_name: str | None = None,
        mime_type: str | None = None,
        width: int = 0,
        height: int = 0,
        extension: str = "",
    ) -> SimFile:
        self._file_counter += 1
        prefix = {"photo": "AgACAgUAAxk", "document": "BQACAgUAAxk"}[kind]
        folder = {"photo": "photos", "document": "documents"}[kind]
        sim_file = SimFile(
            file_id=f"{prefix}{self._file_counter:06d}{secrets.token_urlsafe(18)}",
            file_unique_id=f"AQAD{self._file_counter:04d}{secrets.token_urlsafe(6)}",
            kind=kind,
            data=data,
            file_name=file_name,
            mime_type=mime_type,
            width=width,
            height=height,
            file_path=f"{folder}/file_{self._file_counter}{extension}",
        )
        self.files[sim_file.file_id] = sim_file
        self.files_by_path[sim_file.file_path] = sim_file
        return sim_file

    # -- updates ------------------------------------------------------------------------

    def queue_update(self, kind: str, payload: dict) -> dict:
        update = {"update_id": self.next_update_id, kind: payload}
        self.next_update_id += 1
        self.updates.append(update)
        self.emit({"type": "update", "update": update})
        return update

    def confirm(self, offset: int | None) -> bool:
        """Apply a getUpdates offset; True if it forgot any update."""
        if offset is None or not self.updates:
            return False
        before = len(self.updates)
        if offset < 0:
            self.updates = self.updates[offset:]
        else:
            self.updates = [u for u in self.updates if u["update_id"] >= offset]
        return len(self.updates) != before

    def deliverable(self, limit: int) -> list[dict]:
        """Pending updates the bot asked for; ones of other types are dropped for good."""
        if self.allowed_updates is None:
            keep = [u for u in self.updates if _update_type(u) not in DEFAULT_EXCLUDED_UPDATES]
        else:
            keep = [u for u in self.updates if _update_type(u) in self.allowed_updates]
        self.updates = keep
        return keep[:limit]

    def new_callback_id(self) -> str:
        return str(secrets.randbits(62))

    # -- commands -----------------------------------------------------------------------

    def commands_for(self, chat_id: int) -> list[tuple[str, str]]:
        """The list a private chat's menu shows: the most specific scope that is set."""
        user = self.users.get(chat_id)
        language = (user.language_code if user else None) or ""
        for scope in (("chat", chat_id), ("all_private_chats",), ("default",)):
            for lang in dict.fromkeys((language, "")):
                commands = self.commands.get((scope, lang))
                if commands:
                    return [(c["command"], c["description"]) for c in commands]
        return []

    def description_for(self, chat_id: int) -> str:
        """What an empty chat with the bot shows before Start ("What can this bot do?")."""
        user = self.users.get(chat_id)
        language = (user.language_code if user else None) or ""
        return self.descriptions.get(language) or self.descriptions.get("", "")


# Types a bot gets when allowed_updates is empty or absent (Telegram's documented default).
DEFAULT_EXCLUDED_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})


def _update_type(update: dict) -> str:
    return next(key for key in update if key != "update_id")
