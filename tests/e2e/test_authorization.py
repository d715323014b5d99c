"""The authorization matrix: every command, button and deep link, tried by every role and
by a stranger, with the answer each must get. Nothing changes unless the role allows it."""

from __future__ import annotations

import pytest

from bot.app.services import Services
from bot.core.visits import VisitStatus
from simulator import BotApiSimulator
from tests.conftest import ADMIN, APPROVER, ESCORT, OFFICER, STRANGER
from tests.dbstate import watch
from tests.flows import approve, badge_link, register

ROLES = {"officer": OFFICER, "approver": APPROVER, "escort": ESCORT, "admin": ADMIN}
REFUSED = "ID Telegram Anda"  # what a stranger gets, whatever they send

# command -> {role: text the reply contains}; strangers always get REFUSED.
COMMANDS = {
    "/start": dict.fromkeys(ROLES, "Selamat datang"),
    "/bantuan": dict.fromkeys(ROLES, "Cara kerja"),
    "/help": dict.fromkeys(ROLES, "Cara kerja"),  # Telegram's global command, same answer
    "/daftar": {
        "officer": "foto KTP",
        "approver": "khusus untuk Petugas",
        "escort": "khusus untuk Petugas",
        "admin": "khusus untuk Petugas",
    },
    "/aktif": dict.fromkeys(ROLES, "Tidak ada pengunjung"),
    "/menunggu": dict.fromkeys(ROLES, "Menunggu keputusan: 1"),
    "/kode ABCD-EFGH": dict.fromkeys(ROLES, "tidak dikenal"),
    "/piket": {
        "officer": "khusus untuk Pendamping",
        "approver": "khusus untuk Pendamping",
        "escort": "Anda sedang tidak piket",
        "admin": "khusus untuk Pendamping",
    },
    "/daftar_blokir": {
        "officer": "khusus untuk Kepala Seksi",
        "approver": "Daftar blokir kosong",
        "escort": "khusus untuk Kepala Seksi",
        "admin": "khusus untuk Kepala Seksi",
    },
}
# What the commands above write: only the audit events of refusals (and the officer's
# /daftar opens a form). A stranger's refusal is always audited.
AUDITED = {"/kode ABCD-EFGH": ["badge_unknown"] * len(ROLES)}


@pytest.mark.parametrize("command", COMMANDS)
async def test_commands(sim: BotApiSimulator, app: object, command: str) -> None:
    await register(sim)
    await sim.user(OFFICER).send_text("/batal")  # leave the officer outside any form
    await sim.settle()
    db = await watch(app, sim)
    for role, user_id in [*ROLES.items(), ("stranger", STRANGER)]:
        person = sim.user(user_id)
        await person.send_text(command)
        expected = COMMANDS[command].get(role, REFUSED)
        reply = await person.wait_for(expected)
        if role == "stranger":
            assert str(STRANGER) in reply.text_or_caption and "KRS" not in reply.text_or_caption
        if expected == "foto KTP":  # the officer's form is open: the one change expected
            db = await watch(app, sim)
    await db.unchanged(new_audit=[*AUDITED.get(command, []), "stranger_refused"])


# callback action -> roles allowed; the others get the refusal text.
BUTTONS = {
    "ok": ({"approver"}, "khusus untuk Kepala Seksi"),
    "okb": ({"approver"}, "khusus untuk Kepala Seksi"),  # "Ya, setujui meski diblokir"
    "no": ({"approver"}, "khusus untuk Kepala Seksi"),
    "in": ({"escort"}, "Hanya Pendamping"),
    "out": ({"escort"}, "Hanya Pendamping"),
    "dv": ({"escort"}, "Hanya Pendamping"),  # the "visitor waiting" notice's button
}


@pytest.mark.parametrize("action", BUTTONS)
async def test_forged_buttons(
    sim: BotApiSimulator, app: object, services: Services, action: str
) -> None:
    """Callback data is only a name: the presser's role and the visit's state decide."""
    await register(sim)
    (visit,) = await services.storage.visits.with_status(VisitStatus.PENDING)
    allowed, refusal = BUTTONS[action]
    db = await watch(app, sim)
    for role, user_id in [*ROLES.items(), ("stranger", STRANGER)]:
        if role in allowed:
            continue
        person = sim.user(user_id)
        await person.send_text("/start")
        own = await person.wait_for()
        tap = await person.send_callback(own, f"v1:{action}:{visit.id}")
        await sim.settle()
        expected = "tidak berwenang" if role == "stranger" else refusal
        assert tap.answer is not None and expected in tap.answer.text, (role, tap.answer)
    still = await services.storage.visits.get(visit.id)
    assert still is not None and still.status == VisitStatus.PENDING
    await db.unchanged(new_audit=["stranger_refused"] * 2)


async def test_badge_deep_link_by_every_role(
    sim: BotApiSimulator, app: object, services: Services
) -> None:
    await register(sim)
    await approve(sim)
    link = badge_link(sim)
    # The escort's scan stores its button's nonce (storage/door.py), a change of its own.
    escort = sim.user(ROLES["escort"])
    await escort.open_link(link)
    assert (await escort.wait_for("Badge pengunjung")).buttons == [["✅ Catat MASUK"]]
    db = await watch(app, sim)
    for role, user_id in [*ROLES.items(), ("stranger", STRANGER)]:
        if role == "escort":
            continue
        person = sim.user(user_id)
        await person.open_link(link)
        if role == "stranger":
            reply = await person.wait_for(REFUSED)
            assert "Ayu" not in reply.text_or_caption
            continue
        view = await person.wait_for("Badge pengunjung")
        assert view.buttons == []
    (visit,) = await services.storage.visits.with_status(VisitStatus.APPROVED)
    assert visit.entered_at is None
    # Each staff member's view showed the KTP photo, so it is recorded (to take the photo
    # out of it when it is deleted: test_ktp_leaves_chats); nothing else changed.
    shown = len(ROLES) - 1
    await db.unchanged(new_audit=["stranger_refused"], new_ktp_views=shown)


async def test_registration_buttons_outside_a_form_are_stale(
    sim: BotApiSimulator, app: object
) -> None:
    db = await watch(app, sim)
    for role, user_id in [*ROLES.items(), ("stranger", STRANGER)]:
        person = sim.user(user_id)
        await person.send_text("/start")
        own = await person.wait_for()
        tap = await person.send_callback(own, "v1:reg:send")
        await sim.settle()
        expected = "tidak berwenang" if role == "stranger" else "tidak berlaku"
        assert tap.answer is not None and expected in tap.answer.text
    await db.unchanged(new_audit=["stranger_refused"] * 2)
