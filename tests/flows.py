"""What people do, step by step, for the end-to-end tests (acting through the simulator)."""

from __future__ import annotations

import functools
import io
from dataclasses import asdict, dataclass

from PIL import Image, ImageDraw

from bot.core.form import Act, Move
from bot.texts import form as form_texts
from simulator import BotApiSimulator, SimMessage, SimUser
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
    """The answers, by form field (bot/core/form.py); a suggested answer is tapped."""

    nik: str = NIK_WOMAN
    name: str = "Ayu Lestari"
    organisation: str = "PT Jaringan Nusantara"
    assignment_letter: str | None = None  # None: the "no letter" button
    phone: str = "0812-3456-7890"
    purpose: str = "Pemeliharaan server"  # a button label, or free text
    duration: str = "30 mnt"  # a button label, or minutes typed
    equipment: str | None = "Laptop, kabel konsol"  # None: the "no equipment" button

    def script(self, *, visitor: bool = False) -> list[Move]:
        """``visitor``: as the visitor fills in their own form (/undang_tamu's link)."""
        return form_texts.script(asdict(self), visitor=visitor)


def at(moves: list[Move], field: str) -> int:
    """The place of ``field``'s answer in a script (so a test never counts the form itself)."""
    return next(i for i, move in enumerate(moves) if move.field == field)


async def act(officer: SimUser, move: Move) -> None:
    """One answer of the form's script, given as the officer would."""
    if move.act == Act.PHOTO:
        await officer.send_photo(ktp_image())
    elif move.act == Act.TAP:
        await officer.tap(move.text)
    else:
        await officer.send_text(move.text)


def _asks(question: str, message: SimMessage) -> bool:
    """``message`` asks ``question``, or offers a returning visitor's stored details (a
    message that offered them keeps saying so once answered: it is known by its buttons)."""
    offer = any(form_texts.BTN_FRESH in label for row in message.buttons for label in row)
    return question in message.text_or_caption or offer


async def fill_in(
    officer: SimUser,
    moves: list[Move],
    timeout: float = 10.0,  # noqa: ASYNC109 - passed on to wait_for
) -> SimMessage:
    """The officer answers ``moves`` in an open form; returns the bot's answer to the last.

    A returning visitor's stored details are offered after the NIK: typed anew instead.
    """
    wait_for = functools.partial(officer.wait_for, timeout=timeout)
    reply = None
    for move in moves:
        await act(officer, move)
        reply = await wait_for(predicate=functools.partial(_asks, move.then))
        if move.then not in reply.text_or_caption:
            await officer.tap(form_texts.BTN_FRESH)
            reply = await wait_for(move.then)
    assert reply is not None
    return reply


def live_question(person: SimUser, asked: str) -> SimMessage:
    """The open question, the newest message that asks ``asked``: no other message in the
    person's chat has live buttons (answered questions show their answer or lose them).
    A question answered by typing has none itself: its text ends with /batal instead."""
    asking = [m for m in person.bot_messages if asked in m.text_or_caption and not m.deleted]
    assert asking, f"nothing asks {asked!r}"
    question = asking[-1]
    live = [m for m in person.bot_messages if m.buttons and not m.deleted]
    assert live in ([], [question]), [str(m) for m in live]
    if not question.buttons:
        assert form_texts.CANCEL_COMMAND in question.text_or_caption, question
    return question


async def one_line_error(person: SimUser, says: str, asked: str) -> SimMessage:
    """An input error: one short line under the question, which stays live and is not
    asked again while it is still on screen."""
    error = await person.wait_for(says)
    await person.sim.settle()
    assert "\n" not in error.text_or_caption and not error.buttons
    assert person.bot_messages[-1] is error  # nothing after it: no repeated question
    question = live_question(person, asked)
    assert sum(asked in m.text_or_caption for m in person.bot_messages) == 1
    assert question.message_id < error.message_id
    return error


async def register(
    sim: BotApiSimulator,
    visitor: Visitor | None = None,
    officer_id: int = OFFICER,
    timeout: float = 10.0,  # noqa: ASYNC109 - passed on to wait_for
) -> None:
    """The officer fills the whole form and submits it to the section heads."""
    moves = (visitor or Visitor()).script()
    officer = sim.user(officer_id)
    await officer.send_text("/daftar")
    await officer.wait_for(moves[0].asked, timeout=timeout)
    summary = await fill_in(officer, moves, timeout)
    await officer.tap(form_texts.BTN_SUBMIT, summary)
    await officer.wait_for("terkirim", timeout=timeout)


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
