"""What a phone on the page draws for each kind of Bot API call, in real Chromium.

No bot here: the test itself calls the simulator's Bot API (as any bot would) and checks
the phone: formatting and its sanitising, reply keyboards, edits in place, deletions,
callback answers, the command menu, documents.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator

import aiohttp
import pytest
from playwright.async_api import async_playwright, expect

from simulator import BotApiSimulator
from simulator.web import Phone, attach_web
from tests.system.browser import WIDE, PhoneView, launch, open_demo

USER = 77


@pytest.fixture
async def sim() -> AsyncIterator[BotApiSimulator]:
    simulator = BotApiSimulator(token="123456:TEST", bot_username="AksesServerBot")
    simulator.add_user(USER, "Sari")
    attach_web(simulator, [Phone(USER, "Petugas")])
    await simulator.start()
    yield simulator
    await simulator.stop()


async def test_phone_draws_what_the_bot_sends(sim: BotApiSimulator) -> None:
    async with aiohttp.ClientSession() as http, async_playwright() as playwright:

        async def bot(method: str, **params: object) -> dict:
            response = await http.post(f"{sim.base_url}{sim.token}/{method}", json=params)
            body = await response.json()
            assert body["ok"], body
            return body["result"]

        await bot("setMyDescription", description="Bot uji: mendaftarkan tamu.")
        browser = await launch(playwright)
        errors: list[str] = []
        page = await open_demo(browser, sim.url, WIDE, errors)
        phone = PhoneView(page, "Petugas")
        await expect(phone.root.locator(".start")).to_be_visible()
        # An empty chat shows what the bot is, as Telegram's apps do before Start.
        intro = phone.root.locator(".bot-intro")
        await expect(intro).to_contain_text("Bot uji: mendaftarkan tamu.")

        # Telegram's HTML subset becomes markup; anything else stays text.
        html = (
            '<b>Tebal</b> <a href="https://example.org/x">tautan</a> <code>kode</code> '
            "<tg-spoiler>rahasia</tg-spoiler> &lt;img src=x onerror=alert(1)&gt;"
        )
        await bot("sendMessage", chat_id=USER, text=html, parse_mode="HTML")
        bubble = await phone.wait_for("Tebal")
        await expect(intro).to_be_hidden()  # gone with the first message
        await expect(bubble.locator("b")).to_have_text("Tebal")
        await expect(bubble.locator("a")).to_have_attribute("href", "https://example.org/x")
        await expect(bubble.locator("code")).to_have_text("kode")
        await expect(bubble.locator(".spoiler")).to_have_text("rahasia")
        await expect(bubble).to_contain_text("<img src=x onerror=alert(1)>")
        await expect(bubble.locator("img")).to_have_count(0)

        # An edit replaces the bubble where it stands; a deletion removes it.
        sent = await bot("sendMessage", chat_id=USER, text="versi satu")
        await phone.wait_for("versi satu")
        await bot("editMessageText", chat_id=USER, message_id=sent["message_id"], text="versi dua")
        edited = phone.root.locator(f'li[data-id="{sent["message_id"]}"]')
        await expect(edited).to_contain_text("versi dua")
        await expect(edited.locator(".edited")).to_be_visible()
        await bot("deleteMessage", chat_id=USER, message_id=sent["message_id"])
        await expect(edited).to_have_count(0)

        # A one-time reply keyboard sends its label as text, then goes away.
        keyboard = {"keyboard": [["Ya", "Tidak"]], "one_time_keyboard": True}
        await bot("sendMessage", chat_id=USER, text="Lanjut?", reply_markup=keyboard)
        await phone.root.locator(".reply-keyboard .rkb", has_text="Ya").click()
        await expect(phone.root.locator("li.msg.me").last).to_contain_text("Ya")
        await expect(phone.root.locator(".reply-keyboard")).to_be_hidden()

        # An inline button sends a callback; its answer with show_alert is a modal alert.
        buttons = {"inline_keyboard": [[{"text": "Cek", "callback_data": "v1:check"}]]}
        await bot("sendMessage", chat_id=USER, text="Tekan tombol", reply_markup=buttons)
        await phone.tap("Cek")
        query = await callback_query(sim)
        assert query["data"] == "v1:check"
        await bot(
            "answerCallbackQuery", callback_query_id=query["id"], text="Awas!", show_alert=True
        )
        alert = phone.root.locator(".alert")
        await expect(alert).to_contain_text("Awas!")
        await alert.locator("button").click()
        await expect(alert).to_be_hidden()

        # The menu shows this chat's commands; a document opens from its link.
        commands = [{"command": "daftar", "description": "Daftarkan pengunjung"}]
        await bot("setMyCommands", commands=commands, scope={"type": "chat", "chat_id": USER})
        await phone.root.locator(".menu-btn").click()
        await expect(phone.root.locator(".command-menu")).to_contain_text("Daftarkan pengunjung")
        await phone.root.locator(".menu-btn").click()
        upload = aiohttp.FormData({"chat_id": str(USER)})
        upload.add_field("document", b"a;b\n", filename="log.csv")
        await http.post(f"{sim.base_url}{sim.token}/sendDocument", data=upload)
        document = phone.root.locator(".document").last
        await expect(document).to_contain_text("log.csv")
        await expect(document).to_have_attribute("href", re.compile(r"^/sim/files/"))

        # A /command in the bot's text is a link that sends it, as in Telegram's apps; not
        # in code, nor a slash inside a word.
        text = "Ketik NIK.\n\n↩️ /kembali · ✖ /batal <code>/bukan</code> dan/atau"
        await bot("sendMessage", chat_id=USER, text=text, parse_mode="HTML")
        asked = await phone.wait_for("Ketik NIK")
        await expect(asked.locator(".bot-command")).to_have_text(["/kembali", "/batal"])
        await asked.locator(".bot-command", has_text="/kembali").click()
        await expect(phone.root.locator("li.msg.me").last).to_contain_text("/kembali")
        sent = [u["message"] for u in sim.state.updates if "message" in u]
        assert sent[-1]["text"] == "/kembali"
        assert sent[-1]["entities"][0]["type"] == "bot_command"
        assert errors == []
        await browser.close()


async def callback_query(sim: BotApiSimulator) -> dict:
    for _ in range(200):
        for update in sim.state.updates:
            if "callback_query" in update:
                return update["callback_query"]
        await asyncio.sleep(0.02)
    raise AssertionError("the tap sent no callback_query")
