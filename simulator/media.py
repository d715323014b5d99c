"""Bot API methods that carry files: photos, documents, and fetching files back."""

from __future__ import annotations

import mimetypes
import os

from simulator.api import Params, Upload, bad_request
from simulator.content import image_size, photo_dimensions
from simulator.message import SimFile, SimMessage
from simulator.methods import (
    NOT_MODIFIED,
    apply_markup,
    caption_of,
    deliver,
    editable,
    extras,
    inline,
    markup_of,
    method,
    recipient,
)
from simulator.state import SimState

__all__ = ["store_document", "store_photo"]

MAX_DOWNLOAD = 20 * 1024 * 1024  # getFile refuses bigger files, as Telegram's cloud API does


def _stored_file(state: SimState, file_id: str, kind: str) -> SimFile:
    if file_id.startswith(("http://", "https://")):
        raise bad_request("failed to get HTTP URL content")
    stored = state.files.get(file_id)
    if stored is None:
        raise bad_request("wrong file identifier/HTTP URL specified")
    if stored.kind != kind:
        raise bad_request("type of file mismatch")
    return stored


def store_photo(state: SimState, data: bytes, *, strict: bool) -> list[SimFile]:
    """Register an uploaded photo as a set of PhotoSizes (all sharing the bytes)."""
    size = image_size(data)
    if size is None:
        if strict:
            raise bad_request("IMAGE_PROCESS_FAILED")
        size = (1280, 960)  # a person's phone always sends a real photo; be lenient
    width, height = size
    if strict and (width + height > 10000 or max(width, height) > 20 * min(width, height)):
        raise bad_request("PHOTO_INVALID_DIMENSIONS")
    sizes = [
        state.add_file(data, "photo", width=w, height=h, extension=".jpg", mime_type="image/jpeg")
        for w, h in photo_dimensions(width, height)
    ]
    for sim_file in sizes:
        sim_file.siblings = [s.file_id for s in sizes]
    return sizes


def store_document(state: SimState, data: bytes, file_name: str, mime_type: str | None) -> SimFile:
    if not data:
        raise bad_request("file must be non-empty")
    # Telegram derives the type from the name, as a phone would; the part header is a hint.
    mime = mimetypes.guess_type(file_name, strict=False)[0] or mime_type
    return state.add_file(
        data,
        "document",
        file_name=file_name,
        mime_type=mime or "application/octet-stream",
        extension=os.path.splitext(file_name)[1][:10],
    )


@method("sendPhoto")
def send_photo(state: SimState, p: Params) -> dict:
    user = recipient(state, p)
    photo = p.file("photo")
    if photo is None:
        raise bad_request("there is no photo in the request")
    caption, caption_html, caption_entities = caption_of(p)
    more = extras(state, p, user.id)
    if isinstance(photo, Upload):
        sizes = store_photo(state, photo.data, strict=True)
    else:
        stored = _stored_file(state, photo, "photo")
        sizes = [state.files[file_id] for file_id in stored.siblings or [stored.file_id]]
    message = SimMessage(
        user.id,
        True,
        caption=caption,
        caption_html=caption_html,
        caption_entities=caption_entities,
        photo=sizes,
        **more,
    )
    return deliver(state, message)


@method("sendDocument")
def send_document(state: SimState, p: Params) -> dict:
    user = recipient(state, p)
    document = p.file("document")
    if document is None:
        raise bad_request("there is no document in the request")
    caption, caption_html, caption_entities = caption_of(p)
    more = extras(state, p, user.id)
    if isinstance(document, Upload):
        name = document.filename or "document"
        stored = store_document(state, document.data, name, document.content_type)
    else:
        stored = _stored_file(state, document, "document")
    message = SimMessage(
        user.id,
        True,
        caption=caption,
        caption_html=caption_html,
        caption_entities=caption_entities,
        document=stored,
        **more,
    )
    return deliver(state, message)


@method("editMessageMedia")
def edit_message_media(state: SimState, p: Params) -> dict:
    """A photo or a document put in place of a message's media (or added to a text), its
    caption from the InputMedia object. Errors as telegram-bot-api words them (Client.cpp,
    get_input_media): only photos and documents are simulated."""
    message = editable(state, p)
    markup = markup_of(p)
    raw = p.string("media")
    media = p.json("media", invalid="Can't parse input media JSON object")
    if raw is None or not isinstance(media, dict):
        raise bad_request("Can't parse input media JSON object")
    kind = media.get("type")
    if not isinstance(kind, str):
        raise bad_request('Can\'t parse InputMedia: Field "type" must be of type String')
    # The object's own fields, with the request's uploads for its attach:// reference.
    inner = Params({**{k: v for k, v in p.raw.items() if isinstance(v, Upload)}, **media})
    new_file = inner.file("media")
    if new_file is None or new_file == "":
        raise bad_request("Can't parse InputMedia: media not found")
    if kind not in ("photo", "document"):
        raise bad_request(f'Can\'t parse InputMedia: type "{kind}" is unsupported')
    caption, caption_html, caption_entities = caption_of(inner)
    if kind == "photo":
        if isinstance(new_file, Upload):
            sizes = store_photo(state, new_file.data, strict=True)
        else:
            stored = _stored_file(state, new_file, "photo")
            sizes = [state.files[file_id] for file_id in stored.siblings or [stored.file_id]]
        same = message.photo is not None and message.photo[-1].file_id == sizes[-1].file_id
        document = None
    else:
        if isinstance(new_file, Upload):
            document = store_document(
                state, new_file.data, new_file.filename or "document", new_file.content_type
            )
        else:
            document = _stored_file(state, new_file, "document")
        same = message.document is not None and message.document.file_id == document.file_id
        sizes = None
    if same and (caption, caption_entities, markup) == (
        message.caption,
        message.caption_entities,
        inline(message.reply_markup),
    ):
        raise bad_request(NOT_MODIFIED)
    message.photo, message.document, message.text, message.html = sizes, document, None, None
    message.entities = []
    message.caption, message.caption_html = caption, caption_html
    message.caption_entities = caption_entities
    apply_markup(message, markup)
    state.touch_edited(message)
    return state.message_to_api(message)


@method("getFile")
def get_file(state: SimState, p: Params) -> dict:
    stored = state.files.get(p.string("file_id") or "")
    if stored is None:
        raise bad_request("wrong file_id or the file is temporarily unavailable")
    if stored.size > MAX_DOWNLOAD:
        raise bad_request("file is too big")
    return {
        "file_id": stored.file_id,
        "file_unique_id": stored.file_unique_id,
        "file_size": stored.size,
        "file_path": stored.file_path,
    }
