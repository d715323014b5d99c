"""``python -m bot demo --script``: the walkthrough played in the terminal.

The three people act through the simulator and every bot message they receive is printed
once, as it would read on their phone.
"""

from __future__ import annotations

from pathlib import Path

from bot.core.form import FORM, Act
from bot.core.qr import decode_badge_token
from bot.core.tokens import deep_link
from bot.texts import approval as approval_texts
from bot.texts import form as form_texts
from demo.app import APPROVER, DEMO_BOT, DEMO_NIK, ESCORT, OFFICER, PEOPLE, SAMPLES, DemoBot
from simulator import BotApiSimulator, SimUser

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


async def _step(sim: BotApiSimulator, printer: _Printer, who: int, action: str) -> None:
    print(f"\n>>> {PEOPLE[who][1]}: {action}")
    await sim.settle()
    printer.show()


async def _walkthrough(sim: BotApiSimulator, directory: Path) -> Path:
    officer, approver, escort = (sim.user(i) for i in (OFFICER, APPROVER, ESCORT))
    printer = _Printer(sim)
    ktp = (SAMPLES / "ktp-1.jpg").read_bytes()
    await officer.send_text("/daftar")
    await _step(sim, printer, OFFICER, "send text /daftar")
    await officer.send_photo(ktp)
    nik_asked = form_texts.plain(form_texts.question(FORM.identifying))
    read = await officer.wait_for(
        predicate=lambda m: "Terbaca" in m.text_or_caption or nik_asked in m.text_or_caption,
        timeout=15,
    )
    await _step(sim, printer, OFFICER, "send photo (foto KTP spesimen)")
    steps: list[tuple[SimUser, str, str]] = []
    if "Terbaca" in read.text_or_caption:
        # The card was read: confirm it, then the rest in one reply to the template.
        steps += [(officer, "tap", form_texts.BTN_READ_OK), (officer, "send_text", _reply())]
    else:  # no reader on this machine: the form asks field by field
        methods = {Act.TYPE: "send_text", Act.TAP: "tap"}
        steps += [
            (officer, methods[move.act], move.text)
            for move in form_texts.script(VISITOR)
            if move.act != Act.PHOTO
        ]
    steps += [
        (officer, "tap", form_texts.BTN_SUBMIT),
        (approver, "tap", approval_texts.BTN_APPROVE),
    ]
    for person, method, arg in steps:
        await getattr(person, method)(arg)
        await _step(sim, printer, person.id, f"{method.replace('_', ' ')} {arg}")

    badge_message = next(
        m for m in reversed(officer.bot_messages) if m.photo_bytes and "Badge" in m.text_or_caption
    )
    badge_path = directory / "badge.png"
    badge_path.write_bytes(badge_message.photo_bytes or b"")
    token = decode_badge_token(badge_message.photo_bytes or b"")
    if token is None:
        raise RuntimeError("the badge's QR could not be read")
    link = deep_link(DEMO_BOT, token)
    for label in ("Catat MASUK", "Perangkat sesuai"):
        await escort.open_link(link)
        await _step(sim, printer, ESCORT, "memindai QR badge dengan kamera")
        await escort.tap(label)
        await _step(sim, printer, ESCORT, f"tap {label}")
    return badge_path
