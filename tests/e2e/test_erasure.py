"""Erasure and retention end a person's open requests: the badge of an erased visitor admits
nobody, and nothing about them waits in the outbox (issue 10, "Old pages keep secrets")."""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from typing import Any

import pytest

from bot.app.config import Config
from bot.app.services import Services
from bot.core import visits as lifecycle
from bot.core.visits import VisitStatus
from bot.flows import privacy
from simulator import BotApiSimulator, Faults
from storage.outbox import PENDING
from storage.privacy import ANONYMOUS
from storage.visits import BadgeHashes
from tests.conftest import APPROVER, APPROVER2, ESCORT, OFFICER, FakeClock
from tests.flows import NIK_WOMAN, Visitor, approve, register


def _outbox(config: Config, visit_id: int) -> list[tuple[str, str, str, bytes | None]]:
    with sqlite3.connect(f"file:{config.database_path}?mode=ro", uri=True) as raw:
        return raw.execute(
            "SELECT key, status, payload, blob FROM outbox WHERE visit_id = ?", (visit_id,)
        ).fetchall()


async def test_an_erased_visitors_badge_admits_nobody(
    sim: BotApiSimulator, app: object, services: Services, config: Config, clock: FakeClock
) -> None:
    await register(sim)
    await approve(sim)
    officer = sim.user(OFFICER)
    photo = next(m for m in officer.bot_messages if m.photo_bytes and "Kode manual" in m.caption)
    pdf = next(m for m in officer.bot_messages if m.document_name)
    code = photo.caption.rsplit(" ", 1)[1]
    (visit,) = await services.storage.visits.with_status(VisitStatus.APPROVED)
    waiting = await sim.user(ESCORT).wait_for("Pengunjung menunggu")
    assert Visitor().name in waiting.text

    done = await privacy.erase(services.storage, config, NIK_WOMAN, clock())
    services.delivery.kick()
    assert (done.visits_cancelled, done.visits_anonymized) == (1, 1)

    escort = sim.user(ESCORT)
    await escort.send_text(f"/kode {code}")
    await escort.wait_for("dibatalkan")
    assert not any("Catat MASUK" in str(m.buttons) for m in escort.bot_messages[-2:])
    # The officer's badge photo and PDF say they are void; the card shows the withdrawal.
    await officer.wait_for("BADGE TIDAK BERLAKU", predicate=lambda m: m is photo, since=0)
    await officer.wait_for("BADGE TIDAK BERLAKU", predicate=lambda m: m is pdf, since=0)
    card = await sim.user(APPROVER).wait_for("DIBATALKAN", since=0)
    assert Visitor().name not in card.caption and ANONYMOUS in card.caption
    assert "data pengunjung dihapus" in card.caption and "oleh -" not in card.caption
    # The escort's "a visitor waits" no longer names the visitor, nor sends anyone to fetch them.
    await escort.wait_for("Tidak perlu dijemput", predicate=lambda m: m is waiting, since=0)
    assert Visitor().name not in waiting.text and waiting.buttons == []
    stored = await services.storage.visits.get(visit.id)
    assert stored is not None and stored.status == VisitStatus.CANCELLED
    await services.delivery.wait_idle()
    assert all(payload == "" and blob is None for _, _, payload, blob in _outbox(config, visit.id))


async def test_erasing_a_pending_request_withdraws_it_and_its_undelivered_cards(
    sim: BotApiSimulator, app: object, services: Services, config: Config, clock: FakeClock
) -> None:
    approver2 = sim.user(APPROVER2)
    approver2.block()  # its card cannot be delivered: it waits, then fails for good
    await register(sim)
    card = await sim.user(APPROVER).wait_for("Permintaan akses ruang server")
    (visit,) = await services.storage.visits.with_status(VisitStatus.PENDING)
    await services.delivery.wait_idle()

    await privacy.erase(services.storage, config, NIK_WOMAN, clock())
    services.delivery.kick()
    await sim.user(APPROVER).wait_for("DIBATALKAN", predicate=lambda m: m is card, since=0)
    assert not card.buttons
    stored = await services.storage.visits.get(visit.id)
    assert stored is not None and stored.status == VisitStatus.CANCELLED
    await services.delivery.wait_idle()
    rows = _outbox(config, visit.id)
    assert rows and all(status != PENDING for _, status, _, _ in rows)
    assert all(payload == "" and blob is None for _, _, payload, blob in rows)


async def test_a_card_on_its_way_during_erasure_is_withdrawn_too(
    sim: BotApiSimulator, app: object, services: Services, config: Config, clock: FakeClock
) -> None:
    """A card the outbox was sending when the erasure ran (drawn before it, with the name and
    the buttons; recorded as delivered only after it) is still drawn again as withdrawn."""
    sim.faults = Faults(latency=4.0, methods={"sendPhoto"})  # the cards are slow to go
    await register(sim)
    # The card is in the section head's chat; the bot has not had Telegram's answer yet.
    card = await sim.user(APPROVER).wait_for("Permintaan akses ruang server", since=0)
    assert Visitor().name in card.caption and card.buttons
    (visit,) = await services.storage.visits.with_status(VisitStatus.PENDING)
    assert await services.storage.visits.cards(visit.id) == []

    await privacy.erase(services.storage, config, NIK_WOMAN, clock())
    sim.faults = Faults()
    services.delivery.kick()
    for approver in (APPROVER, APPROVER2):
        person = sim.user(approver)
        shown = await person.wait_for("Permintaan akses ruang server", since=0)
        await person.wait_for("DIBATALKAN", predicate=lambda m, s=shown: m is s, since=0)
        assert not shown.buttons
        assert Visitor().name not in shown.caption and ANONYMOUS in shown.caption
    stored = await services.storage.visits.get(visit.id)
    assert stored is not None and stored.status == VisitStatus.CANCELLED


async def test_a_visitor_inside_can_still_be_checked_out_after_erasure(
    sim: BotApiSimulator, app: object, services: Services, config: Config, clock: FakeClock
) -> None:
    """Erasure does not lock a person in the log: the exit is still recorded."""
    await register(sim)
    await approve(sim)
    officer = sim.user(OFFICER)
    photo = next(m for m in officer.bot_messages if m.photo_bytes and "Kode manual" in m.caption)
    code = photo.caption.rsplit(" ", 1)[1]
    escort = sim.user(ESCORT)
    await escort.send_text(f"/kode {code}")
    await escort.wait_for("Badge pengunjung")
    await escort.tap("Catat MASUK")
    await escort.wait_for("MASUK tercatat")

    done = await privacy.erase(services.storage, config, NIK_WOMAN, clock())
    assert (done.visits_cancelled, done.visits_anonymized) == (0, 1)
    await escort.send_text(f"/kode {code}")
    view = await escort.wait_for("Badge pengunjung")
    assert (
        view.buttons == [["✅ Perangkat sesuai", "⚠️ Ada selisih"]]
        and Visitor().name not in view.text
    )
    await escort.tap("Perangkat sesuai")
    await escort.wait_for("KELUAR tercatat")


async def test_an_approval_drawn_before_the_erasure_does_not_land_after_it(
    sim: BotApiSimulator, app: object, services: Services, config: Config, clock: FakeClock
) -> None:
    """Setujui read the request (and drew its badge, with the name) just before the erasure
    anonymized it: its write must lose, or that badge would be queued after the erasure."""
    await register(sim)
    await sim.user(APPROVER).wait_for("Permintaan akses ruang server")
    (before,) = await services.storage.visits.with_status(VisitStatus.PENDING)
    await privacy.erase(services.storage, config, NIK_WOMAN, clock())

    late = lifecycle.approve(before, APPROVER, clock(), clock() + timedelta(hours=1))
    assert await services.storage.visits.apply(late, badge=BadgeHashes("t", "c")) is None
    stored = await services.storage.visits.get(before.id)
    assert stored is not None and stored.status == VisitStatus.CANCELLED


async def test_a_decision_landing_during_the_withdrawal_is_withdrawn_too(
    sim: BotApiSimulator,
    app: object,
    services: Services,
    config: Config,
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A section head's Setujui commits between the erasure's read of the request and its
    withdrawal: the withdrawal reads it again and ends the approved request (its badge dies)."""
    await register(sim)
    await sim.user(APPROVER).wait_for("Permintaan akses ruang server")
    visits = services.storage.visits
    real_apply = visits.apply

    async def approved_meanwhile(change: Any, *args: Any, **kwargs: Any) -> Any:
        if (
            change.action == lifecycle.Action.CANCEL
            and change.before.status == VisitStatus.PENDING
        ):
            current = await visits.get(change.before.id)
            assert current is not None and current.status == VisitStatus.PENDING
            now = clock()
            approval = lifecycle.approve(current, APPROVER, now, now + timedelta(hours=1))
            assert await real_apply(approval, badge=BadgeHashes("t", "c")) is not None
        return await real_apply(change, *args, **kwargs)

    monkeypatch.setattr(visits, "apply", approved_meanwhile)
    done = await privacy.erase(services.storage, config, NIK_WOMAN, clock())
    assert done.visits_cancelled == 1
    (visit,) = await visits.with_status(VisitStatus.CANCELLED)
    assert visit.name == ANONYMOUS
    assert await visits.with_status(VisitStatus.APPROVED) == []
