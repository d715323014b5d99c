"""What people do, step by step, for the end-to-end tests (acting through the simulator)."""

from __future__ import annotations

import functools
import io
from dataclasses import dataclass

from PIL import Image, ImageDraw

from simulator import BotApiSimulator
from tests.conftest import APPROVER, ESCORT, OFFICER

NIK_WOMAN = "3508015507900002"  # Lumajang, born 15-07-1990, female (+40), serial 0002
NIK_MAN = "3508010102850001"  # Lumajang, born 01-02-1985, male, serial 0001


def ktp_image(text: str = "SPESIMEN KTP") -> bytes:
    """A stand-in KTP photo (JPEG, like a phone camera's)."""
    image = Image.new("RGB", (640, 400), (180, 210, 235))
    ImageDraw.Draw(image).text((40, 40), text, fill=(0, 0, 0))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=80)
    return out.getvalue()


@dataclass
class Visitor:
    nik: str = NIK_WOMAN
    name: str = "Ayu Lestari"
    organisation: str = "PT Jaringan Nusantara"
    phone: str = "0812-3456-7890"
    purpose: str = "Pemeliharaan server"  # a button label, or free text
    duration: str = "30 mnt"  # a button label, or minutes typed
    equipment: str | None = "Laptop, kabel konsol"  # None: the "no equipment" button


async def register(
    sim: BotApiSimulator,
    visitor: Visitor | None = None,
    officer_id: int = OFFICER,
    timeout: float = 10.0,  # noqa: ASYNC109 - passed on to wait_for
) -> None:
    """The officer fills the whole form and submits it to the section heads."""
    v = visitor or Visitor()
    officer = sim.user(officer_id)
    wait_for = functools.partial(officer.wait_for, timeout=timeout)
    await officer.send_text("/daftar")
    await wait_for("foto KTP")
    await officer.send_photo(ktp_image())
    await wait_for("NIK")
    await officer.send_text(v.nik)
    msg = await wait_for(
        predicate=lambda m: (
            "nama lengkap" in m.text_or_caption or "pernah terdaftar" in m.text_or_caption
        )
    )
    if "pernah terdaftar" in msg.text_or_caption:
        await officer.tap("Isi ulang")
        await wait_for("nama lengkap")
    await officer.send_text(v.name)
    await wait_for("instansi")
    await officer.send_text(v.organisation)
    await wait_for("nomor HP")
    await officer.send_text(v.phone)
    await wait_for("keperluan")
    if v.purpose in _labels(officer.last_bot_message):
        await officer.tap(v.purpose)
    else:
        await officer.send_text(v.purpose)
    await wait_for("Berapa lama")
    if v.duration in _labels(officer.last_bot_message):
        await officer.tap(v.duration)
    else:
        await officer.send_text(v.duration)
    await wait_for("Perangkat yang dibawa")
    if v.equipment is None:
        await officer.tap("Tidak membawa perangkat")
    else:
        await officer.send_text(v.equipment)
    summary = await wait_for("Periksa data pengunjung")
    await officer.tap("Kirim ke Kepala Seksi", summary)
    await wait_for("terkirim")


def _labels(message: object) -> list[str]:
    return [label for row in getattr(message, "buttons", []) for label in row]


async def approve(sim: BotApiSimulator, approver: int = APPROVER) -> None:
    person = sim.user(approver)
    await person.wait_for("Permintaan akses ruang server")
    await person.tap("Setujui")
    await sim.user(OFFICER).wait_for(predicate=lambda m: m.document_name is not None)


def badge_link(sim: BotApiSimulator) -> str:
    """Read the QR on the badge the officer received, as a phone camera would."""
    from bot.core.qr import decode_qr

    badge = next(
        m
        for m in reversed(sim.user(OFFICER).bot_messages)
        if m.photo_bytes and "Badge" in m.text_or_caption
    )
    texts = decode_qr(badge.photo_bytes)
    assert len(texts) == 1
    return texts[0]


async def scan(sim: BotApiSimulator, link: str, escort: int = ESCORT) -> None:
    person = sim.user(escort)
    await person.open_link(link)
    await person.wait_for("Badge pengunjung")
