"""The browser page's /sim/ API, without a browser: fast checks of every endpoint."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator
from datetime import date

import aiohttp
import pytest
import qrcode
from PIL import Image

from bot.core.nik import validate_nik
from simulator import BotApiSimulator
from simulator.web import Phone, WebPhones, attach_web, read_qr
from simulator.web.make_samples import PEOPLE
from simulator.web.server import STATIC

OFFICER, ESCORT, OUTSIDER = 11, 33, 99


@pytest.fixture
async def page_sim() -> AsyncIterator[tuple[BotApiSimulator, WebPhones]]:
    sim = BotApiSimulator(token="123456:TEST", bot_username="AksesServerBot")
    sim.add_user(OFFICER, "Sari")
    sim.add_user(ESCORT, "Dewi")
    sim.add_user(OUTSIDER, "Orang")
    phones = attach_web(sim, [Phone(OFFICER, "Petugas"), Phone(ESCORT, "Pendamping", True)])
    await sim.start()
    yield sim, phones
    await sim.stop()


@pytest.fixture
async def http(
    page_sim: tuple[BotApiSimulator, WebPhones],
) -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(base_url=page_sim[0].url) as session:
        yield session


def png(text: str | None = None) -> bytes:
    """A QR code holding `text`, or a plain picture without one."""
    image = qrcode.make(text).get_image() if text else Image.new("RGB", (200, 200), "white")
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def form(field: str, data: bytes, name: str) -> aiohttp.FormData:
    body = aiohttp.FormData()
    body.add_field(field, data, filename=name)
    return body


async def test_people_history_and_text(page_sim, http) -> None:
    sim, _ = page_sim
    people = await (await http.get("/sim/people")).json()
    assert [(p["id"], p["title"], p["scanner"]) for p in people["people"]] == [
        (OFFICER, "Petugas", False),
        (ESCORT, "Pendamping", True),
    ]
    assert people["samples"] == ["/static/samples/ktp-1.jpg", "/static/samples/ktp-2.jpg"]

    sent = await http.post(f"/sim/chats/{OFFICER}/text", json={"text": "/daftar"})
    assert sent.status == 200
    history = await (await http.get(f"/sim/chats/{OFFICER}")).json()
    assert [m["text"] for m in history["messages"]] == ["/daftar"]
    assert sim.state.updates[-1]["message"]["entities"][0]["type"] == "bot_command"
    assert history["description"] == ""  # the bot has set none
    sim.state.descriptions[""] = "Bot akses ruang server."
    history = await (await http.get(f"/sim/chats/{OFFICER}")).json()
    assert history["description"] == "Bot akses ruang server."

    empty = await http.post(f"/sim/chats/{OFFICER}/text", json={"text": "  "})
    assert empty.status == 400 and "1 to 4096" in (await empty.json())["error"]
    assert (await http.get("/sim/chats/12345")).status == 404


async def test_tap_sends_the_callback_of_that_button(page_sim, http) -> None:
    sim, _ = page_sim
    keyboard = {"inline_keyboard": [[{"text": "Ya", "callback_data": "v1:yes:7"}]]}
    api = f"{sim.base_url}{sim.token}"
    await http.post(
        f"{api}/sendMessage",
        json={"chat_id": OFFICER, "text": "Setuju?", "reply_markup": keyboard},
    )
    [card] = sim.user(OFFICER).bot_messages

    tap = {"message_id": card.message_id, "callback_data": "v1:yes:7"}
    assert (await http.post(f"/sim/chats/{OFFICER}/tap", json=tap)).status == 200
    assert sim.state.updates[-1]["callback_query"]["data"] == "v1:yes:7"

    forged = {"message_id": card.message_id, "callback_data": "v1:yes:8"}
    assert (await http.post(f"/sim/chats/{OFFICER}/tap", json=forged)).status == 404
    elsewhere = await http.post(f"/sim/chats/{ESCORT}/tap", json=tap)
    assert elsewhere.status == 404  # the escort cannot press a button in the officer's chat


async def test_photo_and_document_uploads(page_sim, http) -> None:
    sim, _ = page_sim
    ktp = (STATIC / "samples" / "ktp-1.jpg").read_bytes()
    photo = await http.post(f"/sim/chats/{OFFICER}/photo", data=form("photo", ktp, "ktp-1.jpg"))
    assert (await photo.json())["message"]["photo"].startswith("/sim/files/")
    doc = await http.post(
        f"/sim/chats/{OFFICER}/document", data=form("document", b"a;b\n", "x.csv")
    )
    assert (await doc.json())["message"]["document"]["name"] == "x.csv"
    officer = sim.user(OFFICER)
    assert officer.messages[0].photo_bytes == ktp
    assert officer.messages[1].document_mime_type == "text/csv"
    wrong = await http.post(f"/sim/chats/{OFFICER}/photo", data=form("image", ktp, "k.jpg"))
    assert wrong.status == 400


async def test_scan_reads_the_qr_and_follows_the_deep_link(page_sim, http) -> None:
    sim, _ = page_sim
    link = "https://t.me/AksesServerBot?start=tok_123-abc"
    scanned = await http.post(f"/sim/chats/{ESCORT}/scan", data=form("image", png(link), "b.png"))
    assert (await scanned.json())["text"] == link
    # The phone shows "/start", as a real client does; the bot receives the token.
    assert sim.user(ESCORT).messages[-1].text == "/start"
    assert sim.state.updates[-1]["message"]["text"] == "/start tok_123-abc"

    # A badge shown in a chat is scanned by its file id, as the page's camera dialog does.
    api = f"{sim.base_url}{sim.token}"
    sent = await http.post(
        f"{api}/sendPhoto", data={"chat_id": str(OFFICER), "photo": io.BytesIO(png(link + "x"))}
    )
    file_id = (await sent.json())["result"]["photo"][-1]["file_id"]
    await http.post(f"/sim/chats/{ESCORT}/scan", json={"file_id": file_id})
    assert sim.user(ESCORT).messages[-1].text == "/start"
    assert sim.state.updates[-1]["message"]["text"] == "/start tok_123-abcx"

    blank = await http.post(f"/sim/chats/{ESCORT}/scan", data=form("image", png(), "p.png"))
    assert blank.status == 422
    other = await http.post(f"/sim/chats/{ESCORT}/scan", data=form("image", png("hello"), "q.png"))
    assert (await other.json()) == {"text": "hello", "message": None}
    foreign = png("https://t.me/SomeOtherBot?start=x")
    refused = await http.post(f"/sim/chats/{ESCORT}/scan", data=form("image", foreign, "f.png"))
    assert refused.status == 400
    assert (await http.post(f"/sim/chats/{ESCORT}/scan", json={"file_id": "nope"})).status == 404


def test_read_qr_survives_garbage() -> None:
    assert read_qr(b"") is None
    assert read_qr(b"\x89PNG\r\n\x1a\nbroken") is None
    huge = io.BytesIO()
    Image.new("1", (9000, 9000)).save(huge, "PNG")  # 81 MP: refused before decoding
    assert read_qr(huge.getvalue()) is None


async def test_websocket_pushes_the_phones_chats_and_resets(page_sim, http) -> None:
    sim, _ = page_sim
    async with http.ws_connect("/sim/ws") as ws:
        await sim.user(OUTSIDER).send_text("not shown on the page")
        await sim.user(OFFICER).send_text("halo")
        event = await ws.receive_json(timeout=5)
        assert (event["type"], event["chat_id"], event["message"]["text"]) == (
            "message",
            OFFICER,
            "halo",
        )
        assert (await http.post("/sim/reset")).status == 200
        assert (await ws.receive_json(timeout=5))["type"] == "reset"
    assert (await (await http.get(f"/sim/chats/{OFFICER}")).json())["messages"] == []


async def test_reset_runs_the_hook_and_refuses_actions_meanwhile(page_sim, http) -> None:
    sim, phones = page_sim
    started, release = asyncio.Event(), asyncio.Event()

    async def restart_bot() -> None:
        started.set()
        await release.wait()
        sim.reset()

    phones.on_reset = restart_bot
    resetting = asyncio.create_task(http.post("/sim/reset"))
    await started.wait()
    busy = await http.post(f"/sim/chats/{OFFICER}/text", json={"text": "halo"})
    assert busy.status == 503
    release.set()
    assert (await resetting).status == 200
    assert (await http.post(f"/sim/chats/{OFFICER}/text", json={"text": "halo"})).status == 200


async def test_page_and_static_files(http) -> None:
    index = await http.get("/")
    assert index.status == 200 and "phone-template" in await index.text()
    for name in ("app.js", "render.js", "dialogs.js", "style.css", "samples/ktp-2.jpg"):
        assert (await http.get(f"/static/{name}")).status == 200, name
    assert (await http.get("/static/%2e%2e/server.py")).status in (403, 404)


def test_sample_ktps_are_specimens_with_valid_niks() -> None:
    for person in PEOPLE:
        validate_nik(person.nik, date(2026, 1, 1))  # raises NikError when invalid
        with Image.open(STATIC / "samples" / person.file) as image:
            # A phone's photo of the card (bench/ktp_corpus.py), as the reader expects one.
            assert image.format == "JPEG" and 800 <= image.size[0] <= 1600
