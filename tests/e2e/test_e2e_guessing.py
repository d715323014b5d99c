"""Manual codes guessed across accounts, and the forged-badge alert anyone can set off."""

from __future__ import annotations

from bot.app.services import Services
from bot.core.tokens import CODE_ATTEMPTS_ALL, FORGED_ALERT_CAP
from simulator import BotApiSimulator
from tests.conftest import ADMIN, APPROVER, APPROVER2, ESCORT, OFFICER, FakeClock
from tests.dbstate import watch
from tests.flows import approve, register

WRONG = [f"{c}{c}{c}{c}-{c}{c}{c}{c}" for c in "ABCDEFGHJK"]


async def _actions(services: Services, action: str) -> list[str]:
    return [e.detail for e in await services.storage.audit.events() if e.action == action]


async def _wrong_codes(sim: BotApiSimulator, person: int, count: int) -> None:
    user = sim.user(person)
    for guess in WRONG[:count]:
        await user.send_text(f"/kode {guess}")
        await user.wait_for("tidak dikenal")


async def test_codes_guessed_from_several_accounts_alert_and_then_close_kode(
    sim: BotApiSimulator, app: object, services: Services, clock: FakeClock
) -> None:
    await register(sim)
    await approve(sim)
    badge = next(m for m in sim.user(OFFICER).bot_messages if "Kode manual" in (m.caption or ""))
    good = badge.caption.rsplit(" ", 1)[1]
    db = await watch(app, sim)
    # Five each is every person's own limit; the sum across accounts is what is capped.
    await _wrong_codes(sim, ESCORT, 5)
    assert await _actions(services, "code_guessing_alert") == []  # one account: its own limit
    await _wrong_codes(sim, OFFICER, 3)
    for approver in (APPROVER, APPROVER2):
        alert = await sim.user(approver).wait_for("Kode manual ditebak?")
        assert "8 kode salah dari 2 akun" in alert.text_or_caption
    await _wrong_codes(sim, OFFICER, 2)
    await _wrong_codes(sim, ADMIN, 5)
    await _wrong_codes(sim, APPROVER, 5)
    assert len(await _actions(services, "badge_unknown")) == CODE_ATTEMPTS_ALL
    # Now even the right code, from someone who typed none wrong, waits: /kode is closed.
    rina = sim.user(APPROVER2)
    await rina.send_text(f"/kode {good}")
    await rina.wait_for("ditutup sementara untuk semua akun")
    assert not any("Badge pengunjung" in m.text_or_caption for m in rina.bot_messages)
    await db.unchanged(
        new_audit=["badge_unknown"] * CODE_ATTEMPTS_ALL + ["code_guessing_alert"],
        new_outbox=["code_guessing"] * 2,
    )
    clock.advance(minutes=11)
    await rina.send_text(f"/kode {good}")
    await rina.wait_for("Badge pengunjung")


async def test_forged_badge_alerts_are_rate_limited_and_summarise_the_rest(
    sim: BotApiSimulator, app: object, services: Services, clock: FakeClock
) -> None:
    head = sim.user(APPROVER)

    async def junk(person: int) -> None:
        user = sim.user(person)
        await user.send_text("/start bukan-badge")
        await user.wait_for("tidak dikenal atau palsu")

    for _ in range(3):
        await junk(ESCORT)  # one alert, not three
    await head.wait_for("dipindai oleh Dewi")
    await junk(ADMIN)  # someone else: an alert of its own, counting the two unannounced
    alert = await head.wait_for("dipindai oleh Admin")
    assert "ada 2 pindaian badge tidak dikenal lain" in alert.text_or_caption
    assert await _actions(services, "forged_alert") == ["unannounced:0", "unannounced:2"]
    assert len(await _actions(services, "badge_unknown")) == 4  # every scan is audited
    # The cap across everyone: FORGED_ALERT_CAP an hour, whoever scans.
    for person in (OFFICER, APPROVER2, APPROVER):
        await junk(person)
    clock.advance(minutes=11)
    await junk(ESCORT)
    assert len(await _actions(services, "forged_alert")) == FORGED_ALERT_CAP
    db = await watch(app, sim)
    clock.advance(minutes=11)
    await junk(OFFICER)  # past the person's gap, but the hour's alerts are spent
    await db.unchanged(new_audit=["badge_unknown"])
    clock.advance(hours=1)
    await junk(OFFICER)
    await head.wait_for("ada 1 pindaian badge tidak dikenal lain")
