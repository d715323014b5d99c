"""A deleted KTP photo leaves the chats too: the section heads' approval cards and the
escorts' scan views that showed it are redrawn, the photo replaced by a placeholder, when
its retention ends or the person's data is erased; an anonymized visit's name goes the same
way (UU 27/2022: personal data deleted on schedule, not only in the database)."""

from __future__ import annotations

import asyncio
from collections import Counter

from bot.app.config import Config
from bot.app.services import Services
from bot.core.placeholder import ktp_placeholder_png
from bot.core.visits import VisitStatus
from bot.flows import privacy
from bot.texts import door as door_texts
from simulator import BotApiSimulator, Faults
from simulator.message import SimMessage
from storage.privacy import ANONYMOUS
from tests.conftest import APPROVER, APPROVER2, ESCORT, OFFICER, FakeClock
from tests.e2e.test_e2e_calls import approve_enter_exit
from tests.e2e.test_e2e_planned import approve_ahead, plan
from tests.e2e.test_retention import stop_sweep
from tests.flows import NIK_WOMAN, Visitor, approve, badge_link, register, scan

NAME = Visitor().name


def ktp_messages(sim: BotApiSimulator) -> list[SimMessage]:
    """Every message the bot sent that showed the visitor's KTP photo: the two section
    heads' cards, and the escort's scan views."""
    cards = [
        m
        for person in (APPROVER, APPROVER2)
        for m in sim.user(person).bot_messages
        if m.photo_bytes and "Permintaan akses" in m.text_or_caption
    ]
    views = [m for m in sim.user(ESCORT).bot_messages if m.photo_bytes]
    return cards + views


async def visit_in_and_out(sim: BotApiSimulator, clock: FakeClock) -> list[SimMessage]:
    """Registered, approved, in and out; returns the messages that show the KTP photo."""
    await register(sim)
    await approve_enter_exit(sim, clock)
    shown = ktp_messages(sim)
    assert len(shown) == 4, [m.text_or_caption[:40] for m in shown]  # 2 cards, 2 scans
    return shown


def media_edits(sim: BotApiSimulator) -> int:
    return Counter(sim.call_counts)["editMessageMedia"]


async def redrawn(sim: BotApiSimulator, services: Services) -> None:
    services.delivery.kick()
    await services.delivery.wait_idle()
    await sim.settle()


async def test_the_photo_leaves_cards_and_scan_views_when_its_retention_ends(
    sim: BotApiSimulator, app: object, services: Services, config: Config, clock: FakeClock
) -> None:
    stop_sweep(app, "_expiry_sweep")
    shown = await visit_in_and_out(sim, clock)
    ktp = shown[0].photo_bytes
    assert all(m.photo_bytes == ktp for m in shown)
    before = media_edits(sim)

    clock.advance(days=29)
    await privacy.purge(services.storage, config, clock())
    await redrawn(sim, services)
    assert media_edits(sim) == before  # the photo's 30 days are not over: nothing changes

    clock.advance(days=2)
    done = await privacy.purge(services.storage, config, clock())
    assert done.ktp_deleted == 1
    await redrawn(sim, services)
    placeholder = ktp_placeholder_png()
    for message in shown:
        assert message.photo_bytes == placeholder, message.text_or_caption[:60]
        assert message.buttons == [] and message.edit_count >= 1
        assert NAME in message.caption  # the record is kept a year; only the photo went
    cards, views = shown[:2], shown[2:]
    assert all("DISETUJUI oleh Budi Kasi" in m.caption for m in cards)
    assert all(door_texts.KTP_PURGED in m.caption for m in views)
    # One upload, then Telegram's file id: the placeholder is sent once per process.
    assert len({m.photo[-1].file_id for m in shown if m.photo}) == 1
    assert media_edits(sim) == before + 4

    clock.advance(days=335)  # a year: the record is anonymized, the name leaves as well
    done = await privacy.purge(services.storage, config, clock())
    assert done.visits_anonymized == 1
    await redrawn(sim, services)
    for message in shown:
        assert NAME not in message.caption and ANONYMOUS in message.caption
        assert message.photo_bytes == placeholder
    assert media_edits(sim) == before + 8
    # Nothing more to redraw: the next year's purge sends nothing.
    clock.advance(days=1)
    await privacy.purge(services.storage, config, clock())
    await redrawn(sim, services)
    assert media_edits(sim) == before + 8


async def test_an_erasure_redraws_a_finished_visits_messages_at_once(
    sim: BotApiSimulator, app: object, services: Services, config: Config, clock: FakeClock
) -> None:
    shown = await visit_in_and_out(sim, clock)
    # The escort deleted one scan view: its redraw is refused ("message to edit not
    # found"), given up without a notice to anyone, and the others still go.
    gone = shown[-1]
    gone.deleted = True
    told = {p: len(sim.user(p).bot_messages) for p in (OFFICER, APPROVER, APPROVER2, ESCORT)}

    done = await privacy.erase(services.storage, config, NIK_WOMAN, clock())
    assert (done.ktp_deleted, done.visits_anonymized) == (1, 1)
    await redrawn(sim, services)
    for message in shown[:-1]:
        assert message.photo_bytes == ktp_placeholder_png()
        assert NAME not in message.caption and ANONYMOUS in message.caption
    assert gone.photo_bytes != ktp_placeholder_png()
    assert {p: len(sim.user(p).bot_messages) for p in told} == told  # nobody was told
    counts = await services.storage.outbox.counts()
    assert counts.get("pending", 0) == 0 and counts.get("failed", 0) == 1


async def test_a_scan_view_sent_as_the_photo_is_deleted_is_redrawn_too(
    sim: BotApiSimulator, app: object, services: Services, config: Config, clock: FakeClock
) -> None:
    """The escort's scan read the visit a moment before the purge and its photo went out a
    moment after: recording that view finds the photo gone and redraws it at once."""
    stop_sweep(app, "_expiry_sweep")
    await register(sim)
    await approve(sim)
    await scan(sim, badge_link(sim))
    view = sim.user(ESCORT).bot_messages[-1]
    assert view.photo_bytes is not None
    (visit,) = await services.storage.visits.with_status(VisitStatus.APPROVED)
    clock.advance(days=31)
    await privacy.purge(services.storage, config, clock())
    await redrawn(sim, services)
    assert view.photo_bytes == ktp_placeholder_png()
    # The late view: the scan's sendPhoto with the file id it read before the purge.
    late = await app.bot.send_photo(ESCORT, visit.ktp_file_id, caption="Badge pengunjung")  # type: ignore[attr-defined]
    await services.storage.privacy.ktp_shown(visit.id, ESCORT, late.message_id, clock())
    await redrawn(sim, services)
    stored = sim.user(ESCORT).bot_messages[-1]
    assert stored.message_id == late.message_id
    assert stored.photo_bytes == ktp_placeholder_png() and door_texts.KTP_PURGED in stored.caption


async def test_a_planned_visits_text_card_loses_the_name_at_an_erasure(
    sim: BotApiSimulator, app: object, services: Services, config: Config, clock: FakeClock
) -> None:
    """A visit planned ahead is decided before its KTP photo exists: its card is a text, so
    the erasure's redraw edits the words alone, and nothing fails."""
    await plan(sim)
    await approve_ahead(sim)
    (card,) = [m for m in sim.user(APPROVER).bot_messages if "TERJADWAL" in m.text_or_caption]
    assert card.photo_bytes is None and NAME in card.text
    await privacy.erase(services.storage, config, NIK_WOMAN, clock())
    await redrawn(sim, services)
    assert NAME not in card.text and ANONYMOUS in card.text and card.buttons == []
    assert card.photo_bytes is None
    counts = await services.storage.outbox.counts()
    assert counts.get("pending", 0) == 0 and counts.get("failed", 0) == 0


async def test_a_card_on_the_wire_during_an_erasure_is_redrawn_once_delivered(
    sim: BotApiSimulator, app: object, services: Services, config: Config, clock: FakeClock
) -> None:
    """The erasure runs while the section heads' cards are being sent (Telegram slow): it
    finds no record of them, but each card, recorded as it is delivered, is redrawn then."""
    sent_photos = sim.call_counts["sendPhoto"]
    sim.faults = Faults(latency=2.0, methods={"sendPhoto"})
    try:
        registering = asyncio.create_task(register(sim))
        async with asyncio.timeout(20):  # both cards are on the wire
            while sim.call_counts["sendPhoto"] < sent_photos + 2:
                await sim.changed(0.05)
        await privacy.erase(services.storage, config, NIK_WOMAN, clock())
    finally:
        sim.faults = Faults()
    await registering
    await redrawn(sim, services)
    for person in (APPROVER, APPROVER2):
        (card,) = [m for m in sim.user(person).bot_messages if m.photo_bytes]
        assert card.photo_bytes == ktp_placeholder_png(), person
        assert NAME not in card.caption and card.buttons == []


async def test_a_card_too_long_for_a_caption_is_still_redrawn(
    sim: BotApiSimulator, app: object, services: Services, config: Config, clock: FakeClock
) -> None:
    """Every field at its longest and a long deny reason: drawn in full, the caption would
    pass Telegram's 1024 characters and the edit be refused, leaving the photo. The free
    text is shortened instead ("…")."""
    stop_sweep(app, "_expiry_sweep")
    longest = Visitor(
        name="Raden Ajeng " + "N" * 88,
        organisation="O" * 120,
        assignment_letter="L" * 60,
        purpose="p" * 150,
        equipment="E" * 200,
    )
    await register(sim, longest)
    head = sim.user(APPROVER)
    await head.tap("Tolak", await head.wait_for("Permintaan akses ruang server"))
    await head.wait_for("alasan penolakan")
    await head.send_text("Alasan yang panjang. " * 14)
    await sim.user(OFFICER).wait_for("ditolak")
    clock.advance(days=31)
    await privacy.purge(services.storage, config, clock())
    await redrawn(sim, services)
    for person in (APPROVER, APPROVER2):
        (card,) = [m for m in sim.user(person).bot_messages if m.photo_bytes]
        assert card.photo_bytes == ktp_placeholder_png(), person
        assert "DITOLAK" in card.caption and "…" in card.caption and card.buttons == []
        assert len(card.caption) <= 1024
    counts = await services.storage.outbox.counts()
    assert counts.get("failed", 0) == 0
