"""Staff administration through the chat: invitations, role changes, removal (issue 4)."""

from __future__ import annotations

import re

from bot.app.services import Services
from bot.core import callbacks
from bot.core.invites import INVITE_LENGTH, START_RE, is_invite, new_invite_token
from bot.core.roles import Role
from bot.core.tokens import TOKEN_LENGTH, deep_link, new_credentials
from simulator import BotApiSimulator
from tests.conftest import ADMIN, APPROVER, BOT_USERNAME, ESCORT, OFFICER, STRANGER, FakeClock
from tests.dbstate import watch
from tests.flows import approve, badge_link, register, scan

LINK_RE = re.compile(r"https://t\.me/\S+")
NEWCOMER = 9002


async def invite(sim: BotApiSimulator, *roles: str) -> str:
    """The admin's /undang: tick the roles, make the link, read it off the message."""
    admin = sim.user(ADMIN)
    await admin.send_text("/undang")
    await admin.wait_for("Undang staf baru")
    for role in roles:
        await admin.tap(f"⬜ {role}")
        await admin.wait_for(
            predicate=lambda m, r=role: any(f"☑️ {r}" in b for row in m.buttons for b in row)
        )
    await admin.tap("🔗 Buat tautan")
    message = await admin.wait_for("Tautan undangan")
    match = LINK_RE.search(message.text_or_caption)
    assert match is not None
    return match.group(0)


def test_invitation_payloads_never_look_like_badge_tokens() -> None:
    for visit_id in range(300):
        token = new_credentials(b"s" * 32, visit_id).token
        assert len(token) == TOKEN_LENGTH and not is_invite(token)
        assert not START_RE.match(f"/start {token}")
    # A badge token that happens to begin with the prefix is still 38 characters long.
    assert not is_invite("inv_" + "A" * (TOKEN_LENGTH - 4))
    token = new_invite_token()
    assert len(token) == INVITE_LENGTH != TOKEN_LENGTH and is_invite(token)
    assert START_RE.match(f"/start {token}") and not START_RE.match(f"/start {token}\n")


async def test_invitation_end_to_end(
    sim: BotApiSimulator, app: object, services: Services
) -> None:
    link = await invite(sim, "Petugas", "Pendamping")
    newcomer = sim.add_user(NEWCOMER, "Joko", last_name="Santoso")
    await newcomer.open_link(link)
    await newcomer.wait_for("Admin akan mengonfirmasi")
    admin = sim.user(ADMIN)
    ask = await admin.wait_for("membuka tautan undangan")
    assert "Joko Santoso" in ask.text_or_caption and str(NEWCOMER) in ask.text_or_caption
    await admin.tap("✅ Konfirmasi", ask)
    await admin.wait_for("kini terdaftar")
    await newcomer.wait_for("Selamat datang")
    member = services.member(NEWCOMER)
    assert member is not None and member.roles == {"officer", "escort"}
    menu = [c for c, _ in sim.commands_for(NEWCOMER)]
    assert "daftar" in menu and "kode" in menu and "staf" not in menu
    await newcomer.send_text("/daftar")
    await newcomer.wait_for("foto KTP")
    actions = [e.action for e in await services.storage.audit.events()]
    assert "staff_invited" in actions and "staff_added" in actions

    # The same link a second time, by anyone, is dead.
    db = await watch(app, sim)
    await sim.user(STRANGER).open_link(link)
    await sim.user(STRANGER).wait_for("tidak berlaku")
    assert services.member(STRANGER) is None
    await db.unchanged(new_audit=["invitation_refused"])


async def test_expired_invitation_is_refused(
    sim: BotApiSimulator, app: object, services: Services, clock: FakeClock
) -> None:
    link = await invite(sim, "Kepala Seksi")
    clock.advance(hours=25)
    db = await watch(app, sim)
    stranger = sim.user(STRANGER)
    await stranger.open_link(link)
    await stranger.wait_for("tidak berlaku")
    assert services.member(STRANGER) is None
    actions = [e.action for e in await services.storage.audit.events()]
    assert "invitation_refused" in actions
    await db.unchanged(new_audit=["invitation_refused"])


async def test_a_badge_token_with_the_prefix_still_goes_to_the_scan(
    sim: BotApiSimulator, app: object
) -> None:
    db = await watch(app, sim)
    escort = sim.user(ESCORT)
    await escort.open_link(deep_link(BOT_USERNAME, "inv_" + "A" * 34))
    await escort.wait_for("tidak dikenal atau palsu")
    await db.unchanged(new_audit=["badge_unknown", "forged_alert"], new_outbox=["forged"] * 2)


async def test_only_admins_administer(sim: BotApiSimulator, app: object) -> None:
    db = await watch(app, sim)
    for user_id in (OFFICER, APPROVER):
        person = sim.user(user_id)
        for command in ("/staf", "/undang"):
            await person.send_text(command)
            await person.wait_for("khusus untuk Admin")
    await db.unchanged()
    assert "staf" in [c for c, _ in sim.commands_for(ADMIN)]
    assert "staf" not in [c for c, _ in sim.commands_for(OFFICER)]


async def test_role_change_and_removal_take_effect_at_once(
    sim: BotApiSimulator, app: object, services: Services
) -> None:
    admin = sim.user(ADMIN)
    await admin.send_text("/staf")
    listing = await admin.wait_for("Daftar staf")
    assert "Sari Petugas" in listing.text_or_caption
    await admin.tap("Sari Petugas", listing)
    await admin.wait_for("Tekan peran")
    await admin.tap("⬜ Pendamping")
    await admin.wait_for(
        predicate=lambda m: "Pendamping" in m.text_or_caption and "Petugas" in m.text_or_caption
    )
    member = services.member(OFFICER)
    assert member is not None and member.roles == {"officer", "escort"}
    assert "kode" in [c for c, _ in sim.commands_for(OFFICER)]

    await admin.tap("🗑 Hapus dari staf")
    await admin.wait_for("dihapus dari staf")
    assert services.member(OFFICER) is None
    assert sim.commands_for(OFFICER) == []
    officer = sim.user(OFFICER)
    await officer.send_text("/daftar")
    await officer.wait_for("ID Telegram Anda")
    actions = [e.action for e in await services.storage.audit.events()]
    assert "staff_roles" in actions and "staff_removed" in actions


async def test_config_admins_cannot_be_removed(
    sim: BotApiSimulator, app: object, services: Services
) -> None:
    admin = sim.user(ADMIN)
    await admin.send_text("/staf")
    listing = await admin.wait_for("Daftar staf")
    await admin.tap("Admin TI", listing)
    await admin.wait_for("Tekan peran")
    db = await watch(app, sim)
    untick = await admin.tap("☑️ Admin")
    await sim.settle()
    assert untick is not None and "tetap admin" in untick.answer.text  # type: ignore[union-attr]
    remove = await admin.tap("🗑 Hapus dari staf")
    await sim.settle()
    assert remove is not None and "diri sendiri" in remove.answer.text  # type: ignore[union-attr]
    assert services.member(ADMIN) is not None
    await db.unchanged()


async def test_forged_staff_buttons_are_stale_and_change_nothing(
    sim: BotApiSimulator, app: object, services: Services
) -> None:
    """Well-formed data a button never carries, from a real admin: stale, nothing stored."""
    admin = sim.user(ADMIN)
    await admin.send_text("/staf")
    listing = await admin.wait_for("Daftar staf")
    db = await watch(app, sim)
    for data in (
        f"v1:stfr:{OFFICER}:99",  # bits no role has (once read as officer + approver)
        f"v1:stfr:{OFFICER}:16",
        f"v1:stfr:{OFFICER}",
        f"v1:stfx:0{OFFICER}",
        "v1:invmk:16",
        "v1:invok:0",
        "v1:stf:abc",
    ):
        tap = await admin.send_callback(listing, data)
        await sim.settle()
        assert tap.answer is not None and "tidak berlaku" in (tap.answer.text or ""), data
    await db.unchanged()
    rows = {r.user_id: r for r in await services.storage.staff.all()}
    assert rows[OFFICER].roles == {Role.OFFICER} and rows[OFFICER].active


async def test_forged_admin_and_delegation_taps_change_nothing(
    sim: BotApiSimulator, app: object
) -> None:
    """The admin's and the section head's buttons, pressed from modified clients."""
    link = await invite(sim, "Petugas")
    await sim.add_user(NEWCOMER, "Joko").open_link(link)
    admin = sim.user(ADMIN)
    ask = await admin.wait_for("membuka tautan undangan")
    confirm = ask.callback_data("✅ Konfirmasi")
    invitation_id = confirm.rsplit(":", 1)[1]
    admin_only = [
        callbacks.pack(callbacks.STAFF_VIEW, OFFICER),
        callbacks.pack(callbacks.STAFF_ROLE, f"{OFFICER}:15"),
        callbacks.pack(callbacks.STAFF_REMOVE, OFFICER),
        callbacks.pack(callbacks.INVITE_ROLE, 15),
        callbacks.pack(callbacks.INVITE_MAKE, 15),
        confirm,
        callbacks.pack(callbacks.INVITE_NO, invitation_id),
    ]
    approver_only = [callbacks.pack(callbacks.DELEGATE_FOR, f"{ESCORT}:7")]
    db = await watch(app, sim)
    for user_id in (OFFICER, APPROVER, ESCORT, STRANGER):
        person = sim.user(user_id)
        await person.send_text("/start")
        own = await person.wait_for()
        for data in [*admin_only, *([] if user_id == APPROVER else approver_only)]:
            tap = await person.send_callback(own, data)
            await sim.settle()
            refusal = "tidak berwenang" if user_id == STRANGER else "khusus untuk"
            assert tap.answer is not None and refusal in tap.answer.text, (user_id, data)
    await db.unchanged(new_audit=["stranger_refused"] * (1 + len(admin_only) + 1))
    await admin.tap("✅ Konfirmasi", ask)  # the invitation still waits for the admin
    await admin.wait_for("kini terdaftar")


async def test_an_invited_escort_is_named_in_the_list_of_who_is_inside(
    sim: BotApiSimulator, app: object
) -> None:
    """/aktif names escorts from the staff table, not only those in the config file."""
    link = await invite(sim, "Pendamping")
    newcomer = sim.add_user(NEWCOMER, "Joko", last_name="Santoso")
    await newcomer.open_link(link)
    admin = sim.user(ADMIN)
    await admin.tap("✅ Konfirmasi", await admin.wait_for("membuka tautan undangan"))
    await newcomer.wait_for("Selamat datang")
    await register(sim)
    await approve(sim)
    await scan(sim, badge_link(sim), escort=NEWCOMER)
    await newcomer.tap("Catat MASUK")
    await newcomer.wait_for("MASUK")
    await sim.user(APPROVER).send_text("/aktif")
    inside = await sim.user(APPROVER).wait_for("Di dalam ruang server: 1")
    assert "pendamping: Joko Santoso" in inside.text_or_caption
