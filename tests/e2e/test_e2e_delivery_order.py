"""Messages someone waits for are not held up behind the escorts' notices (issue 13).

Every approval tells every escort that a visitor waits (one message each). The outbox
sends a few chats at a time; in an office with many escorts, the next request's cards to
the section heads would otherwise wait behind the notices of the approval before it.
Through the simulator and the real Application, with Telegram slow to answer.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from bot.app.config import Config
from bot.core.roles import Role, StaffMember
from bot.flows.delivery import PARALLEL_CHATS, PER_CHAT
from bot.texts import form as form_texts
from simulator import BotApiSimulator, Faults
from storage.outbox import OutboxItem
from tests.conftest import APPROVER, APPROVER2, OFFICER
from tests.flows import NIK_MAN, Visitor, fill_in, register

ESCORTS = [5000 + i for i in range(3 * PARALLEL_CHATS)]


@pytest.fixture
def config(config: Config, sim: BotApiSimulator) -> Config:
    """The shared config and many escorts, every one of whom opened the bot."""
    extra = []
    for user_id in ESCORTS:
        sim.add_user(user_id, f"Pendamping {user_id}")
        extra.append(StaffMember(user_id, f"Pendamping {user_id}", frozenset({Role.ESCORT})))
    return replace(config, staff=(*config.staff, *extra))


async def test_the_next_request_reaches_the_section_heads_before_the_escorts_notices(
    sim: BotApiSimulator, app: Any
) -> None:
    await register(sim)
    officer = sim.user(OFFICER)
    await sim.user(APPROVER).wait_for("Permintaan akses ruang server")
    # The next visitor's form, filled in up to its summary.
    moves = Visitor(name="Budi Santoso", nik=NIK_MAN).script()
    await officer.send_text("/daftar")
    await officer.wait_for(moves[0].asked)
    summary = await fill_in(officer, moves, 10.0)
    # Telegram slow to answer; the approval queues a notice to each of the many escorts,
    # then the officer sends the next request.
    sim.faults = Faults(latency=0.3, methods={"sendMessage", "sendPhoto", "sendDocument"})
    await sim.user(APPROVER).tap("Setujui")
    await officer.wait_for(predicate=lambda m: bool(m.photo_bytes), timeout=10)  # the badge
    await officer.tap(form_texts.BTN_SUBMIT, summary)
    for head in (APPROVER, APPROVER2):
        await sim.user(head).wait_for("Budi Santoso", timeout=20)
    told = [e for e in ESCORTS if sim.user(e).bot_messages]
    # The cards went out while escorts were still waiting for their notice.
    assert len(told) < len(ESCORTS), "the cards waited for every escort's notice"
    sim.faults = Faults()
    await app.bot_data.delivery.wait_idle(timeout=30)
    await sim.settle()
    assert all(sim.user(e).bot_messages for e in ESCORTS)  # and everyone was told in the end


async def test_a_message_someone_waits_for_goes_before_notices_queued_earlier(
    sim: BotApiSimulator, app: Any
) -> None:
    """A busy section head's chat: exit summaries of earlier visits (each its own lane) are
    waiting, and a message someone needs (here a stand-in for a card) is queued after them.
    It goes in the first round of sends; the notices follow."""
    services = app.bot_data
    head = sim.user(APPROVER)
    sim.faults = Faults(latency=0.4, methods={"sendMessage"})
    notices = [
        OutboxItem(
            f"exit_summary:{visit}:{APPROVER}", "text", APPROVER, visit, {"text": f"N{visit}"}
        )
        for visit in range(9001, 9001 + 3 * PER_CHAT)
    ]
    urgent = OutboxItem(
        f"card_stand_in:9100:{APPROVER}", "text", APPROVER, 9100, {"text": "URGENT"}
    )
    await services.storage.outbox.queue([*notices, urgent], services.now())
    services.delivery.kick()
    await head.wait_for("URGENT", timeout=10)
    arrived = [m.text_or_caption for m in head.bot_messages]
    assert len([t for t in arrived if t.startswith("N")]) < PER_CHAT  # the first round only
    await services.delivery.wait_idle(timeout=20)
    await sim.settle()
    assert {f"N{v}" for v in range(9001, 9001 + 3 * PER_CHAT)} <= {
        m.text_or_caption for m in head.bot_messages
    }
