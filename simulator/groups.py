"""Group chats: someone adds the bot to a group, people write there, the bot leaves.

Telegram tells a bot it was added to a group with a ``my_chat_member`` update whose ``from``
is the person who added it (https://core.telegram.org/bots/api#chatmemberupdated), and
messages and button taps there carry the group as their chat. ``leaveChat`` takes the bot
out (https://core.telegram.org/bots/api#leavechat); the bot then gets a ``my_chat_member``
update saying it left, and nothing from that group any more.

Kept apart from the private-chat model (people.py, methods.py): a group is a chat id, a
title, a type and whether the bot is in it, plus the messages people wrote there.
"""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import simulator.media  # noqa: F401  (registers sendPhoto and sendDocument, guarded below)
from simulator.api import ApiError, Params, bad_request
from simulator.methods import METHODS, method
from simulator.state import SimState

if TYPE_CHECKING:
    from simulator.server import BotApiSimulator

__all__ = ["SimGroup", "add_group"]

_ids = itertools.count(1)


@dataclass
class SimGroup:
    """A group or supergroup chat; supergroup ids look like -100<digits>, as Telegram's."""

    sim: BotApiSimulator
    id: int
    title: str
    type: str = "supergroup"
    bot_member: bool = False
    left_at: int | None = None
    next_message_id: int = 1
    written: list[dict] = field(default_factory=list)  # what people wrote, as the bot got it
    bot_sent: list[str] = field(default_factory=list)  # the send methods the bot called here

    def chat_api(self) -> dict:
        return {"id": self.id, "type": self.type, "title": self.title}

    def add_bot(self, by: int) -> None:
        """``by`` adds the bot to the group: the bot gets my_chat_member (left -> member)."""
        self.bot_member = True
        self._member_change(by, "left", "member")

    async def send_text(self, by: int, text: str) -> dict:
        """A person writes in the group; a /command carries its bot_command entity."""
        state = self.sim.state
        message: dict = {
            "message_id": self.next_message_id,
            "from": state.users[by].to_api(),
            "chat": self.chat_api(),
            "date": int(state.now()),
            "text": text,
        }
        if text.startswith("/"):
            length = len(text.split()[0])
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
        self.next_message_id += 1
        self.written.append(message)
        if self.bot_member:  # a bot hears nothing from a group it is not in
            state.queue_update("message", message)
        await asyncio.sleep(0)
        return message

    def _member_change(self, by: int, old: str, new: str) -> None:
        state = self.sim.state
        state.queue_update(
            "my_chat_member",
            {
                "chat": self.chat_api(),
                "from": state.users[by].to_api(),
                "date": int(state.now()),
                "old_chat_member": {"user": state.bot, "status": old},
                "new_chat_member": {"user": state.bot, "status": new},
            },
        )


def add_group(sim: BotApiSimulator, title: str, *, kind: str = "supergroup") -> SimGroup:
    """A new group chat (without the bot in it yet)."""
    number = next(_ids)
    chat_id = -(10**12 + number) if kind == "supergroup" else -number
    group = SimGroup(sim, chat_id, title, kind)
    sim.state.groups[chat_id] = group
    return group


@method("leaveChat")
def leave_chat(state: SimState, p: Params) -> bool:
    chat_id = p.chat_id()
    if chat_id in state.users:
        # What the Bot API answers for a private chat.
        raise bad_request("chat member status can't be changed in private chats")
    group = state.groups.get(chat_id)
    if group is None or not group.bot_member:
        raise bad_request("chat not found")
    group.bot_member = False
    group.left_at = int(state.now())
    state.queue_update(
        "my_chat_member",
        {
            "chat": group.chat_api(),
            "from": state.bot,
            "date": int(state.now()),
            "old_chat_member": {"user": state.bot, "status": "member"},
            "new_chat_member": {"user": state.bot, "status": "left"},
        },
    )
    state.emit({"type": "group_left", "chat_id": chat_id})
    return True


# The sends a bot could post into a group with; each is recorded on the group first.
_GUARDED = ("sendMessage", "sendPhoto", "sendDocument", "sendChatAction")


def _guard(name: str) -> None:
    canonical, original = METHODS[name.lower()]

    def guarded(state: SimState, p: Params) -> object:
        try:
            group = state.groups.get(int(str(p.raw.get("chat_id"))))
        except ValueError:
            group = None
        if group is None:
            return original(state, p)
        group.bot_sent.append(canonical)
        if not group.bot_member:
            raise ApiError(403, f"Forbidden: bot is not a member of the {group.type} chat")
        if canonical == "sendChatAction":
            return True
        # Delivered into the group: the shape of a Message, enough for a bot to go on.
        message_id = group.next_message_id
        group.next_message_id += 1
        return {
            "message_id": message_id,
            "from": state.bot,
            "chat": group.chat_api(),
            "date": int(state.now()),
        }

    METHODS[name.lower()] = (canonical, guarded)


for _name in _GUARDED:
    _guard(_name)
