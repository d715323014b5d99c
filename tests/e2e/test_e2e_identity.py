"""Identity at the door (issue 14, part 3): the scan shows the KTP photo to compare the face
(PCI DSS 9.3.1), says when retention purged it, and the badge carries the visit's date and
zone."""

from __future__ import annotations

import io

import pypdf
import tesserocr
from PIL import Image

from bot.app.config import Config
from bot.app.services import Services
from bot.core.visits import VisitStatus
from bot.flows import privacy
from bot.ocr.reader import _tessdata
from bot.texts import badge as badge_texts
from bot.texts import door as door_texts
from simulator import BotApiSimulator
from tests.conftest import ESCORT, OFFICER, FakeClock
from tests.e2e.test_retention import stop_sweep
from tests.flows import NIK_WOMAN, Visitor, approve, badge_link, ktp_image, register, scan


def read_text(image: Image.Image) -> str:
    """What a person reads on the card, as Tesseract reads it."""
    with tesserocr.PyTessBaseAPI(path=_tessdata(), lang="ind+eng") as api:
        api.SetImage(image.convert("L"))
        return " ".join(api.GetUTF8Text().split())


async def test_the_scan_shows_the_ktp_photo_with_the_visit_and_the_door_button_in_one_message(
    sim: BotApiSimulator, app: object, services: Services
) -> None:
    await register(sim)
    await approve(sim)
    escort = sim.user(ESCORT)
    before = sim.call_counts.get("sendMessage", 0)
    await scan(sim, badge_link(sim))
    view = escort.last_bot_message
    assert view is not None
    # The very photo the officer took, so the escort compares the face with the person.
    assert view.photo_bytes == ktp_image()
    caption = view.text_or_caption
    assert Visitor().name in caption and door_texts.COMPARE_FACE in caption
    # The photo shows the NIK; the caption masks it.
    assert NIK_WOMAN not in caption and "NIK: 3508**********02" in caption
    assert view.buttons == [["✅ Catat MASUK"]]
    assert sim.call_counts.get("sendMessage", 0) == before  # no second message
    await escort.tap("Catat MASUK")
    entered = await escort.wait_for("MASUK tercatat")
    assert entered is view and entered.buttons == [] and entered.photo_bytes == ktp_image()


async def test_every_field_at_its_longest_still_fits_the_caption(
    sim: BotApiSimulator, app: object, services: Services
) -> None:
    # Telegram refuses a caption over 1024 characters (the simulator too): the card would be
    # lost. Every field at its longest, a NIK typed into the purpose, and the exit's check.
    longest = Visitor(
        name="Raden Ajeng " + "N" * 88,
        organisation="O" * 120,
        assignment_letter="L" * 60,
        purpose="lihat " + NIK_WOMAN + " " + "p" * 127,
        equipment="E" * 200,
    )
    await register(sim, longest)
    await approve(sim)
    link = badge_link(sim)
    escort = sim.user(ESCORT)
    await scan(sim, link)
    await escort.tap("Catat MASUK")
    await escort.wait_for("MASUK tercatat")
    await scan(sim, link)
    view = escort.last_bot_message
    assert view is not None and view.photo_bytes == ktp_image()
    assert "Periksa perangkat yang dibawa keluar" in view.text_or_caption
    assert NIK_WOMAN not in view.text_or_caption
    assert view.buttons == [["✅ Perangkat sesuai", "⚠️ Ada selisih"]]


async def test_once_the_ktp_photo_is_purged_the_card_says_so_and_still_works(
    sim: BotApiSimulator, app: object, services: Services, config: Config, clock: FakeClock
) -> None:
    stop_sweep(app)
    await register(sim)
    await approve(sim)
    link = badge_link(sim)
    escort = sim.user(ESCORT)
    await scan(sim, link)
    await escort.tap("Catat MASUK")
    await escort.wait_for("MASUK tercatat")
    # Still inside when the retention period ends (a long job, a forgotten check-out).
    clock.advance(days=config.privacy.ktp_retention_days + 1)
    done = await privacy.purge_if_due(services.storage, config, clock())
    assert done is not None and done.ktp_deleted == 1
    await scan(sim, link)
    view = escort.last_bot_message
    assert view is not None and view.photo is None
    assert door_texts.KTP_PURGED in view.text and Visitor().name in view.text
    await escort.tap("Perangkat sesuai", view)
    exited = await escort.wait_for("KELUAR tercatat")
    assert exited is view and exited.buttons == []
    (visit,) = await services.storage.visits.with_status(VisitStatus.DONE)
    assert visit.ktp_file_id == ""


async def test_the_badge_shows_the_visit_date_and_the_zone_in_png_and_pdf(
    sim: BotApiSimulator, app: object, services: Services, config: Config, clock: FakeClock
) -> None:
    await register(sim)
    await approve(sim)
    officer = sim.user(OFFICER)
    png = next(m for m in officer.bot_messages if m.photo_bytes and "Badge" in m.text_or_caption)
    pdf = next(m for m in officer.bot_messages if m.document_name)
    day = clock().astimezone(config.timezone).strftime("%d-%m-%Y")
    assert badge_texts.ZONE == "RUANG SERVER"
    printed = read_text(Image.open(io.BytesIO(png.photo_bytes or b"")))
    assert f"Tanggal kunjungan: {day}" in printed and "RUANG SERVER" in printed
    # The PDF is the same card for printing: its page image reads the same.
    (page,) = pypdf.PdfReader(io.BytesIO(pdf.document_bytes or b"")).pages
    (picture,) = page.images
    assert picture.image is not None
    on_paper = read_text(picture.image)
    assert f"Tanggal kunjungan: {day}" in on_paper and "RUANG SERVER" in on_paper
