"""Bot API methods that create, change or read chat content.

Each method takes the state and typed parameters and returns the `result` value, or raises
ApiError worded as Telegram's. File-carrying methods are in media.py, bot settings in
settings.py, getUpdates in polling.py.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from simulator.api import ApiError, Params, bad_request
from simulator.content import (
    MAX_CAPTION,
    MAX_TEXT,
    check_reply_markup,
    formatted,
)
from simulator.message import SimMessage
from simulator.state import SimAlert, SimState, UserInfo

__all__ = ["METHODS", "method"]

Method = Callable[[SimState, Params], Any]
# lower-case name -> (canonical name, implementation); Telegram matches names case-insensitively.
METHODS: dict[str, tuple[str, Method]] = {}

CHAT_ACTIONS = {
    "typing",
    "upload_photo",
    "record_video",
    "upload_video",
    "record_voice",
    "upload_voice",
    "upload_document",
    "choose_sticker",
    "find_location",
    "record_video_note",
    "upload_video_note",
}
NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly the "
    "same as a current content and reply markup of the message"
)


def method(name: str) -> Callable[[Method], Method]:
    def register(fn: Method) -> Method:
        METHODS[name.lower()] = (name, fn)
        return fn

    return register


# -- shared checks ------------------------------------------------------------------------


def recipient(state: SimState, p: Params) -> UserInfo:
    """The user a new message goes to, refusing as Telegram does.

    Someone who blocked the bot: 403 "bot was blocked by the user" (telegram-bot-api maps
    USER_IS_BLOCKED to it, Client.cpp). Someone who never wrote to the bot has no chat with
    it; the Bot API cannot resolve the id and answers "Bad Request: chat not found".
    """
    user = _chat(state, p)
    if user.blocked:
        raise ApiError(403, "Forbidden: bot was blocked by the user")
    return user


def _chat(state: SimState, p: Params) -> UserInfo:
    """The private chat ``chat_id`` names; it exists once its person has written to the bot."""
    user = state.users.get(p.chat_id())
    if user is None or not user.started:
        raise bad_request("chat not found")
    return user


def _reply_target(state: SimState, p: Params, chat_id: int) -> int | None:
    reply = p.json("reply_parameters")
    if isinstance(reply, dict):
        target, allow = reply.get("message_id"), bool(reply.get("allow_sending_without_reply"))
    else:
        target = p.integer("reply_to_message_id")
        allow = p.boolean("allow_sending_without_reply")
    if target is None:
        return None
    try:
        replied = state.get_message(chat_id, int(target))
    except (TypeError, ValueError):
        replied = None
    if replied is None or replied.deleted:
        if allow:
            return None
        raise bad_request("message to be replied not found")
    return replied.message_id


def markup_of(p: Params) -> dict | None:
    value = p.json("reply_markup", invalid="can't parse reply keyboard markup JSON object")
    return check_reply_markup(value)


def inline(markup: dict | None) -> dict | None:
    return markup if markup and "inline_keyboard" in markup else None


def caption_of(p: Params) -> tuple[str | None, str | None, list[dict]]:
    caption = formatted(p, "caption", "caption_entities")
    if caption is None or not caption.text:
        return None, None, []
    if len(caption.text) > MAX_CAPTION:
        raise bad_request("message caption is too long")
    return caption.text, caption.html, caption.entities


def extras(state: SimState, p: Params, chat_id: int) -> dict:
    """reply_markup, the replied-to message and protect_content, checked before anything is
    stored."""
    return {
        "reply_markup": markup_of(p),
        "reply_to_message_id": _reply_target(state, p, chat_id),
        "protected": p.boolean("protect_content"),
    }


def deliver(state: SimState, message: SimMessage) -> dict:
    state.add_message(message)
    return state.message_to_api(message)


# -- sending ------------------------------------------------------------------------------


@method("sendMessage")
def send_message(state: SimState, p: Params) -> dict:
    user = recipient(state, p)
    text = formatted(p, "text", "entities")
    if text is None or not text.text:
        raise bad_request("message text is empty")
    if len(text.text) > MAX_TEXT:
        raise bad_request("message is too long")
    message = SimMessage(
        user.id, True, text.text, text.html, text.entities, **extras(state, p, user.id)
    )
    return deliver(state, message)


@method("sendChatAction")
def send_chat_action(state: SimState, p: Params) -> bool:
    user = recipient(state, p)
    action = p.string("action")
    if action not in CHAT_ACTIONS:
        raise bad_request("wrong parameter action in request")
    state.emit({"type": "action", "chat_id": user.id, "action": action})
    return True


# -- editing and deleting -----------------------------------------------------------------


def editable(state: SimState, p: Params) -> SimMessage:
    if "inline_message_id" in p:
        raise bad_request("MESSAGE_ID_INVALID")  # inline mode is not simulated
    user = _chat(state, p)
    message_id = p.integer("message_id", invalid="message to edit not found")
    if message_id is None:
        raise bad_request("message identifier is not specified")
    message = state.get_message(user.id, message_id)
    if message is None or message.deleted:
        raise bad_request("message to edit not found")
    if not message.from_bot:
        raise bad_request("message can't be edited")
    return message


def apply_markup(message: SimMessage, markup: dict | None) -> None:
    # Omitting reply_markup in an edit removes the inline keyboard, as on Telegram.
    if markup is not None or inline(message.reply_markup):
        message.reply_markup = markup


@method("editMessageText")
def edit_message_text(state: SimState, p: Params) -> dict:
    message = editable(state, p)
    if message.text is None:
        raise bad_request("there is no text in the message to edit")
    text = formatted(p, "text", "entities")
    if text is None or not text.text:
        raise bad_request("message text is empty")
    if len(text.text) > MAX_TEXT:
        raise bad_request("message is too long")
    markup = markup_of(p)
    if (text.text, text.entities, markup) == (
        message.text,
        message.entities,
        inline(message.reply_markup),
    ):
        raise bad_request(NOT_MODIFIED)
    message.text, message.html, message.entities = text.text, text.html, text.entities
    apply_markup(message, markup)
    state.touch_edited(message)
    return state.message_to_api(message)


@method("editMessageCaption")
def edit_message_caption(state: SimState, p: Params) -> dict:
    message = editable(state, p)
    if not (message.photo or message.document):
        raise bad_request("there is no caption in the message to edit")
    caption, caption_html, caption_entities = caption_of(p)
    markup = markup_of(p)
    if (caption, caption_entities, markup) == (
        message.caption,
        message.caption_entities,
        inline(message.reply_markup),
    ):
        raise bad_request(NOT_MODIFIED)
    message.caption, message.caption_html = caption, caption_html
    message.caption_entities = caption_entities
    apply_markup(message, markup)
    state.touch_edited(message)
    return state.message_to_api(message)


@method("editMessageReplyMarkup")
def edit_message_reply_markup(state: SimState, p: Params) -> dict:
    message = editable(state, p)
    markup = markup_of(p)
    if markup == inline(message.reply_markup):
        raise bad_request(NOT_MODIFIED)
    apply_markup(message, markup)
    state.touch_edited(message)
    return state.message_to_api(message)


@method("deleteMessage")
def delete_message(state: SimState, p: Params) -> bool:
    user = _chat(state, p)
    message_id = p.integer("message_id", invalid="message to delete not found")
    if message_id is None:
        raise bad_request("message identifier is not specified")
    message = state.get_message(user.id, message_id)
    if message is None or message.deleted:
        raise bad_request("message to delete not found")
    state.mark_deleted(message)
    return True


@method("deleteMessages")
def delete_messages(state: SimState, p: Params) -> bool:
    user = _chat(state, p)
    ids = p.json("message_ids")
    if not isinstance(ids, list) or not 1 <= len(ids) <= 100:
        raise bad_request("message_ids must be a non-empty list of at most 100 identifiers")
    for message_id in ids:
        if not isinstance(message_id, int | str) or not str(message_id).lstrip("-").isdigit():
            raise bad_request("message_ids must be a non-empty list of at most 100 identifiers")
        message = state.get_message(user.id, int(message_id))
        if message is not None and not message.deleted:
            state.mark_deleted(message)
    return True


# -- callbacks ----------------------------------------------------------------------------


@method("answerCallbackQuery")
def answer_callback_query(state: SimState, p: Params) -> bool:
    # A query is answered once; a second answer, or one after the client stopped waiting,
    # gets QUERY_ID_INVALID, which telegram-bot-api words as below (Client.cpp).
    query = state.callbacks.get(p.string("callback_query_id") or "")
    window = state.callback_answer_window
    late = query is not None and window is not None and state.now() - query.created > window
    if query is None or query.answer is not None or late:
        raise bad_request("query is too old and response timeout expired or query ID is invalid")
    if len(p.string("text") or "") > 200:
        raise bad_request("MESSAGE_TOO_LONG")
    alert = SimAlert(
        text=p.string("text") or None,
        show_alert=p.boolean("show_alert"),
        url=p.string("url") or None,
        query_id=query.id,
    )
    query.answer = alert
    state.alerts.setdefault(query.user_id, []).append(alert)
    state.emit({"type": "alert", "chat_id": query.user_id, "alert": alert})
    return True
