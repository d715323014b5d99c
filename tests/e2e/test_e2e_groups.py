"""The bot works in private chats only: added to a group, it leaves and tells the admins."""

from __future__ import annotations

from bot.app.services import Services
from simulator import BotApiSimulator
from simulator.groups import add_group
from tests.conftest import ADMIN, OFFICER, STRANGER
from tests.dbstate import watch
from tests.flows import register


async def test_added_to_a_group_the_bot_leaves_and_tells_the_admins(
    sim: BotApiSimulator, app: object, services: Services
) -> None:
    db = await watch(app, sim)
    for adder, name in ((OFFICER, "Sari"), (STRANGER, "Orang Asing")):
        group = add_group(sim, f"Grup TI {adder}")
        group.add_bot(adder)
        notice = await sim.user(ADMIN).wait_for(f"Grup TI {adder}")
        assert name in notice.text_or_caption and str(group.id) in notice.text_or_caption
        assert "menambahkan bot ke grup" in notice.text_or_caption
        assert not group.bot_member and group.left_at is not None and group.bot_sent == []
    events = [e for e in await services.storage.audit.events() if e.action == "group_left"]
    assert [(e.actor_id, e.detail.startswith("chat:-")) for e in events] == [
        (OFFICER, True),
        (STRANGER, True),
    ]
    await db.unchanged(new_audit=["group_left"] * 2, new_outbox=["group_left"] * 2)


async def test_commands_in_a_group_get_no_answer_there(
    sim: BotApiSimulator, app: object, services: Services
) -> None:
    await register(sim)  # a visitor whose name /riwayat or /menunggu would show
    group = add_group(sim, "Grup Diskominfo")
    group.bot_member = True  # added before this version: no my_chat_member arrives now
    db = await watch(app, sim)
    before = len(sim.user(OFFICER).bot_messages)
    await group.send_text(OFFICER, "/riwayat 3508014507900002")
    await sim.user(ADMIN).wait_for("Grup Diskominfo")
    await group.send_text(OFFICER, "/menunggu")  # the bot has left: Telegram drops it
    await sim.settle()
    assert not group.bot_member
    assert group.bot_sent == []  # nothing posted into the group
    officer_chat = sim.user(OFFICER).bot_messages
    assert not any("Ayu" in m.text_or_caption for m in officer_chat[before:])
    await db.unchanged(new_audit=["group_left"], new_outbox=["group_left"])
