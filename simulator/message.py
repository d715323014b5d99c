"""One message of a simulated chat, and the files messages carry."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["SimFile", "SimMessage", "file_url"]


@dataclass
class SimFile:
    file_id: str
    file_unique_id: str
    kind: str  # "photo" (one PhotoSize) or "document"
    data: bytes = field(repr=False)
    file_path: str
    file_name: str | None = None
    mime_type: str | None = None
    width: int = 0
    height: int = 0
    # All sizes of the same photo, smallest first; re-sending any of them re-sends the set.
    siblings: list[str] = field(default_factory=list)

    @property
    def size(self) -> int:
        return len(self.data)

    def photo_size_api(self) -> dict:
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "width": self.width,
            "height": self.height,
            "file_size": self.size,
        }

    def document_api(self) -> dict:
        doc: dict[str, Any] = {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": self.size,
        }
        if self.file_name:
            doc["file_name"] = self.file_name
        if self.mime_type:
            doc["mime_type"] = self.mime_type
        return doc


def file_url(sim_file: SimFile) -> str:
    """Path under the simulator (no token) where a browser page can fetch the bytes."""
    return f"/sim/files/{sim_file.file_id}"


@dataclass
class SimMessage:
    chat_id: int
    from_bot: bool
    text: str | None = None  # plain text, after entity parsing
    html: str | None = None  # the text as sent, when parse_mode was HTML
    entities: list[dict] = field(default_factory=list)
    caption: str | None = None
    caption_html: str | None = None
    caption_entities: list[dict] = field(default_factory=list)
    photo: list[SimFile] | None = None  # sizes, smallest first
    document: SimFile | None = None
    contact: dict | None = None  # a shared contact card (Bot API Contact), as sent
    media_group_id: str | None = None  # one of several photos sent together (an album)
    protected: bool = False  # sent with protect_content: cannot be forwarded or saved
    reply_markup: dict | None = None  # exactly as the bot sent it
    reply_to_message_id: int | None = None
    message_id: int = 0
    date: int = 0
    seq: int = 0  # global change counter: set on create, edit and delete
    edit_count: int = 0
    edit_date: int | None = None
    deleted: bool = False

    # -- convenience for tests and the demo ----------------------------------------------

    @property
    def text_or_caption(self) -> str:
        return self.text if self.text is not None else (self.caption or "")

    @property
    def inline_keyboard(self) -> list[list[dict]]:
        markup = self.reply_markup or {}
        return markup.get("inline_keyboard") or []

    @property
    def buttons(self) -> list[list[str]]:
        return [[button["text"] for button in row] for row in self.inline_keyboard]

    @property
    def reply_keyboard(self) -> list[list[str]] | None:
        markup = self.reply_markup or {}
        if "keyboard" not in markup:
            return None
        return [
            [b if isinstance(b, str) else b.get("text", "") for b in row]
            for row in markup["keyboard"]
        ]

    def find_button(self, label: str) -> dict | None:
        """The inline button labelled exactly `label`, else the first one containing it."""
        flat = [button for row in self.inline_keyboard for button in row]
        exact = [b for b in flat if b.get("text") == label]
        if exact:
            return exact[0]
        return next((b for b in flat if label in b.get("text", "")), None)

    def callback_data(self, label: str) -> str:
        button = self.find_button(label)
        if button is None or "callback_data" not in button:
            raise LookupError(f"no callback button {label!r}; buttons: {self.buttons}")
        return button["callback_data"]

    @property
    def photo_bytes(self) -> bytes | None:
        return self.photo[-1].data if self.photo else None

    @property
    def document_bytes(self) -> bytes | None:
        return self.document.data if self.document else None

    @property
    def document_name(self) -> str | None:
        return self.document.file_name if self.document else None

    @property
    def document_mime_type(self) -> str | None:
        return self.document.mime_type if self.document else None

    def __str__(self) -> str:
        who = "bot" if self.from_bot else "user"
        extra = " [photo]" if self.photo else f" [{self.document_name}]" if self.document else ""
        buttons = f" {self.buttons}" if self.buttons else ""
        gone = " (deleted)" if self.deleted else ""
        return f"#{self.message_id} {who}{extra}: {self.text_or_caption!r}{buttons}{gone}"

    # -- wire formats --------------------------------------------------------------------

    def to_api(self, sender: dict, chat: dict) -> dict:
        """The Bot API Message object (without reply_to_message, which needs the chat)."""
        result: dict[str, Any] = {
            "message_id": self.message_id,
            "from": sender,
            "chat": chat,
            "date": self.date,
        }
        if self.edit_date is not None:
            result["edit_date"] = self.edit_date
        if self.text is not None:
            result["text"] = self.text
            if self.entities:
                result["entities"] = self.entities
        if self.photo:
            result["photo"] = [size.photo_size_api() for size in self.photo]
        if self.document is not None:
            result["document"] = self.document.document_api()
        if self.contact is not None:
            result["contact"] = self.contact
        if self.media_group_id is not None:
            result["media_group_id"] = self.media_group_id
        if self.protected:
            result["has_protected_content"] = True
        if self.caption:
            result["caption"] = self.caption
            if self.caption_entities:
                result["caption_entities"] = self.caption_entities
        if self.reply_markup and "inline_keyboard" in self.reply_markup:
            # Telegram echoes only inline keyboards; reply keyboards live on the client.
            result["reply_markup"] = self.reply_markup
        return result

    def to_json(self) -> dict:
        """A JSON-friendly view for the browser phones."""
        document = None
        if self.document is not None:
            document = {
                "name": self.document.file_name,
                "mime_type": self.document.mime_type,
                "size": self.document.size,
                "url": file_url(self.document),
            }
        return {
            "chat_id": self.chat_id,
            "message_id": self.message_id,
            "seq": self.seq,
            "from_bot": self.from_bot,
            "date": self.date,
            "text": self.text,
            "html": self.html,
            "caption": self.caption,
            "caption_html": self.caption_html,
            "photo": file_url(self.photo[-1]) if self.photo else None,
            "photo_file_id": self.photo[-1].file_id if self.photo else None,
            "document": document,
            "buttons": [
                [
                    {k: v for k, v in button.items() if k in ("text", "callback_data", "url")}
                    for button in row
                ]
                for row in self.inline_keyboard
            ],
            "reply_keyboard": self.reply_keyboard,
            "reply_markup": self.reply_markup,
            "reply_to_message_id": self.reply_to_message_id,
            "edit_count": self.edit_count,
            "deleted": self.deleted,
        }
