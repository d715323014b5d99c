"""``python -m bot demo --script``: the walkthrough played in the terminal.

The three people act through the simulator and every bot message they receive is printed
once, as it would read on their phone.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path

from bot.core.form import FORM, Act
from bot.core.qr import decode_badge_token
from bot.core.tokens import deep_link
from bot.texts import approval as approval_texts
from bot.texts import form as form_texts
from demo.app import APPROVER, DEMO_BOT, DEMO_NIK, ESCORT, OFFICER, PEOPLE, SAMPLES, DemoBot
from simulator import BotApiSimulator, SimMessage, SimUser

# The officer's answers, by form field (bot/core/form.py); the suggested ones are tapped.
VISITOR = {
    "nik": DEMO_NIK,
    "name": "Ayu Lestari",
    "organisation": "PT Jaringan Nusantara",
    "phone": "0812 3456 7890",
    "purpose": form_texts.PURPOSES[0],
    "duration": "30 mnt",
    "equipment": "Laptop, kabel konsol",
}


async def play(directory: Path) -> int:
    demo = DemoBot(directory)
    await demo.start()
    try:
        badge = await _walkthrough(demo.sim, directory)
    finally:
        await demo.stop()
    print(f"\nDemo selesai. Badge: {badge}")
    print(f"Data demo (database, config): {directory}")
    return 0


class _Printer:
    """Prints every bot message a person receives, once, as it would look on their phone."""

    def __init__(self, sim: BotApiSimulator) -> None:
        self.sim = sim
        self.seen: dict[tuple[int, int], int] = {}

    def show(self) -> None:
        for user_id, (_name, role) in PEOPLE.items():
            for message in self.sim.user(user_id).bot_messages:
                key = (user_id, message.message_id)
                if self.seen.get(key) == message.seq:
                    continue
                edited = key in self.seen
                self.seen[key] = message.seq
                label = f"[{role}] {'(diperbarui) ' if edited else ''}"
                body = message.text_or_caption or ""
                if message.photo_bytes:
                    body = f"🖼 (foto) {body}"
                if message.document_name:
                    body = f"📄 {message.document_name} {body}"
                print(label + body.replace("\n", "\n" + " " * len(label)))
                for row in message.buttons:
                    print(" " * len(label) + "  ".join(f"[{b}]" for b in row))


def _reply() -> str:
    """The one-reply template filled in with the visitor's answers (an optional field left
    unanswered stays blank)."""
    card = {"ktp": "", "nik": DEMO_NIK, "name": ""}
    return "\n".join(
        f"{form_texts.template_label(field)}: {VISITOR.get(field.name, '')}"
        for field in FORM.remaining(card)
    )


# How long a step waits for the bot's question (a KTP read or a slow machine takes seconds).
WAIT = 60.0


async def _step(sim: BotApiSimulator, printer: _Printer, who: int, action: str) -> None:
    print(f"\n>>> {PEOPLE[who][1]}: {action}")
    await sim.settle()
    printer.show()


def _offers(label: str, message: SimMessage) -> bool:
    return any(label == button for row in message.buttons for button in row)


async def _act(
    sim: BotApiSimulator,
    printer: _Printer,
    person: SimUser,
    method: str,
    arg: str,
    ready: Callable[[SimMessage], bool],
) -> None:
    """One scripted action, once the bot has asked for it (``ready``: a message shows the
    question, or the button to tap): sim.settle() alone returned while the bot was still
    working on the previous answer, and a tap then found no button. Then what the bot
    answers is printed."""
    await person.wait_for(predicate=ready, since=0, timeout=WAIT)
    await getattr(person, method)(arg)
    await person.wait_for(timeout=WAIT)  # the bot has begun to answer (an edit, a message)
    await _step(sim, printer, person.id, f"{method.replace('_', ' ')} {arg}")


def _asks(question: str, message: SimMessage) -> bool:
    return question in message.text_or_caption


async def _walkthrough(sim: BotApiSimulator, directory: Path) -> Path:
    officer, approver, escort = (sim.user(i) for i in (OFFICER, APPROVER, ESCORT))
    printer = _Printer(sim)
    ktp = (SAMPLES / "ktp-1.jpg").read_bytes()
    await officer.send_text("/daftar")
    await officer.wait_for(timeout=WAIT)
    await _step(sim, printer, OFFICER, "send text /daftar")
    await officer.send_photo(ktp)
    nik_asked = form_texts.plain(form_texts.question(FORM.identifying))
    read = await officer.wait_for(
        predicate=lambda m: "Terbaca" in m.text_or_caption or nik_asked in m.text_or_caption,
        timeout=WAIT,
    )
    await _step(sim, printer, OFFICER, "send photo (foto KTP spesimen)")
    # Each step: who, how, what, and the message that must be on screen before it.
    steps: list[tuple[SimUser, str, str, Callable[[SimMessage], bool]]] = []
    if "Terbaca" in read.text_or_caption:
        # The card was read: confirm it, then the rest in one reply to the template.
        steps += [
            (officer, "tap", form_texts.BTN_READ_OK, partial(_offers, form_texts.BTN_READ_OK)),
            (officer, "send_text", _reply(), partial(_offers, form_texts.BTN_ONE_BY_ONE)),
        ]
    else:  # no reader on this machine: the form asks field by field
        methods = {Act.TYPE: "send_text", Act.TAP: "tap"}
        steps += [
            (
                officer,
                methods[move.act],
                move.text,
                partial(_offers, move.text) if move.act == Act.TAP else partial(_asks, move.asked),
            )
            for move in form_texts.script(VISITOR)
            if move.act != Act.PHOTO
        ]
    steps += [
        (officer, "tap", form_texts.BTN_SUBMIT, partial(_offers, form_texts.BTN_SUBMIT)),
        (
            approver,
            "tap",
            approval_texts.BTN_APPROVE,
            partial(_offers, approval_texts.BTN_APPROVE),
        ),
    ]
    for person, method, arg, ready in steps:
        await _act(sim, printer, person, method, arg, ready)

    badge_message = await officer.wait_for(
        predicate=lambda m: bool(m.photo_bytes) and "Badge" in m.text_or_caption,
        since=0,
        timeout=WAIT,
    )
    badge_path = directory / "badge.png"
    badge_path.write_bytes(badge_message.photo_bytes or b"")
    token = decode_badge_token(badge_message.photo_bytes or b"")
    if token is None:
        raise RuntimeError("the badge's QR could not be read")
    link = deep_link(DEMO_BOT, token)
    for label in ("Catat MASUK", "Perangkat sesuai"):
        await escort.open_link(link)
        await escort.wait_for(timeout=WAIT)
        await _step(sim, printer, ESCORT, "memindai QR badge dengan kamera")
        await _act(sim, printer, escort, "tap", label, partial(_offers_part, label))
    return badge_path


def _offers_part(label: str, message: SimMessage) -> bool:
    """A button whose label holds ``label`` ("✅ Perangkat sesuai"), as tap() finds it."""
    return any(label in button for row in message.buttons for button in row)
