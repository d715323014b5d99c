"""Nothing lost on a restart: a half-filled form, a pending deny reason, undelivered messages."""

from __future__ import annotations

import asyncio

from telegram.ext import Application

from bot.app.build import build_application, start_polling, stop_polling
from bot.app.config import Config
from bot.core.form import FORM
from bot.core.visits import VisitStatus
from bot.texts import form as form_texts
from handlers.registration import FILLING
from simulator import BotApiSimulator, Faults
from tests.conftest import APPROVER, OFFICER, FakeClock
from tests.flows import NIK_WOMAN, Visitor, at, fill_in, register


async def restart(app: object, config: Config, clock: FakeClock) -> object:
    await stop_polling(app)  # type: ignore[arg-type]
    fresh = build_application(config, clock=clock, rate_limit=False, retry_base=0.05)
    await start_polling(fresh, poll_timeout=1)
    return fresh


# Every answer typed, none tapped: nothing depends on a button from before the restart.
TYPED = Visitor(
    organisation="PT A",
    phone="081234567890",
    purpose="Ganti UPS",
    duration="30",
    equipment="Laptop",
).script()
NAME = at(TYPED, "name")


async def to_name_step(sim: BotApiSimulator, config: Config, clock: FakeClock) -> Application:  # type: ignore[type-arg]
    """A bot running, and an officer's form open at the name (KTP photo and NIK given)."""
    app = build_application(config, clock=clock, rate_limit=False)
    await start_polling(app, poll_timeout=1)
    officer = sim.user(OFFICER)
    await officer.send_text("/daftar")
    await officer.wait_for(TYPED[0].asked)
    await fill_in(officer, TYPED[:NAME])
    return app


async def test_half_filled_form_survives_a_restart(
    sim: BotApiSimulator, config: Config, clock: FakeClock
) -> None:
    app = await to_name_step(sim, config, clock)
    officer = sim.user(OFFICER)
    raw = (
        config.database_path.read_bytes()
        + config.database_path.with_name(config.database_path.name + "-wal").read_bytes()
    )
    assert NIK_WOMAN.encode() not in raw  # the draft is stored encrypted
    # Saved at the step's name, so a version that adds a field resumes it all the same.
    await assert_saved(app, "name", FILLING)

    app = await restart(app, config, clock)
    try:
        await officer.wait_for("dimulai ulang", since=0)
        await officer.wait_for("nama lengkap")
        summary = await fill_in(officer, TYPED[NAME:])
        await officer.tap("Kirim ke Kepala Seksi", summary)
        await officer.wait_for("terkirim")
        (visit,) = await app.bot_data.storage.visits.with_status(VisitStatus.PENDING)  # type: ignore[attr-defined]
        assert visit.nik == NIK_WOMAN and visit.name == "Ayu Lestari"
        assert (visit.purpose, visit.duration_minutes) == ("Ganti UPS", 30)
    finally:
        await stop_polling(app)  # type: ignore[arg-type]


async def saved_steps(app: Application) -> tuple[object, set[object]]:  # type: ignore[type-arg]
    """The officer's draft's step and the registration conversation's states, as saved."""
    assert app.persistence is not None
    draft = (await app.persistence.get_user_data())[OFFICER]["draft"]
    states = await app.persistence.get_conversations("registration")
    return draft["step"], set(states.values())


async def assert_saved(app: Application, step: object, state: object) -> None:  # type: ignore[type-arg]
    """The form is saved at ``step`` once the update's handling is over (which follows the
    bot's answer by a moment)."""
    for _ in range(100):
        if await saved_steps(app) == (step, {state}):
            return
        await asyncio.sleep(0.05)
    assert await saved_steps(app) == (step, {state})


async def test_a_form_saved_with_a_numbered_step_resumes(
    sim: BotApiSimulator, config: Config, clock: FakeClock
) -> None:
    await stop_polling(await to_name_step(sim, config, clock))
    officer = sim.user(OFFICER)

    # As the code before bot/core/form.py saved it: the step and the conversation's state
    # numbered (2: the name), the KTP photo's file id under "ktp_file_id".
    app = build_application(config, clock=clock, rate_limit=False, retry_base=0.05)
    assert app.persistence is not None
    user_data = (await app.persistence.get_user_data())[OFFICER]
    draft = user_data["draft"]
    ktp_file_id = draft.pop("ktp")
    draft.update(step=2, ktp_file_id=ktp_file_id)
    await app.persistence.update_user_data(OFFICER, user_data)
    for key in await app.persistence.get_conversations("registration"):
        await app.persistence.update_conversation("registration", key, 2)
    await app.persistence.commit((), clock())  # type: ignore[attr-defined]  # SqlitePersistence's
    assert await saved_steps(app) == (2, {2})

    await start_polling(app, poll_timeout=1)
    try:
        await officer.wait_for("dimulai ulang", since=0)
        await officer.wait_for(TYPED[NAME].asked)
        summary = await fill_in(officer, TYPED[NAME:])
        await assert_saved(app, "confirm", FILLING)
        await officer.tap(form_texts.BTN_SUBMIT, summary)
        await officer.wait_for("terkirim")
        (visit,) = await app.bot_data.storage.visits.with_status(VisitStatus.PENDING)  # type: ignore[attr-defined]
        assert (visit.nik, visit.name) == (NIK_WOMAN, "Ayu Lestari")
        assert visit.ktp_file_id == ktp_file_id
    finally:
        await stop_polling(app)


async def test_a_form_saved_before_the_letter_was_asked_resumes_past_it(
    sim: BotApiSimulator, config: Config, clock: FakeClock
) -> None:
    """A draft from the version before the assignment letter, saved at the purpose (later
    than the letter's place): it resumes there, and the visit has no letter."""
    await stop_polling(await to_name_step(sim, config, clock))
    officer = sim.user(OFFICER)
    app = build_application(config, clock=clock, rate_limit=False, retry_base=0.05)
    assert app.persistence is not None
    user_data = (await app.persistence.get_user_data())[OFFICER]
    draft = user_data["draft"]
    for move in TYPED[NAME : at(TYPED, "purpose")]:
        if move.field != "assignment_letter":
            field = FORM.get(move.field)
            assert field is not None
            draft[move.field] = field.read(move.text, clock.now.date())
    draft["step"] = "purpose"
    assert "assignment_letter" not in draft
    await app.persistence.update_user_data(OFFICER, user_data)
    await app.persistence.commit((), clock())  # type: ignore[attr-defined]  # SqlitePersistence's

    await start_polling(app, poll_timeout=1)
    try:
        await officer.wait_for("dimulai ulang", since=0)
        await officer.wait_for(TYPED[at(TYPED, "purpose")].asked)
        summary = await fill_in(officer, TYPED[at(TYPED, "purpose") :])
        assert "No. Surat Tugas: -" in summary.text_or_caption
        await officer.tap(form_texts.BTN_SUBMIT, summary)
        await officer.wait_for("terkirim")
        (visit,) = await app.bot_data.storage.visits.with_status(VisitStatus.PENDING)  # type: ignore[attr-defined]
        assert (visit.organisation, visit.phone, visit.purpose) == (
            "PT A",
            "081234567890",
            "Ganti UPS",
        )
        assert visit.assignment_letter == ""
    finally:
        await stop_polling(app)


async def test_deny_reason_and_undelivered_messages_survive_a_restart(
    sim: BotApiSimulator, config: Config, clock: FakeClock
) -> None:
    app = build_application(config, clock=clock, rate_limit=False, retry_base=0.05)
    await start_polling(app, poll_timeout=1)
    await register(sim)
    approver = sim.user(APPROVER)
    await approver.wait_for("Permintaan akses")
    await approver.tap("Tolak")
    await approver.wait_for("alasan penolakan")
    app = await restart(app, config, clock)
    try:
        # Telegram is down for the officer: the decision is taken, the notice waits.
        sim.faults = Faults(rate=1.0, kinds={"502"}, methods={"sendMessage"})
        await approver.send_text("Tidak ada jadwal")
        await sim.settle()
        visit = (await app.bot_data.storage.visits.with_status(VisitStatus.DENIED))[0]  # type: ignore[attr-defined]
        assert visit.deny_reason == "Tidak ada jadwal"
        app = await restart(app, config, clock)
        sim.faults = Faults()
        notice = await sim.user(OFFICER).wait_for("ditolak", since=0)
        assert "Tidak ada jadwal" in notice.text_or_caption
    finally:
        sim.faults = Faults()
        await stop_polling(app)  # type: ignore[arg-type]


async def test_the_outbox_worker_stops_when_cancelled_as_it_is_woken(
    sim: BotApiSimulator, config: Config, clock: FakeClock
) -> None:
    """A kick() and the stop in the same moment: the worker still stops (Python 3.11's
    wait_for swallowed that cancellation and a restart hung for ever)."""
    app = build_application(config, clock=clock, rate_limit=False)
    await start_polling(app, poll_timeout=1)
    try:
        services = app.bot_data
        await services.delivery.wait_idle()
        task = services.delivery_task
        services.delivery.kick()
        task.cancel()
        done, _ = await asyncio.wait({task}, timeout=5)
        assert task in done
    finally:
        await stop_polling(app)


async def test_a_card_on_the_wire_when_the_bot_stops_is_sent_once(
    sim: BotApiSimulator, config: Config, clock: FakeClock
) -> None:
    """Stopping lets a send in flight finish and be recorded, so the restarted bot does not
    send the section head the same card again."""
    app = build_application(config, clock=clock, rate_limit=False, retry_base=0.05)
    await start_polling(app, poll_timeout=1)
    sim.faults = Faults(latency=2.0, methods={"sendPhoto"})  # the card is slow to go
    try:
        await register(sim)
        app = await restart(app, config, clock)  # stops while the card is on the wire
        sim.faults = Faults()
        await app.bot_data.delivery.wait_idle()  # type: ignore[attr-defined]
        await sim.settle()
        cards = [
            m
            for m in sim.user(APPROVER).bot_messages
            if "Permintaan akses ruang server" in m.text_or_caption
        ]
        assert len(cards) == 1
    finally:
        sim.faults = Faults()
        await stop_polling(app)  # type: ignore[arg-type]
