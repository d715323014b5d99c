"""Time standards enforced: reminders, escalation, overstay alerts, the daily review, restarts.

Time moves with the FakeClock; the jobs are run by hand (the JobQueue's timers are real).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from bot.app.build import build_application, start_polling, stop_polling
from bot.app.config import Config, ConfigError, parse_config
from bot.core.roles import Role, StaffMember
from bot.core.visits import VisitStatus
from bot.flows import deadlines
from simulator import BotApiSimulator
from storage import audit
from tests.conftest import APPROVER, APPROVER2, ESCORT, KEY, OFFICER, FakeClock
from tests.flows import NIK_MAN, Visitor, approve, badge_link, register, scan

BACKUP = 2003


@pytest.fixture
def config(config: Config, sim: BotApiSimulator) -> Config:
    """The shared config plus a backup approver who gets requests only on escalation."""
    sim.add_user(BACKUP, "Joko")
    backup = StaffMember(BACKUP, "Joko Kabid", frozenset({Role.APPROVER}))
    return replace(config, staff=(*config.staff, backup), backup_approvers=(BACKUP,))


async def run_job(app: Any, name: str) -> None:
    (job,) = [j for j in app.job_queue.jobs() if j.name == name]
    await job.run(app)
    await app.bot_data.delivery.wait_idle()


def said(sim: BotApiSimulator, user_id: int, text: str) -> list[str]:
    return [m.text_or_caption for m in sim.user(user_id).bot_messages if text in m.text_or_caption]


async def test_reminder_before_the_decision_standard_reaches_both_approvers_once(
    sim: BotApiSimulator, app: Any, clock: FakeClock
) -> None:
    await register(sim)
    clock.advance(minutes=7, seconds=59)
    await run_job(app, "deadline_job")
    assert said(sim, APPROVER, "Pengingat") == []
    clock.advance(seconds=1)  # 8 minutes: 2 left of the 10-minute standard
    await run_job(app, "deadline_job")
    await run_job(app, "deadline_job")
    for approver in (APPROVER, APPROVER2):
        (reminder,) = said(sim, approver, "Pengingat")
        assert "Ayu Lestari" in reminder and "KRS-2026-" in reminder and "2 menit" in reminder
    assert sim.user(BACKUP).bot_messages == []  # backups wait for an escalation


async def test_missed_standard_escalates_to_the_backup_who_can_approve(
    sim: BotApiSimulator, app: Any, clock: FakeClock
) -> None:
    await register(sim)
    clock.advance(minutes=10)
    await run_job(app, "deadline_job")
    await run_job(app, "deadline_job")
    assert len(said(sim, BACKUP, "Eskalasi")) == 1
    assert len(said(sim, BACKUP, "Permintaan akses ruang server")) == 1
    (notice,) = said(sim, OFFICER, "dieskalasi")
    assert "Joko Kabid" in notice
    assert said(sim, APPROVER, "Pengingat") == []  # past the deadline: escalation, not a reminder
    await approve(sim, BACKUP)
    (visit,) = await app.bot_data.storage.visits.with_status(VisitStatus.APPROVED)
    assert visit.decided_by == BACKUP


async def test_overstay_alert_repeats_until_check_out(
    sim: BotApiSimulator, app: Any, clock: FakeClock
) -> None:
    await register(sim)  # planned for 30 minutes
    await approve(sim)
    link = badge_link(sim)
    escort = sim.user(ESCORT)
    await scan(sim, link)
    await escort.tap("Catat MASUK")
    await escort.wait_for("MASUK tercatat")
    clock.advance(minutes=30)
    await run_job(app, "deadline_job")
    assert said(sim, ESCORT, "Melebihi waktu") == []
    clock.advance(minutes=1)
    await run_job(app, "deadline_job")
    clock.advance(minutes=9)
    await run_job(app, "deadline_job")
    for person in (ESCORT, OFFICER):
        (alert,) = said(sim, person, "Melebihi waktu")
        assert "peringatan ke-1" in alert and "Ayu Lestari" in alert
    clock.advance(minutes=1)  # 10 minutes after the first alert
    await run_job(app, "deadline_job")
    assert len(said(sim, ESCORT, "Melebihi waktu")) == 2
    assert "peringatan ke-2" in said(sim, OFFICER, "Melebihi waktu")[-1]
    await scan(sim, link)
    await escort.tap("Perangkat sesuai")
    await escort.wait_for("KELUAR tercatat")
    clock.advance(minutes=30)
    await run_job(app, "deadline_job")
    assert len(said(sim, ESCORT, "Melebihi waktu")) == 2


async def test_daily_review_lists_yesterday_breaches_inside_and_pending(
    sim: BotApiSimulator, app: Any, clock: FakeClock, config: Config
) -> None:
    await register(sim)
    await approve(sim)
    await scan(sim, badge_link(sim))
    escort = sim.user(ESCORT)
    await escort.tap("Catat MASUK")
    await escort.wait_for("MASUK tercatat")
    await register(sim, Visitor(nik=NIK_MAN, name="Bagus Santoso", organisation="CV Data"))
    clock.now = datetime(2026, 11, 29, 0, 30, tzinfo=UTC)  # 07:30 WIB the next day
    storage = app.bot_data.storage
    head = await storage.audit.head()
    await run_job(app, "review_job")
    await run_job(app, "review_job")
    for approver in (APPROVER, APPROVER2, BACKUP):
        (review,) = said(sim, approver, "Tinjauan harian")
        assert "28-11-2026" in review and "Kunjungan kemarin: 2" in review
        assert "Ayu Lestari" in review and "Bagus Santoso" in review
        assert "Pelanggaran standar waktu: 2" in review  # a 22-hour visit, a 22-hour wait
        assert "&gt; 30 mnt" not in review and "> 30 mnt" in review and "> 10 mnt" in review
        assert "Masih di ruang server: 1" in review and "Menunggu keputusan: 1" in review
        assert head in review  # the audit chain's head leaves the database
    # ... and the log records that it did: the anchor proves everything up to that head.
    (anchor,) = [e for e in await storage.audit.events() if e.action == audit.ANCHOR]
    assert anchor.detail == f"head {head}" and anchor.prev_hash == head
    report = await audit.verify(config.database_path, config.audit_key, anchor=head)
    assert report.ok and report.anchor_at == anchor.id - 1


async def restart(app: Any, config: Config, clock: FakeClock) -> Any:
    await stop_polling(app)
    fresh = build_application(config, clock=clock, rate_limit=False)
    await start_polling(fresh, poll_timeout=1)
    return fresh


async def test_deadlines_and_the_review_survive_a_restart(
    sim: BotApiSimulator, config: Config, clock: FakeClock
) -> None:
    app = build_application(config, clock=clock, rate_limit=False)
    await start_polling(app, poll_timeout=1)
    try:
        await register(sim)
        await app.bot_data.storage.deadlines.record_review(date(2026, 11, 26), clock(), [])
        await stop_polling(app)
        clock.advance(minutes=8)  # the reminder fell due while the bot was down
        app = build_application(config, clock=clock, rate_limit=False)
        await start_polling(app, poll_timeout=1)
        reminder = await sim.user(APPROVER).wait_for("Pengingat", since=0)
        assert "Ayu Lestari" in reminder.text_or_caption
        # The last review was on the 26th: the 28th's (07:30, missed) is caught up at start.
        await sim.user(APPROVER).wait_for("Tinjauan harian", since=0)
        app = await restart(app, config, clock)
        await run_job(app, "deadline_job")
        assert not await deadlines.daily_review(app.bot_data, catch_up=True)
        for approver in (APPROVER, APPROVER2):
            assert len(said(sim, approver, "Pengingat")) == 1
            assert len(said(sim, approver, "Tinjauan harian")) == 1
    finally:
        await stop_polling(app)


BASE: dict[str, Any] = {
    "telegram": {"token": "123:abc"},
    "security": {
        "signing_secret": "x" * 40,
        "encryption_key": KEY.decode(),
        "audit_key": "a" * 40,
    },
    "staff": [
        {"id": 5, "name": "Budi", "roles": ["approver"]},
        {"id": 6, "name": "Joko", "roles": ["approver"]},
        {"id": 7, "name": "Sari", "roles": ["officer"]},
    ],
}


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"escalation": {"backup_approvers": [99]}}, "escalation.backup_approvers: 99 is not"),
        ({"escalation": {"backup_approvers": [7]}}, "needs the 'approver' role"),
        ({"escalation": {"backup_approvers": [5, 6]}}, "at least one approver"),
        ({"escalation": {"backup_approvers": "6"}}, "must be a list"),
        ({"reminders": {"before_minutes": 10}}, "reminders.before_minutes must be less"),
        ({"reminders": {"overstay_repeat_minutes": 0}}, "reminders.overstay_repeat_minutes"),
        ({"reports": {"daily_review_time": "7.30"}}, "reports.daily_review_time"),
        ({"reports": {"daily_review_time": "25:00"}}, "reports.daily_review_time"),
    ],
)
def test_bad_enforcement_settings_name_their_key(
    tmp_path: Path, extra: dict[str, Any], message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_config({**BASE, **extra}, {}, base_dir=tmp_path)


def test_enforcement_settings_parse(tmp_path: Path) -> None:
    raw = {
        **BASE,
        "escalation": {"backup_approvers": [6]},
        "reminders": {"before_minutes": 3, "overstay_repeat_minutes": 5},
        "reports": {"daily_review_time": "06:45"},
    }
    config = parse_config(raw, {}, base_dir=tmp_path)
    assert config.backup_approvers == (6,)
    assert (config.reminders.before_minutes, config.reminders.overstay_repeat_minutes) == (3, 5)
    assert config.daily_review_time.strftime("%H:%M") == "06:45"
