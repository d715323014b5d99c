"""What the simulated people do: one complete visit, for the real bot and for the baseline.

Both scripts send the same updates in the same order from the same people, each person
waiting for the bot's answer before acting again:

- officer: /daftar, one answer per form field as bot/texts/form.script gives them (the KTP
  photo, typed text, or a tap on a suggested answer), tap submit;
- section head: tap approve (1);
- escort: open the badge's deep link, tap enter, open it again, tap exit (4).
"""

from __future__ import annotations

import io
from collections.abc import Awaitable
from dataclasses import asdict, dataclass
from datetime import date, timedelta

from PIL import Image, ImageDraw

from bench.baseline import BUTTON
from bench.inbox import Inbox, Predicate
from bot.core.form import FORM, Act, Move
from bot.core.qr import decode_qr
from bot.texts import approval as approval_texts
from bot.texts import door as door_texts
from bot.texts import duty as duty_texts
from bot.texts import form as form_texts
from simulator import SimMessage, SimUser

# /daftar, the form, submit; approve; the escort's two scans and two taps.
UPDATES_PER_VISIT = 1 + len(FORM) + 1 + 1 + 4


@dataclass(frozen=True)
class Visitor:
    """The answers, by form field (bot/core/form.py); the suggested ones are tapped."""

    nik: str
    name: str
    organisation: str = "PT Jaringan Nusantara"
    phone: str = "0812-3456-7890"
    purpose: str = form_texts.PURPOSES[0]
    duration: str = form_texts.FIELDS["duration"].suggested[0]
    equipment: str = "Laptop, kabel konsol"


def nik_for(n: int) -> str:
    """A valid, unique NIK per n (Lumajang, a man born in 1970-1997, serial 1-9999)."""
    born = date(1970, 1, 1) + timedelta(days=n // 9999)
    return f"350801{born:%d%m%y}{n % 9999 + 1:04d}"


def visitor(n: int) -> Visitor:
    # Fixed width, so no visitor's name is part of another's (the waits match on it).
    return Visitor(nik=nik_for(n), name=f"Tamu Uji {n:06d}")


def ktp_photo() -> bytes:
    """A stand-in KTP photo (JPEG, like a phone camera's)."""
    image = Image.new("RGB", (640, 400), (180, 210, 235))
    ImageDraw.Draw(image).text((40, 40), "SPESIMEN KTP", fill=(0, 0, 0))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=80)
    return out.getvalue()


KTP = ktp_photo()


class Harness:
    """People acting through SimUser, waiting through the Inbox; counts updates sent."""

    def __init__(self, inbox: Inbox) -> None:
        self.inbox = inbox
        self.sent = 0

    async def step(
        self,
        person: SimUser,
        action: Awaitable[object],
        text: str | None = None,
        predicate: Predicate | None = None,
    ) -> SimMessage:
        """Act (one update) and return the bot message that answers it."""
        expectation = self.inbox.expect(person.id, text, predicate)
        await action
        self.sent += 1
        return await self.inbox.wait(expectation)

    async def tap_and_wait_answer(self, person: SimUser, label: str, message: SimMessage) -> None:
        callback = await person.tap(label, message)
        self.sent += 1
        await self.inbox.wait_answer(self.inbox.expect_answer(callback), person.id)  # type: ignore[arg-type]


def _answer(person: SimUser, move: Move, question: SimMessage) -> Awaitable[object]:
    """The officer's update for one move of the form's script."""
    if move.act == Act.PHOTO:
        return person.send_photo(KTP)
    if move.act == Act.TAP:
        return person.tap(move.text, question)
    return person.send_text(move.text)


def _has_button(label: str) -> Predicate:
    return lambda m: any(label in row for row in m.buttons)


def _edited(message: SimMessage, text: str) -> Predicate:
    return lambda m: m.message_id == message.message_id and text in m.text_or_caption


def badge_link(badge: SimMessage) -> str:
    """What the escort's phone camera reads from the badge."""
    assert badge.photo_bytes is not None
    [link] = decode_qr(badge.photo_bytes)
    return link


async def real_visit(
    h: Harness, officer: SimUser, approver: SimUser, escort: SimUser, v: Visitor
) -> None:
    o, a, e = officer, approver, escort
    moves = form_texts.script(asdict(v))
    question = await h.step(o, o.send_text("/daftar"), moves[0].asked)
    for move in moves:
        question = await h.step(o, _answer(o, move, question), move.then)
    summary = question

    card = h.inbox.expect(a.id, v.name, _has_button(approval_texts.BTN_APPROVE))
    await h.step(o, o.tap(form_texts.BTN_SUBMIT, summary), "terkirim")
    card_message = await h.inbox.wait(card)

    badge = h.inbox.expect(o.id, v.name, lambda m: m.photo is not None)
    pdf = h.inbox.expect(o.id, predicate=lambda m: m.document is not None)
    await h.step(a, a.tap(approval_texts.BTN_APPROVE, card_message), "DISETUJUI")
    link = badge_link(await h.inbox.wait(badge))
    await h.inbox.wait(pdf)

    view = await h.step(e, e.open_link(link), predicate=_has_button(door_texts.BTN_ENTER))
    await h.step(e, e.tap(door_texts.BTN_ENTER, view), predicate=_edited(view, "MASUK tercatat"))
    view = await h.step(e, e.open_link(link), predicate=_has_button(door_texts.BTN_EXIT_OK))
    await h.step(
        e, e.tap(door_texts.BTN_EXIT_OK, view), predicate=_edited(view, "KELUAR tercatat")
    )


async def go_on_duty(h: Harness, escort: SimUser) -> None:
    """/piket, then "Mulai piket": from now on the approvals tell this escort (and the other
    escorts on duty) only."""
    status = await h.step(
        escort, escort.send_text("/piket"), predicate=_has_button(duty_texts.BTN_START)
    )
    await h.step(
        escort,
        escort.tap(duty_texts.BTN_START, status),
        predicate=lambda m: (
            m.message_id == status.message_id and _has_button(duty_texts.BTN_END)(m)
        ),
    )


async def baseline_visit(
    h: Harness, officer: SimUser, approver: SimUser, escort: SimUser, v: Visitor
) -> None:
    """The same updates; the baseline answers each with one call (see bench/baseline.py)."""
    o, a, e = officer, approver, escort
    reply = await h.step(o, o.send_text("/daftar"))
    for move in form_texts.script(asdict(v)):
        if move.act == Act.TAP:
            await h.tap_and_wait_answer(o, BUTTON, reply)
        else:
            reply = await h.step(o, _answer(o, move, reply))
    await h.tap_and_wait_answer(o, BUTTON, reply)  # submit

    # The section head taps the reply to his own earlier /start (see prime_baseline).
    card = a.last_bot_message
    assert card is not None
    await h.tap_and_wait_answer(a, BUTTON, card)

    link = f"https://t.me/{e.sim.bot_username}?start=baseline{v.nik}"
    for _ in ("enter", "exit"):
        view = await h.step(e, e.open_link(link))
        await h.tap_and_wait_answer(e, BUTTON, view)


async def prime_baseline(h: Harness, approvers: list[SimUser]) -> None:
    """Give each section head a baseline message with a button, before measuring."""
    for approver in approvers:
        await h.step(approver, approver.send_text("/start"))
