"""Messages Telegram will not deliver are reported at once, in words people can act on
(issue 10, "Telegram's real answers").

Telegram refuses to message someone who never opened the bot ("Bad Request: chat not
found") or who blocked it ("Forbidden: bot was blocked by the user"); the simulator answers
exactly so. The officer and the admins hear who did not get what and why; a request no
section head can receive goes to the backups at once; /staf shows who never opened the bot.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from bot.app.config import Config
from bot.app.services import Services
from bot.core.roles import Role, StaffMember
from bot.core.visits import VisitStatus
from simulator import BotApiSimulator
from tests.conftest import ADMIN, APPROVER, APPROVER2, ESCORT, OFFICER, FakeClock
from tests.flows import approve, register

BACKUP = 2003
NEWHEAD = 2004  # in the config, never opened the bot


@pytest.fixture
def config(config: Config, sim: BotApiSimulator) -> Config:
    """The shared config, a backup approver, and an approver who never pressed Start."""
    sim.add_user(BACKUP, "Joko")
    sim.add_user(NEWHEAD, "Agus", started=False)
    backup = StaffMember(BACKUP, "Joko Kabid", frozenset({Role.APPROVER}))
    newhead = StaffMember(NEWHEAD, "Agus Kasi", frozenset({Role.APPROVER}))
    return replace(config, staff=(*config.staff, backup, newhead), backup_approvers=(BACKUP,))


def said(sim: BotApiSimulator, user_id: int, text: str) -> list[str]:
    return [m.text_or_caption for m in sim.user(user_id).bot_messages if text in m.text_or_caption]


async def idle(app: Any, sim: BotApiSimulator) -> None:
    await sim.settle()
    await app.bot_data.delivery.wait_idle()
    await sim.settle()


async def outbox(services: Services) -> list[tuple[str, int, str, str | None]]:
    """(key, chat, status, last error) of every outbox row, oldest first."""
    async with services.storage.database.connection.execute(
        "SELECT key, chat_id, status, last_error FROM outbox ORDER BY id"
    ) as cur:
        return [tuple(row) for row in await cur.fetchall()]  # type: ignore[misc]


async def test_a_card_for_someone_who_never_opened_the_bot_is_reported_at_once(
    sim: BotApiSimulator, app: Any, services: Services
) -> None:
    for person in (ESCORT, BACKUP):  # they opened the bot; nothing was sent to them yet
        await sim.user(person).send_text("/start")
        await sim.user(person).wait_for("Selamat datang")
    await register(sim)
    (sent,) = said(sim, OFFICER, "terkirim ke")
    assert "3 Kepala Seksi" in sent  # the card was queued for three
    notice = await sim.user(OFFICER).wait_for("tidak terkirim")
    text = notice.text_or_caption
    assert text.startswith("⚠️ Kartu persetujuan KRS-2026-")
    assert "untuk Agus Kasi tidak terkirim" in text
    why = "Agus Kasi belum pernah membuka bot: minta dia menekan Start di t.me/AksesServerBot;"
    assert why in text
    await sim.user(ADMIN).wait_for("untuk Agus Kasi tidak terkirim")
    await idle(app, sim)
    # The other section heads have their cards, so nothing is escalated.
    assert said(sim, APPROVER, "Permintaan akses ruang server")
    assert said(sim, BACKUP, "Permintaan akses") == []
    rows = await outbox(services)
    assert sorted((r[1], r[2], r[3]) for r in rows if r[0].startswith("card:")) == [
        (APPROVER, "sent", None),
        (APPROVER2, "sent", None),
        (NEWHEAD, "failed", "Chat not found"),
    ]
    assert sorted(r[1] for r in rows if r[0].startswith("undeliverable:")) == [OFFICER, ADMIN]

    # /staf shows who never opened the bot, until they do.
    admin = sim.user(ADMIN)
    await admin.send_text("/staf")
    listed = (await admin.wait_for("Daftar staf")).text_or_caption
    marked = [line for line in listed.splitlines() if line.endswith("belum membuka bot")]
    assert len(marked) == 1 and "Agus Kasi" in marked[0]
    await sim.user(NEWHEAD).send_text("/start")
    await sim.user(NEWHEAD).wait_for("Agus")
    opened = {r.user_id: r.opened for r in await services.storage.staff.all()}
    assert opened[NEWHEAD] and opened[APPROVER]
    await admin.send_text("/staf")
    listed = (await admin.wait_for("Daftar staf")).text_or_caption
    assert "Agus Kasi" in listed and "belum membuka bot" not in listed


async def test_an_edit_with_nothing_to_edit_does_not_count_as_an_opened_chat(
    sim: BotApiSimulator, app: Any, services: Services
) -> None:
    """The decision queues a card edit for every section head; for one whose card never
    arrived the edit sends nothing, so /staf still says that person never opened the bot."""
    await register(sim)
    await sim.user(OFFICER).wait_for("tidak terkirim")
    await approve(sim)
    await idle(app, sim)
    rows = await outbox(services)
    assert (f"card_update:1:{NEWHEAD}", NEWHEAD, "sent", None) in rows  # drawn: no card
    opened = {r.user_id: r.opened for r in await services.storage.staff.all()}
    assert not opened[NEWHEAD] and not opened[BACKUP]  # the backup got nothing either
    admin = sim.user(ADMIN)
    await admin.send_text("/staf")
    listed = (await admin.wait_for("Daftar staf")).text_or_caption
    marked = [line for line in listed.splitlines() if line.endswith("belum membuka bot")]
    assert len(marked) == 2 and "Agus Kasi" in marked[0] and "Joko Kabid" in marked[1]


async def test_a_blocked_bot_is_reported_and_a_notice_never_causes_another(
    sim: BotApiSimulator, app: Any, services: Services
) -> None:
    sim.user(ESCORT).block()
    sim.user(ADMIN).block()  # the admin's notice cannot be delivered either
    await register(sim)
    head = sim.user(APPROVER)
    await head.wait_for("Permintaan akses ruang server")
    await head.tap("Setujui")
    notice = await sim.user(OFFICER).wait_for("Dewi Pendamping tidak terkirim")
    assert notice.text_or_caption.startswith("⚠️ Pemberitahuan pengunjung menunggu KRS-2026-")
    assert "Dewi Pendamping memblokir bot: minta dia membuka t.me/AksesServerBot" in (
        notice.text_or_caption
    )
    await idle(app, sim)
    rows = await outbox(services)
    notices = [r for r in rows if r[0].startswith("undeliverable:")]
    # One notice per person to tell about each refused item (Agus's card and Dewi's
    # notice), each to the officer and the admin; the admin's are refused and told nobody.
    assert sorted((r[1], r[2]) for r in notices) == [
        (OFFICER, "sent"),
        (OFFICER, "sent"),
        (ADMIN, "failed"),
        (ADMIN, "failed"),
    ]
    assert all(r[3] == "Forbidden: bot was blocked by the user" for r in notices if r[1] == ADMIN)


async def test_a_request_no_section_head_can_receive_goes_to_the_backups_at_once(
    sim: BotApiSimulator, app: Any, services: Services, clock: FakeClock
) -> None:
    sim.user(APPROVER).block()
    sim.user(APPROVER2).block()
    await register(sim)
    backup = sim.user(BACKUP)
    await backup.wait_for("tidak dapat dikirim ke Kepala Seksi utama")
    card = await backup.wait_for("Permintaan akses ruang server")
    for person in (OFFICER, ADMIN):
        told = await sim.user(person).wait_for("tidak sampai ke Kepala Seksi mana pun")
        assert "approver cadangan: Joko Kabid" in told.text_or_caption
    await idle(app, sim)  # all of that with the clock standing still: at once
    # The decision standard's end escalates nothing more.
    clock.advance(minutes=11)
    for job in app.job_queue.jobs():
        if job.name == "deadline_job":
            await job.run(app)
    await idle(app, sim)
    assert len(said(sim, BACKUP, "Permintaan akses ruang server")) == 1
    assert said(sim, BACKUP, "Eskalasi") == []
    # The backup decides as usual.
    await backup.tap("Setujui", card)
    await sim.user(OFFICER).wait_for(predicate=lambda m: m.document_name is not None)
    (visit,) = await services.storage.visits.with_status(VisitStatus.APPROVED)
    assert visit.decided_by == BACKUP
