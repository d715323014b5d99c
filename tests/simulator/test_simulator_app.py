"""A real python-telegram-bot Application polling the simulator, with people acting."""

import contextlib
import io

import pytest
from PIL import Image
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)
from telegram.request import HTTPXRequest

from simulator import BotApiSimulator


@pytest.fixture
async def sim():
    simulator = BotApiSimulator(token="123456:TEST", bot_username="AksesServerBot")
    await simulator.start()
    yield simulator
    await simulator.stop()


def build_app(sim: BotApiSimulator) -> Application:
    return (
        ApplicationBuilder()
        .token(sim.token)
        .base_url(sim.base_url)
        .base_file_url(sim.base_file_url)
        .request(HTTPXRequest(httpx_kwargs={"trust_env": False}))
        .get_updates_request(HTTPXRequest(httpx_kwargs={"trust_env": False}))
        .job_queue(None)
        .build()
    )


@contextlib.asynccontextmanager
async def running(app: Application):
    await app.initialize()
    await app.start()
    await app.updater.start_polling(poll_interval=0, timeout=1)
    try:
        yield app
    finally:
        await app.updater.stop()
        await app.stop()
        await app.shutdown()


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    argument = context.args[0] if context.args else "-"
    buttons = InlineKeyboardMarkup(
        [
            [InlineKeyboardButton("Setujui", callback_data="approve:7")],
            [InlineKeyboardButton("Tolak", callback_data="deny:7")],
        ]
    )
    await update.effective_message.reply_html(
        f"Halo <b>{update.effective_user.first_name}</b>, token {argument}", reply_markup=buttons
    )


async def decide(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    verdict, visit = query.data.split(":")
    await query.answer(f"Kunjungan {visit}: {verdict}")
    await query.edit_message_text(f"Keputusan: {verdict}")


async def test_command_reply_and_button_round_trip(sim):
    sari = sim.add_user(1001, "Sari")
    app = build_app(sim)
    app.add_handler(CommandHandler("start", start))
    app.add_handler(CallbackQueryHandler(decide))
    async with running(app):
        await sari.send_text("/start")
        card = await sari.wait_for("Halo Sari")
        assert card.html == "Halo <b>Sari</b>, token -"
        assert card.buttons == [["Setujui"], ["Tolak"]]

        await sari.tap("Setujui")
        edited = await sari.wait_for("Keputusan")
        assert edited.message_id == card.message_id
        assert edited.text == "Keputusan: approve" and edited.buttons == []
        await sim.settle()
        assert [(a.text, a.show_alert) for a in sari.alerts] == [("Kunjungan 7: approve", False)]

        await sari.open_link("https://t.me/AksesServerBot?start=abc_123")
        assert "token abc_123" in (await sari.wait_for("Halo")).text
        await sim.settle()
    assert sim.state.updates == []
    assert sim.call_counts["getUpdates"] >= 3


async def test_photo_download_and_document_resend_by_file_id(sim):
    sari = sim.add_user(1001, "Sari")
    budi = sim.add_user(1002, "Budi")
    image = io.BytesIO()
    Image.new("RGB", (800, 600), "navy").save(image, "PNG")

    async def on_photo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        largest = update.message.photo[-1]
        data = await (await largest.get_file()).download_as_bytearray()
        await update.message.reply_text(f"foto {largest.width}x{largest.height} {len(data)}B")
        await context.bot.send_photo(budi.id, largest.file_id, caption="diteruskan")

    async def on_document(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        document = update.message.document
        data = await (await document.get_file()).download_as_bytearray()
        await context.bot.send_document(budi.id, document.file_id, caption=f"{len(data)}B")

    app = build_app(sim)
    app.add_handler(MessageHandler(filters.PHOTO, on_photo))
    app.add_handler(MessageHandler(filters.Document.ALL, on_document))
    async with running(app):
        await sari.send_photo(image.getvalue(), caption="KTP")
        reply = await sari.wait_for("foto")
        assert reply.text == f"foto 800x600 {len(image.getvalue())}B"
        forwarded = await budi.wait_for("diteruskan", since=0)
        assert forwarded.photo_bytes == image.getvalue()

        await sari.send_document(b"a;b\n1;2\n", "log.csv", "text/csv")
        relayed = await budi.wait_for("8B", since=0)
        assert (relayed.document_name, relayed.document_bytes) == ("log.csv", b"a;b\n1;2\n")
        assert relayed.document.file_id == sari.messages[-1].document.file_id
        await sim.settle()
