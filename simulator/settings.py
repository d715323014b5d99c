"""Bot API methods about the bot itself: identity, commands, menu button, chats (the
webhook is webhook.py's)."""

from __future__ import annotations

import re
from typing import Any

from simulator.api import Params, bad_request
from simulator.methods import method
from simulator.state import SimState

__all__ = ["scope_key"]

_COMMAND = re.compile(r"[a-z0-9_]{1,32}")
_SIMPLE_SCOPES = {"default", "all_private_chats", "all_group_chats", "all_chat_administrators"}


@method("getMe")
def get_me(state: SimState, p: Params) -> dict:
    return state.bot


@method("getChat")
def get_chat(state: SimState, p: Params) -> dict:
    user = state.users.get(p.chat_id())
    if user is None or not user.started:  # no chat until the person wrote to the bot
        raise bad_request("chat not found")
    return {
        **user.chat_api(),
        "accent_color_id": 0,
        "max_reaction_count": 11,
        "accepted_gift_types": {
            "unlimited_gifts": False,
            "limited_gifts": False,
            "unique_gifts": False,
            "premium_subscription": False,
            "gifts_from_channels": False,
        },
    }


def scope_key(state: SimState, scope: Any) -> tuple:
    """A hashable key for a BotCommandScope; chat scopes must name a known chat."""
    if scope is None:
        return ("default",)
    if not isinstance(scope, dict) or not isinstance(scope.get("type"), str):
        raise bad_request("can't parse BotCommandScope JSON object")
    kind = scope["type"]
    if kind in _SIMPLE_SCOPES:
        return (kind,)
    if kind not in ("chat", "chat_administrators", "chat_member"):
        raise bad_request("unsupported bot command scope type")
    try:
        chat_id = int(scope.get("chat_id"))
    except (TypeError, ValueError):
        raise bad_request("chat not found") from None
    user = state.users.get(chat_id)
    if user is None or not user.started:  # no chat until the person wrote to the bot
        raise bad_request("chat not found")
    if kind == "chat_member":
        try:
            return (kind, chat_id, int(scope.get("user_id")))
        except (TypeError, ValueError):
            raise bad_request("user not found") from None
    return (kind, chat_id)


def _commands_key(state: SimState, p: Params) -> tuple:
    scope = p.json("scope", invalid="can't parse BotCommandScope JSON object")
    return (scope_key(state, scope), p.string("language_code") or "")


@method("setMyCommands")
def set_my_commands(state: SimState, p: Params) -> bool:
    commands = p.json("commands", invalid="can't parse commands JSON object")
    if not isinstance(commands, list):
        raise bad_request("can't parse commands JSON object")
    if len(commands) > 100:
        raise bad_request("too many commands")
    cleaned = []
    for entry in commands:
        if not isinstance(entry, dict):
            raise bad_request("can't parse BotCommand JSON object")
        command = str(entry.get("command", "")).removeprefix("/")
        description = str(entry.get("description", ""))
        if not _COMMAND.fullmatch(command):
            raise bad_request("BOT_COMMAND_INVALID")
        if not 1 <= len(description.strip()) <= 256:
            raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        cleaned.append({"command": command, "description": description})
    key = _commands_key(state, p)
    if cleaned:
        state.commands[key] = cleaned
    else:
        state.commands.pop(key, None)  # an empty list is how Telegram clears a scope too
    return True


@method("getMyCommands")
def get_my_commands(state: SimState, p: Params) -> list[dict]:
    return list(state.commands.get(_commands_key(state, p), []))


@method("deleteMyCommands")
def delete_my_commands(state: SimState, p: Params) -> bool:
    state.commands.pop(_commands_key(state, p), None)
    return True


_MENU_TYPES = {"commands", "web_app", "default"}


@method("setChatMenuButton")
def set_chat_menu_button(state: SimState, p: Params) -> bool:
    chat_id = p.integer("chat_id", invalid="chat not found")
    if chat_id is not None and chat_id not in state.users:
        raise bad_request("chat not found")
    button = p.json("menu_button", {"type": "default"}, invalid="can't parse menu button")
    if not isinstance(button, dict) or button.get("type") not in _MENU_TYPES:
        raise bad_request("can't parse menu button")
    if button["type"] == "web_app" and not (button.get("text") and button.get("web_app")):
        raise bad_request("can't parse menu button")
    if button["type"] == "default":
        state.menu_buttons.pop(chat_id, None)
    else:
        state.menu_buttons[chat_id] = button
    return True


@method("getChatMenuButton")
def get_chat_menu_button(state: SimState, p: Params) -> dict:
    chat_id = p.integer("chat_id", invalid="chat not found")
    if chat_id is not None and chat_id not in state.users:
        raise bad_request("chat not found")
    if chat_id is not None and chat_id in state.menu_buttons:
        return state.menu_buttons[chat_id]
    return state.menu_buttons.get(None, {"type": "commands"})


# https://core.telegram.org/bots/api#setmydescription: "0-512 characters", and
# https://core.telegram.org/bots/api#setmyshortdescription: "0-120 characters"; an empty
# string removes the description for that language.
MAX_DESCRIPTION = 512
MAX_SHORT_DESCRIPTION = 120


def _set_described(store: dict[str, str], p: Params, key: str, limit: int) -> bool:
    text = p.string(key) or ""
    if len(text) > limit:
        raise bad_request(f"{key.replace('_', ' ')} is too long")
    language = p.string("language_code") or ""
    if text:
        store[language] = text
    else:
        store.pop(language, None)
    return True


def _described(store: dict[str, str], p: Params) -> str:
    language = p.string("language_code") or ""
    return store.get(language, store.get("", ""))


@method("setMyDescription")
def set_my_description(state: SimState, p: Params) -> bool:
    return _set_described(state.descriptions, p, "description", MAX_DESCRIPTION)


@method("getMyDescription")
def get_my_description(state: SimState, p: Params) -> dict:
    return {"description": _described(state.descriptions, p)}


@method("setMyShortDescription")
def set_my_short_description(state: SimState, p: Params) -> bool:
    return _set_described(state.short_descriptions, p, "short_description", MAX_SHORT_DESCRIPTION)


@method("getMyShortDescription")
def get_my_short_description(state: SimState, p: Params) -> dict:
    return {"short_description": _described(state.short_descriptions, p)}
