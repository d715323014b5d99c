"""A chat's messages about different visits do not wait for each other (issue 13).

The outbox keeps one chat's messages about one visit in order (a card before its edit, a
badge before its PDF), but a section head's card for the next request no longer waits
behind the last request's edit: when Telegram keeps refusing that edit, or is slow, the
new card still arrives. A 429 for a chat still holds every message to that chat until
its retry_after. Through the simulator and the real Application.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from bot.app import request
from bot.app.services import Services
from bot.texts import form as form_texts
from simulator import BotApiSimulator, Faults, SimUser
from storage.outbox import OutboxItem
from tests.conftest import APPROVER, APPROVER2, ESCORT, OFFICER
from tests.flows import NIK_MAN, Visitor, fill_in, register

NEXT = Visitor(name="Budi Santoso", nik=NIK_MAN)
HEADS = (APPROVER, APPROVER2)


def _decided(head: SimUser, name: str) -> bool:
    """The head's card of ``name`` shows the decision (its buttons are gone)."""
    return any(name in m.text_or_caption and not m.buttons for m in head.bot_messages)


def _card_of(head: SimUser, name: str) -> bool:
    return any(name in m.text_or_caption for m in head.bot_messages)


async def _approve_then_submit_next(sim: BotApiSimulator, faults: Faults) -> None:
    """The first request is approved while Telegram misbehaves on the cards' edits, then
    the next request (its form filled in beforehand) is submitted."""
    await register(sim)
    officer = sim.user(OFFICER)
    for head in HEADS:
        await sim.user(head).wait_for("Permintaan akses ruang server")
    moves = NEXT.script()
    await officer.send_text("/daftar")
    await officer.wait_for(moves[0].asked)
    summary = await fill_in(officer, moves)
    sim.faults = faults
    await sim.user(APPROVER).tap("Setujui")
    await officer.wait_for(predicate=lambda m: bool(m.photo_bytes))  # the badge
    await officer.tap(form_texts.BTN_SUBMIT, summary)
    await officer.wait_for("terkirim")


async def test_a_new_card_does_not_wait_behind_an_edit_telegram_keeps_refusing(
    sim: BotApiSimulator, app: Any
) -> None:
    # Every edit of a card fails with a 500: the decided cards' edits back off and retry.
    await _approve_then_submit_next(
        sim, Faults(rate=1.0, kinds={"500"}, methods={"editMessageCaption"})
    )
    for head in HEADS:
        await sim.user(head).wait_for(NEXT.name, timeout=10)
        # ... and it came while the first card still waits for its edit.
        assert not _decided(sim.user(head), "Ayu Lestari")
    sim.faults = Faults()
    await app.bot_data.delivery.wait_idle(timeout=30)
    await sim.settle()
    for head in HEADS:  # nothing was lost: the edits landed once Telegram took them
        assert _decided(sim.user(head), "Ayu Lestari")
        assert _card_of(sim.user(head), NEXT.name)


async def test_a_429_holds_the_chats_other_messages_until_its_retry_after(
    sim: BotApiSimulator, app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A short retry_after is waited out inside the request (bot/app/request.py); a long
    # one reaches the outbox. Here every wait is long, so the test needs no long sleep.
    monkeypatch.setattr(request, "MAX_INLINE_RETRY_AFTER", 0.5)
    # Every edit of a card gets "Too Many Requests: retry after 2": Telegram asks the bot
    # to leave those chats alone, so the next request's cards wait too, instead of
    # earning 429s of their own.
    await _approve_then_submit_next(
        sim, Faults(rate=1.0, kinds={"429"}, methods={"editMessageCaption"}, retry_after=2)
    )
    await asyncio.sleep(1.5)  # a card is sent in well under this when nothing holds it
    for head in HEADS:
        assert not _card_of(sim.user(head), NEXT.name)
    sim.faults = Faults()
    await app.bot_data.delivery.wait_idle(timeout=30)
    await sim.settle()
    for head in HEADS:
        assert _decided(sim.user(head), "Ayu Lestari")
        assert _card_of(sim.user(head), NEXT.name)


async def test_a_message_whose_transaction_rolls_back_is_never_sent(
    sim: BotApiSimulator, app: Any, services: Services
) -> None:
    """The worker reads only what is committed: a message queued in a transaction that is
    still open (and then rolls back, as on an error or a kill before COMMIT) is not sent,
    however the worker's passes fall; the next message, which may reuse the rolled-back
    row's id, goes out at once."""
    db, outbox = services.storage.database, services.storage.outbox
    await services.delivery.wait_idle()
    with pytest.raises(RuntimeError):
        async with db.transaction() as conn:
            await outbox.enqueue(
                conn,
                [OutboxItem("test:ghost", "text", OFFICER, payload={"text": "GHOST"})],
                services.now(),
            )
            for _ in range(3):  # the worker's passes while the transaction is open
                services.delivery.kick()
                await asyncio.sleep(0.1)
            raise RuntimeError("the transaction fails after queuing: rolled back")
    await outbox.queue(
        [OutboxItem("test:real", "text", ESCORT, payload={"text": "REAL"})], services.now()
    )
    services.delivery.kick()
    await sim.user(ESCORT).wait_for("REAL", timeout=3)
    await services.delivery.wait_idle()
    assert not any("GHOST" in m.text_or_caption for m in sim.user(OFFICER).bot_messages)
