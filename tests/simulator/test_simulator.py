"""The Bot API simulator driven method by method with a real python-telegram-bot Bot."""

import asyncio
import io
import json

import httpx
import pytest
from PIL import Image
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeChat,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputMediaPhoto,
    MenuButtonCommands,
    MenuButtonWebApp,
    ReplyKeyboardMarkup,
    ReplyParameters,
    WebAppInfo,
)
from telegram.error import BadRequest, Conflict, Forbidden, InvalidToken
from telegram.request import HTTPXRequest

from simulator import BotApiSimulator

USER = 1001


def jpeg(width=640, height=480) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), "teal").save(buffer, "JPEG")
    return buffer.getvalue()


def keyboard(*labels: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(t, callback_data=t.lower())] for t in labels]
    )


@pytest.fixture
async def sim():
    simulator = BotApiSimulator(token="123456:TEST", bot_username="AksesServerBot")
    await simulator.start()
    simulator.add_user(USER, "Sari", username="sari")
    yield simulator
    await simulator.stop()
    assert simulator.errors == []


@pytest.fixture
async def bot(sim):
    request = HTTPXRequest(httpx_kwargs={"trust_env": False})
    updates_request = HTTPXRequest(httpx_kwargs={"trust_env": False}, read_timeout=5)
    async with Bot(
        sim.token,
        base_url=sim.base_url,
        base_file_url=sim.base_file_url,
        request=request,
        get_updates_request=updates_request,
    ) as telegram_bot:
        yield telegram_bot


@pytest.fixture
async def http(sim):
    async with httpx.AsyncClient(base_url=sim.url, trust_env=False) as client:
        yield client


async def test_get_me_describes_the_configured_bot(bot, sim):
    me = await bot.get_me()
    assert (me.id, me.username, me.is_bot, me.can_join_groups) == (
        123456,
        "AksesServerBot",
        True,
        True,
    )
    assert sim.base_url == f"http://127.0.0.1:{sim.port}/bot"
    assert sim.base_file_url == f"http://127.0.0.1:{sim.port}/file/bot"


async def test_wrong_token_and_unknown_method_answer_like_telegram(sim, http):
    response = await http.post("/bot999:NOPE/getMe")
    assert response.status_code == 401
    assert response.json() == {"ok": False, "error_code": 401, "description": "Unauthorized"}
    response = await http.post(f"/bot{sim.token}/noSuchMethod")
    assert response.status_code == 404
    assert response.json() == {"ok": False, "error_code": 404, "description": "Not Found"}
    request = HTTPXRequest(httpx_kwargs={"trust_env": False})
    with pytest.raises(InvalidToken):
        async with Bot("999:NOPE", base_url=sim.base_url, request=request):
            pass


async def test_parameters_arrive_as_query_json_or_form(sim, http):
    base = f"/bot{sim.token}"
    by_query = await http.get(f"{base}/sendMessage", params={"chat_id": USER, "text": "q"})
    by_json = await http.post(f"{base}/SENDMESSAGE", json={"chat_id": USER, "text": "j"})
    markup = '{"inline_keyboard": [[{"text": "A", "callback_data": "a"}]]}'
    by_form = await http.post(
        f"{base}/sendMessage", data={"chat_id": str(USER), "text": "f", "reply_markup": markup}
    )
    assert [r.json()["result"]["text"] for r in (by_query, by_json, by_form)] == ["q", "j", "f"]
    assert sim.user(USER).last_bot_message.buttons == [["A"]]
    bad = await http.post(f"{base}/sendMessage", data={"chat_id": "x", "text": "t"})
    assert bad.json() == {
        "ok": False,
        "error_code": 400,
        "description": "Bad Request: chat not found",
    }


async def test_send_message_keeps_plain_text_html_markup_and_history(bot, sim):
    sent = await bot.send_message(
        USER, "<b>Halo</b> &amp; selamat", parse_mode="HTML", reply_markup=keyboard("Setujui")
    )
    assert sent.text == "Halo & selamat"
    assert sent.text_html == "<b>Halo</b> &amp; selamat"
    assert sent.reply_markup.inline_keyboard[0][0].callback_data == "setujui"
    stored = sim.user(USER).last_bot_message
    assert (stored.text, stored.html, stored.buttons) == (
        "Halo & selamat",
        "<b>Halo</b> &amp; selamat",
        [["Setujui"]],
    )
    assert stored.callback_data("Setuj") == "setujui"
    assert stored.message_id == sent.message_id and stored.from_bot
    second = await bot.send_message(USER, "  padded\n", reply_parameters=ReplyParameters(1))
    assert second.text == "padded"  # Telegram trims surrounding whitespace
    assert second.reply_to_message.message_id == sent.message_id
    assert second.message_id == sent.message_id + 1
    assert sim.user(USER).last_bot_message.seq > stored.seq


async def test_reply_keyboard_is_shown_until_removed(bot, sim):
    await bot.send_message(USER, "Pilih", reply_markup=ReplyKeyboardMarkup([["Ya", "Tidak"]]))
    user = sim.user(USER)
    assert user.last_bot_message.reply_keyboard == [["Ya", "Tidak"]]
    assert user.reply_keyboard == [["Ya", "Tidak"]]
    await bot.send_message(USER, "Oke", reply_markup={"remove_keyboard": True})
    assert user.reply_keyboard is None


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"chat_id": 4242, "text": "x"}, "Chat not found"),
        ({"chat_id": USER, "text": " "}, "Message text is empty"),
        ({"chat_id": USER, "text": "a" * 4097}, "Message is too long"),
        (
            {"chat_id": USER, "text": "1 < 2", "parse_mode": "HTML"},
            'Can\'t parse entities: unsupported start tag "" at byte offset 2',
        ),
        (
            {"chat_id": USER, "text": "<b>x</i>", "parse_mode": "HTML"},
            "Can't parse entities: unmatched end tag at byte offset 4, "
            'expected "</b>", found "</i>"',
        ),
        (
            {"chat_id": USER, "text": "<b>x", "parse_mode": "HTML"},
            "Can't parse entities: can't find end tag corresponding to start tag \"b\"",
        ),
        (
            {"chat_id": USER, "text": "a<br>b", "parse_mode": "HTML"},
            'Can\'t parse entities: unsupported start tag "br" at byte offset 1',
        ),
        (
            {"chat_id": USER, "text": "x", "reply_markup": keyboard("y" * 65)},
            "Button_data_invalid",
        ),
        (
            {"chat_id": USER, "text": "x", "reply_parameters": ReplyParameters(99)},
            "Message to be replied not found",
        ),
    ],
)
async def test_send_message_is_refused_like_telegram(bot, kwargs, error):
    # PTB capitalises the description after "Bad Request: "; Telegram's own text follows.
    with pytest.raises(BadRequest) as caught:
        await bot.send_message(**kwargs)
    assert caught.value.message == error


async def test_limits_count_text_after_entity_parsing(bot, sim):
    sent = await bot.send_message(USER, f"<b>{'a' * 4096}</b>", parse_mode="HTML")
    assert len(sent.text) == 4096
    await bot.send_message(USER, "x", reply_markup=keyboard("y" * 64))  # 64 bytes is allowed
    with pytest.raises(BadRequest, match="caption is too long"):
        await bot.send_photo(USER, jpeg(), caption="c" * 1025)


async def test_blocked_user_and_never_started_user_are_refused(bot, sim, http):
    sim.user(USER).block()
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await bot.send_message(USER, "hi")
    sim.user(USER).unblock()
    await bot.send_message(USER, "hi again")
    # Someone who never wrote to the bot has no chat with it: the Bot API cannot resolve
    # the id (telegram-bot-api, Client.cpp: "Bad Request: chat not found").
    shy = sim.add_user(1002, "Budi", started=False)
    with pytest.raises(BadRequest, match="Chat not found"):
        await bot.send_message(shy.id, "hi")
    with pytest.raises(BadRequest, match="Chat not found"):
        await bot.send_photo(shy.id, jpeg())
    with pytest.raises(BadRequest, match="Chat not found"):
        await bot.set_my_commands([BotCommand("a", "b")], scope=BotCommandScopeChat(shy.id))
    with pytest.raises(BadRequest, match="Chat not found"):
        await bot.get_chat(shy.id)
    # The exact wire answers, as Telegram words them.
    send = f"/bot{sim.token}/sendMessage"
    refused = await http.post(send, json={"chat_id": shy.id, "text": "x"})
    assert refused.json() == {
        "ok": False,
        "error_code": 400,
        "description": "Bad Request: chat not found",
    }
    sim.user(USER).block()
    refused = await http.post(send, json={"chat_id": USER, "text": "x"})
    assert refused.json() == {
        "ok": False,
        "error_code": 403,
        "description": "Forbidden: bot was blocked by the user",
    }
    sim.user(USER).unblock()
    await shy.send_text("halo")
    await bot.send_message(shy.id, "now it works")
    kinds = [next(k for k in u if k != "update_id") for u in sim.state.updates]
    assert kinds == ["my_chat_member"] * 4 + ["message"]


async def test_editing_follows_telegrams_rules(bot, sim):
    sent = await bot.send_message(USER, "Menunggu", reply_markup=keyboard("Setujui"))
    stored = sim.user(USER).last_bot_message
    with pytest.raises(BadRequest, match="Message is not modified: specified new message"):
        await bot.edit_message_text(
            "Menunggu", USER, sent.message_id, reply_markup=keyboard("Setujui")
        )
    edited = await bot.edit_message_text(
        "<i>Disetujui</i>", USER, sent.message_id, parse_mode="HTML"
    )
    assert edited.text == "Disetujui" and edited.edit_date is not None
    assert edited.reply_markup is None  # omitting reply_markup removes the keyboard
    assert (stored.edit_count, stored.html, stored.buttons) == (1, "<i>Disetujui</i>", [])
    with pytest.raises(BadRequest, match="Message is not modified"):
        await bot.edit_message_reply_markup(USER, sent.message_id)
    await bot.edit_message_reply_markup(USER, sent.message_id, reply_markup=keyboard("Ulang"))
    assert stored.buttons == [["Ulang"]] and stored.edit_count == 2
    with pytest.raises(BadRequest, match="Message to edit not found"):
        await bot.edit_message_text("x", USER, 999)
    with pytest.raises(BadRequest, match="There is no caption in the message to edit"):
        await bot.edit_message_caption(USER, sent.message_id, caption="c")

    photo = await bot.send_photo(USER, jpeg(), caption="KTP")
    with pytest.raises(BadRequest, match="There is no text in the message to edit"):
        await bot.edit_message_text("x", USER, photo.message_id)
    recaptioned = await bot.edit_message_caption(
        USER, photo.message_id, caption="<b>KTP</b> Sari", parse_mode="HTML"
    )
    assert recaptioned.caption == "KTP Sari"
    assert sim.user(USER).last_bot_message.caption_html == "<b>KTP</b> Sari"

    user_message = await sim.user(USER).send_text("hai")
    with pytest.raises(BadRequest, match="Message can't be edited"):
        await bot.edit_message_text("x", USER, user_message.message_id)


async def test_edit_message_media_replaces_a_photo_as_telegram_does(bot, sim, http):
    """editMessageMedia (https://core.telegram.org/bots/api#editmessagemedia): an upload
    or a file id in place of the photo, the caption from the InputMedia, the keyboard
    removed unless given; errors as telegram-bot-api's Client.cpp words them."""
    card = await bot.send_photo(USER, jpeg(), caption="KTP Sari", reply_markup=keyboard("Ok"))
    stored = sim.user(USER).last_bot_message
    grey = jpeg(320, 200)
    edited = await bot.edit_message_media(
        InputMediaPhoto(grey, caption="<b>Foto</b> dihapus", parse_mode="HTML"),
        USER,
        card.message_id,
    )
    assert edited.caption == "Foto dihapus" and stored.photo_bytes == grey
    assert (stored.caption_html, stored.buttons, stored.edit_count) == (
        "<b>Foto</b> dihapus",
        [],
        1,
    )
    file_id = edited.photo[-1].file_id
    with pytest.raises(BadRequest, match="Message is not modified"):
        await bot.edit_message_media(
            InputMediaPhoto(file_id, caption="<b>Foto</b> dihapus", parse_mode="HTML"),
            USER,
            card.message_id,
        )
    # The same file by its id, a new caption: accepted, nothing uploaded.
    other = await bot.send_photo(USER, jpeg(), caption="KTP Budi")
    await bot.edit_message_media(InputMediaPhoto(file_id, caption="x"), USER, other.message_id)
    assert sim.user(USER).last_bot_message.photo_bytes == grey
    path = f"/bot{sim.token}/editMessageMedia"
    refused = {
        "not json": "Can't parse input media JSON object",
        json.dumps({"type": "photo"}): "Can't parse InputMedia: media not found",
        json.dumps({"type": "sticker", "media": file_id}): (
            'Can\'t parse InputMedia: type "sticker" is unsupported'
        ),
    }
    for media, error in refused.items():
        response = await http.post(
            path, data={"chat_id": USER, "message_id": other.message_id, "media": media}
        )
        assert response.json()["description"] == f"Bad Request: {error}", media
    with pytest.raises(BadRequest, match="Message to edit not found"):
        await bot.edit_message_media(InputMediaPhoto(file_id), USER, 999)


async def test_delete_message_marks_it_deleted(bot, sim):
    sent = await bot.send_message(USER, "sementara")
    before = sim.state.seq
    assert await bot.delete_message(USER, sent.message_id) is True
    [stored] = sim.messages(USER)
    assert stored.deleted and stored.seq > before
    assert sim.user(USER).messages == []
    with pytest.raises(BadRequest, match="Message to delete not found"):
        await bot.delete_message(USER, sent.message_id)
    with pytest.raises(BadRequest, match="Message to edit not found"):
        await bot.edit_message_text("x", USER, sent.message_id)


async def test_photo_sizes_download_and_resend_by_file_id(bot, sim, http):
    image = jpeg(1600, 1200)
    sent = await bot.send_photo(USER, image, caption="Lencana")
    sizes = [(size.width, size.height) for size in sent.photo]
    assert sizes == [(90, 68), (320, 240), (1280, 960)]
    assert len({size.file_id for size in sent.photo}) == 3
    assert len({size.file_unique_id for size in sent.photo}) == 3
    stored = sim.user(USER).last_bot_message
    assert stored.photo_bytes == image and stored.caption == "Lencana"

    telegram_file = await sent.photo[-1].get_file()
    assert telegram_file.file_path.startswith(sim.base_file_url)
    assert bytes(await telegram_file.download_as_bytearray()) == image

    again = await bot.send_photo(USER, sent.photo[0].file_id)
    assert [s.file_id for s in again.photo] == [s.file_id for s in sent.photo]
    page = await http.get(stored.to_json()["photo"])
    assert page.content == image

    with pytest.raises(BadRequest, match="Image_process_failed"):
        await bot.send_photo(USER, b"not an image")
    with pytest.raises(BadRequest, match="Type of file mismatch"):
        await bot.send_document(USER, sent.photo[-1].file_id)
    with pytest.raises(BadRequest, match="Wrong file identifier"):
        await bot.send_photo(USER, "AgACnonsense")


async def test_document_upload_and_resend_by_file_id(bot, sim):
    pdf = b"%PDF-1.4 lencana"
    sent = await bot.send_document(USER, pdf, filename="lencana.pdf", caption="PDF")
    assert sent.document.file_name == "lencana.pdf"
    assert sent.document.mime_type == "application/pdf"
    again = await bot.send_document(USER, sent.document.file_id, caption="lagi")
    assert again.document.file_id == sent.document.file_id
    stored = sim.user(USER).last_bot_message
    assert (stored.document_bytes, stored.document_name, stored.caption) == (
        pdf,
        "lencana.pdf",
        "lagi",
    )
    downloaded = await (await bot.get_file(sent.document.file_id)).download_as_bytearray()
    assert bytes(downloaded) == pdf
    assert stored.to_json()["document"]["url"] == f"/sim/files/{sent.document.file_id}"


async def test_commands_are_stored_per_scope_and_language(bot, sim):
    await bot.set_my_commands([BotCommand("start", "Mulai"), BotCommand("help", "Bantuan")])
    await bot.set_my_commands(
        [BotCommand("daftar", "Daftar tamu")], scope=BotCommandScopeChat(USER)
    )
    await bot.set_my_commands([BotCommand("start", "Start")], language_code="en")
    assert sim.commands_for(USER) == [("daftar", "Daftar tamu")]
    assert sim.commands_for(9999) == [("start", "Mulai"), ("help", "Bantuan")]
    english = sim.add_user(1003, "Ann", language_code="en")
    assert sim.commands_for(english.id) == [("start", "Start")]
    assert [c.command for c in await bot.get_my_commands(scope=BotCommandScopeChat(USER))] == [
        "daftar"
    ]
    await bot.delete_my_commands(scope=BotCommandScopeChat(USER))
    assert sim.commands_for(USER)[0] == ("start", "Mulai")
    with pytest.raises(BadRequest, match="Bot_command_invalid"):
        await bot.set_my_commands([BotCommand("Bad Command", "x")])
    with pytest.raises(BadRequest, match="Chat not found"):
        await bot.set_my_commands([BotCommand("a", "b")], scope=BotCommandScopeChat(4242))


async def test_descriptions_are_stored_per_language_within_telegrams_limits(bot, sim):
    assert (await bot.get_my_description()).description == ""
    await bot.set_my_description("d" * 512)
    await bot.set_my_short_description("s" * 120)
    await bot.set_my_short_description("Short", language_code="en")
    assert sim.state.descriptions == {"": "d" * 512}
    assert (await bot.get_my_short_description()).short_description == "s" * 120
    assert (await bot.get_my_short_description("en")).short_description == "Short"
    assert (await bot.get_my_description("en")).description == "d" * 512  # the default's
    with pytest.raises(BadRequest, match="too long"):
        await bot.set_my_description("d" * 513)
    with pytest.raises(BadRequest, match="too long"):
        await bot.set_my_short_description("s" * 121)
    assert sim.state.short_descriptions == {"": "s" * 120, "en": "Short"}
    await bot.set_my_description("")  # an empty text removes it, as in Telegram
    assert sim.state.descriptions == {}


async def test_menu_button_and_chat_action(bot, sim):
    assert isinstance(await bot.get_chat_menu_button(USER), MenuButtonCommands)
    web_app = MenuButtonWebApp("Buka", WebAppInfo("https://example.org/app"))
    await bot.set_chat_menu_button(USER, web_app)
    assert await bot.get_chat_menu_button(USER) == web_app
    assert isinstance(await bot.get_chat_menu_button(), MenuButtonCommands)
    events = sim.subscribe()
    assert await bot.send_chat_action(USER, "typing") is True
    assert events.get_nowait() == {"type": "action", "chat_id": USER, "action": "typing"}
    sim.unsubscribe(events)


async def test_long_poll_returns_promptly_and_offsets_confirm(bot, sim):
    user = sim.user(USER)
    assert await bot.get_updates(timeout=0) == ()
    loop = asyncio.get_running_loop()
    started = loop.time()
    poll = asyncio.create_task(bot.get_updates(timeout=4))
    await asyncio.sleep(0.1)
    await user.send_text("/start abc")
    [update] = await poll
    assert loop.time() - started < 1.0
    assert update.message.text == "/start abc"
    assert update.message.entities[0].type == "bot_command"
    assert update.message.entities[0].length == len("/start")
    assert update.message.from_user.username == "sari"

    # Not confirmed yet: the same update comes again until a later offset is sent.
    assert [u.update_id for u in await bot.get_updates()] == [update.update_id]
    await user.send_text("dua")
    both = await bot.get_updates(offset=update.update_id)
    assert [u.update_id for u in both] == [update.update_id, update.update_id + 1]
    assert await bot.get_updates(offset=both[-1].update_id + 1) == ()
    assert sim.state.updates == []

    await user.send_text("tiga")
    await user.send_text("empat")
    [last] = await bot.get_updates(offset=-1)
    assert last.message.text == "empat"


async def test_a_second_get_updates_ends_the_first_with_conflict(bot, sim):
    first = asyncio.create_task(bot.get_updates(timeout=3))
    await asyncio.sleep(0.1)
    second = asyncio.create_task(bot.get_updates(timeout=0))
    with pytest.raises(Conflict, match="terminated by other getUpdates request"):
        await first
    assert await second == ()


async def test_answer_callback_query_and_tap(bot, sim):
    user = sim.user(USER)
    await bot.send_message(USER, "Kartu", reply_markup=keyboard("Setujui", "Tolak"))
    await bot.send_message(
        USER,
        "Link",
        reply_markup=InlineKeyboardMarkup(
            [[InlineKeyboardButton("Buka", url="https://t.me/AksesServerBot?start=TOKEN_1")]]
        ),
    )
    callback = await user.tap("Tolak")
    [update] = await bot.get_updates()
    query = update.callback_query
    assert (query.data, query.id, query.message.text) == ("tolak", callback.id, "Kartu")
    assert await query.answer("Ditolak", show_alert=True) is True
    assert [(a.text, a.show_alert) for a in user.alerts] == [("Ditolak", True)]
    assert callback.answer == user.alerts[0]
    with pytest.raises(BadRequest, match="Query is too old"):
        await query.answer("again")

    opened = await user.tap("Buka")
    assert opened.text == "/start"  # as the chat shows it; the bot gets the parameter
    [update] = await bot.get_updates(offset=update.update_id + 1)
    assert update.message.text == "/start TOKEN_1"
    with pytest.raises(LookupError, match=r"Setujui"):
        await user.tap("Nope")


async def test_a_late_callback_answer_is_refused_like_a_repeated_one(bot, sim):
    """The client stops waiting for an answer: a late answerCallbackQuery gets Telegram's
    QUERY_ID_INVALID wording, as a second answer does."""
    now = [1_000.0]
    sim.state.now = lambda: now[0]
    sim.state.callback_answer_window = 15.0
    await bot.send_message(USER, "Kartu", reply_markup=keyboard("Setujui", "Tolak"))
    user = sim.user(USER)
    await user.tap("Setujui")
    await user.tap("Tolak")
    first, second = (u.callback_query for u in await bot.get_updates())
    assert await first.answer() is True  # in time
    now[0] += 16
    with pytest.raises(BadRequest, match="Query is too old and response timeout expired"):
        await second.answer("terlambat")
    assert [a.text for a in user.alerts] == [None]  # the late answer showed nothing


async def test_open_link_accepts_telegram_deep_links(sim):
    user = sim.user(USER)

    def sent() -> str:  # what the bot receives
        return sim.state.updates[-1]["message"]["text"]

    shown = await user.open_link("tg://resolve?domain=AksesServerBot&start=x-1")
    # The chat shows "/start" as Telegram's apps do; the bot receives the parameter too.
    assert shown.text == "/start" and sent() == "/start x-1"
    assert sim.state.updates[-1]["message"]["entities"][0]["length"] == len("/start")
    assert (await user.open_link("https://t.me/aksesserverbot?start=Y")).text == "/start"
    assert sent() == "/start Y"
    assert (await user.open_link("t.me/AksesServerBot?start=Z")).text == "/start"
    assert sent() == "/start Z"
    assert [m.text for m in user.messages] == ["/start"] * 3
    assert await user.open_link("https://t.me/AksesServerBot") is None  # already started
    assert await user.open_link("https://example.org/page") is None
    assert user.opened_links == ["https://example.org/page"]
    with pytest.raises(ValueError, match="not to @AksesServerBot"):
        await user.open_link("https://t.me/OtherBot?start=1")


async def test_wait_for_sees_new_and_edited_messages_and_explains_timeouts(bot, sim):
    user = sim.user(USER)
    await user.send_text("/status")

    async def reply_later():
        await asyncio.sleep(0.05)
        sent = await bot.send_message(USER, "Sedang diproses")
        await asyncio.sleep(0.05)
        await bot.edit_message_text("Selesai", USER, sent.message_id)

    task = asyncio.create_task(reply_later())
    assert (await user.wait_for("diproses", timeout=2)).text == "Sedang diproses"
    edited = await user.wait_for("Selesai", timeout=2)
    assert edited.edit_count == 1
    await task
    with pytest.raises(TimeoutError, match=r"(?s)no bot message matching text='Nope'.*Selesai"):
        await user.wait_for("Nope", since=edited.seq, timeout=0.2)


async def test_subscribers_get_json_events_and_reset_keeps_users(bot, sim):
    events = sim.subscribe()
    user = sim.user(USER)
    await user.send_text("hai")
    sent = await bot.send_message(USER, "<b>Halo</b>", parse_mode="HTML")
    await bot.delete_message(USER, sent.message_id)
    got = [events.get_nowait() for _ in range(events.qsize())]
    assert [e["type"] for e in got] == ["message", "message", "delete"]
    assert got[1]["message"]["html"] == "<b>Halo</b>" and got[1]["chat_id"] == USER
    assert got[2]["message"]["deleted"] is True

    sim.reset()
    assert events.get_nowait() == {"type": "reset"}
    assert user.messages == [] and sim.state.updates == []
    assert sim.user(USER) is user
    await user.send_text("lagi")
    [update] = await bot.get_updates()
    assert update.message.message_id == 1
    sim.unsubscribe(events)


async def test_multipart_uploads_may_use_attach_references(sim, http):
    response = await http.post(
        f"/bot{sim.token}/sendDocument",
        data={"chat_id": str(USER), "document": "attach://part1", "caption": "lampiran"},
        files={"part1": ("catatan.txt", b"isi", "text/plain")},
    )
    document = response.json()["result"]["document"]
    assert (document["file_name"], document["mime_type"]) == ("catatan.txt", "text/plain")
    assert sim.user(USER).last_bot_message.document_bytes == b"isi"
    missing = await http.post(
        f"/bot{sim.token}/sendDocument",
        data={"chat_id": str(USER), "document": "attach://nothing"},
        files={"other": ("x.txt", b"x", "text/plain")},
    )
    assert missing.status_code == 400


async def test_markdown_is_refused_rather_than_rendered_wrongly(bot):
    with pytest.raises(BadRequest, match="not simulated"):
        await bot.send_message(USER, "*x*", parse_mode="MarkdownV2")


async def test_webhook_info_chat_and_dropping_pending_updates(bot, sim):
    await sim.user(USER).send_text("lama")
    assert (await bot.get_webhook_info()).pending_update_count == 1
    assert await bot.delete_webhook(drop_pending_updates=True) is True
    assert await bot.get_updates() == ()
    chat = await bot.get_chat(USER)
    assert (chat.id, chat.type, chat.first_name, chat.username) == (
        USER,
        "private",
        "Sari",
        "sari",
    )
    with pytest.raises(BadRequest, match="Chat not found"):
        await bot.get_chat(4242)


async def test_settle_reports_updates_nobody_fetched(sim):
    await sim.user(USER).send_text("halo?")
    with pytest.raises(TimeoutError, match="1 unconfirmed updates"):
        await sim.settle(quiet=0.05, timeout=0.2)


async def test_events_are_json_serialisable_including_alerts(bot, sim):
    events = sim.subscribe()
    await bot.send_message(USER, "Kartu", reply_markup=keyboard("Setujui"))
    await sim.user(USER).tap("Setujui")
    [update] = await bot.get_updates()
    await update.callback_query.answer("Tercatat")
    got = [events.get_nowait() for _ in range(events.qsize())]
    assert [e["type"] for e in got] == ["message", "alert"]
    assert got[0]["message"]["buttons"] == [[{"text": "Setujui", "callback_data": "setujui"}]]
    assert got[1]["alert"]["text"] == "Tercatat" and got[1]["chat_id"] == USER
    json.dumps(got)


async def test_a_persons_edit_and_contact_arrive_as_telegram_sends_them(bot, sim):
    """An edit comes as ``edited_message`` (same id, an edit_date) only to a bot that asked
    for that kind; a shared contact card as a message with ``contact``."""
    person = sim.user(USER)
    sent = await person.send_text("3508010102850001")
    (first,) = await bot.get_updates(allowed_updates=["message"])
    await person.edit_text(sent, "3508015507900002")
    assert await bot.get_updates(offset=first.update_id + 1, timeout=0) == ()
    await person.edit_text(sent, "3508015507900003")
    (edit,) = await bot.get_updates(
        offset=first.update_id + 1, allowed_updates=["message", "edited_message"]
    )
    assert edit.edited_message is not None and edit.message is None
    assert edit.edited_message.message_id == first.message.message_id
    assert edit.edited_message.text == "3508015507900003"
    assert edit.edited_message.edit_date is not None
    await bot.send_message(USER, "the bot's")
    with pytest.raises(ValueError):
        await person.edit_text(person.last_bot_message, "x")  # a person edits only their own
    await person.send_contact("+6281398765432", "Ayu", user_id=77)
    (card,) = await bot.get_updates(offset=edit.update_id + 1)
    assert card.message.contact.phone_number == "+6281398765432"
    assert card.message.contact.user_id == 77
