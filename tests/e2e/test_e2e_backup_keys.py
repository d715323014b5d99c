"""Backups and keys with the real bot: a backup taken while 20 visits run restores into a
new folder the bot runs on; the daily backup keeps its count; badges survive a change of
the signing secret, and returning visitors are still recognised."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import stat
import sys
from dataclasses import replace
from datetime import time
from pathlib import Path

from bot.app.build import build_application, start_polling, stop_polling
from bot.app.config import Backup, Config
from bot.app.services import Services
from simulator import BotApiSimulator, SimMessage
from storage import audit
from tests.conftest import APPROVER, ESCORT, OFFICER, STAFF, FakeClock
from tests.flows import NIK_WOMAN, Visitor, approve, badge_link, register, scan

ROOT = Path(__file__).resolve().parents[2]
VISITS = 20


def write_toml(config: Config, path: Path) -> Path:
    """The config as an admin's config.toml, for the commands run from a shell."""
    staff = "".join(
        f'[[staff]]\nid = {m.user_id}\nname = "{m.name}"\n'
        f"roles = {json.dumps(sorted(r.value for r in m.roles))}\n"  # a JSON list is TOML
        for m in STAFF
    )
    path.write_text(
        f'[telegram]\ntoken = "{config.token}"\nbase_url = "{config.base_url}"\n'
        f'[security]\nsigning_secret = "{config.signing_secret.decode()}"\n'
        f'encryption_key = "{config.encryption_key.decode()}"\n'
        f'audit_key = "{config.audit_key.decode()}"\n'
        f'[storage]\ndata_dir = "{config.data_dir}"\n[backup]\nfolder = ""\n{staff}',
        encoding="utf-8",
    )
    path.chmod(0o600)
    return path


async def command(*args: str) -> tuple[int, str, str]:
    """``python -m bot ...`` in its own process, while this event loop keeps the bot going."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *args,
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 120)
    return proc.returncode or 0, out.decode(), err.decode()


def counts(path: Path) -> tuple[int, int, int]:
    raw = sqlite3.connect(path)
    try:
        return tuple(  # type: ignore[return-value]
            raw.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
            for table in ("visits", "badges", "audit_events")
        )
    finally:
        raw.close()


async def test_backup_while_20_visits_run_then_restore_and_run_on_it(
    sim: BotApiSimulator, config: Config, clock: FakeClock, app: object, tmp_path: Path
) -> None:
    live = write_toml(config, tmp_path / "live.toml")

    async def visits() -> None:
        approver = sim.user(APPROVER)
        for _ in range(VISITS):
            await register(sim, timeout=30)
            card = await approver.wait_for(
                "Permintaan akses ruang server",
                predicate=lambda m: any("Setujui" in b for row in m.buttons for b in row),
                timeout=30,
            )
            await approver.tap("Setujui", card)
            await sim.user(OFFICER).wait_for(
                predicate=lambda m: m.document_name is not None, timeout=30
            )

    running = asyncio.create_task(visits())
    during: list[Path] = []
    while not running.done():
        out = tmp_path / f"during-{len(during)}.backup"
        status, stdout, stderr = await command("backup", "--config", str(live), "--out", str(out))
        assert status == 0, stderr
        assert stat.S_IMODE(out.stat().st_mode) == 0o600 and "verified" in stdout
        during.append(out)
    await running
    assert len(during) >= 2  # backups really overlapped the visits

    # A backup taken mid-run restores to exactly what its manifest recorded.
    first = config.data_dir.parent / "restored-during"
    status, stdout, stderr = await command(
        "restore",
        "--config",
        str(write_toml(replace(config, data_dir=first), tmp_path / "d.toml")),
        str(during[0]),
    )
    assert status == 0, stderr
    assert 0 <= counts(first / "akses.sqlite3")[0] <= VISITS

    # The final backup, restored into a new folder, matches the live database.
    final = tmp_path / "final.backup"
    status, stdout, stderr = await command("backup", "--config", str(live), "--out", str(final))
    assert status == 0, stderr
    restored = replace(config, data_dir=config.data_dir.parent / "restored")
    status, stdout, stderr = await command(
        "restore", "--config", str(write_toml(restored, tmp_path / "r.toml")), str(final)
    )
    assert status == 0, stderr
    # The live database has one event more: the backup's own backup_done, recorded once
    # the snapshot was verified, chained right onto the head the backup holds.
    visits, badges, events = counts(config.database_path)
    assert counts(restored.database_path) == (visits, badges, events - 1)
    assert counts(restored.database_path)[0] == VISITS
    live_chain = await audit.verify(config.database_path, config.audit_key)
    restored_chain = await audit.verify(restored.database_path, restored.audit_key)
    assert live_chain.ok and restored_chain.ok
    raw = sqlite3.connect(config.database_path)
    try:
        action, prev = raw.execute(
            "SELECT action, prev_hash FROM audit_events ORDER BY id DESC LIMIT 1"
        ).fetchone()
    finally:
        raw.close()
    assert (action, prev) == ("backup_done", restored_chain.head)
    assert f"Audit head: {restored_chain.head}" in stdout

    # The bot runs on the restored data: badges scan, returning visitors are recognised.
    link = badge_link(sim)
    await stop_polling(app)  # type: ignore[arg-type]
    bot = build_application(restored, clock=clock, rate_limit=False)
    await start_polling(bot, poll_timeout=1)
    try:
        await scan(sim, link)
        await sim.user(ESCORT).tap("Catat MASUK")
        await sim.user(ESCORT).wait_for("MASUK tercatat")
        await register(sim, Visitor(nik=NIK_WOMAN))
        assert counts(restored.database_path)[0] == VISITS + 1
    finally:
        await stop_polling(bot)
    assert counts(config.database_path)[0] == VISITS  # the original is untouched


async def test_the_daily_backup_keeps_its_count_and_is_audited(
    sim: BotApiSimulator, config: Config, clock: FakeClock, tmp_path: Path
) -> None:
    folder = tmp_path / "backups"
    config = replace(config, backup=Backup(folder=folder, keep=2, at=time(1, 0)))
    app = build_application(config, clock=clock, rate_limit=False)
    await start_polling(app, poll_timeout=1)
    try:
        services: Services = app.bot_data
        # Never backed up yet: the catch-up at start makes one.
        for _ in range(100):
            if folder.exists() and list(folder.iterdir()):
                break
            await asyncio.sleep(0.1)
        made = sorted(folder.iterdir())
        assert len(made) == 1
        (job,) = app.job_queue.get_jobs_by_name("backup")  # type: ignore[union-attr]
        for _ in range(2):
            clock.advance(days=1)
            await register(sim)
            await job.run(app)
            made.append(sorted(folder.iterdir())[-1])
        kept = sorted(folder.iterdir())
        assert kept == made[1:]  # the oldest is gone
        assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in kept)
        events = [e for e in await services.storage.audit.events() if e.action == "backup_done"]
        assert len(events) == 3 and f"file={made[2].name}" in events[2].detail
        assert "removed=1" in events[2].detail and "visits=2" in events[2].detail
    finally:
        await stop_polling(app)

    # Restarted the same day: the last backup is recent, so no catch-up backup.
    app = build_application(config, clock=clock, rate_limit=False)
    await start_polling(app, poll_timeout=1)
    try:
        await asyncio.sleep(4)
        assert sorted(folder.iterdir()) == kept
    finally:
        await stop_polling(app)


async def test_badges_outlive_a_signing_secret_change_and_visitors_are_recognised(
    sim: BotApiSimulator, config: Config, clock: FakeClock, app: object
) -> None:
    await register(sim)
    await approve(sim)
    link = badge_link(sim)
    await stop_polling(app)  # type: ignore[arg-type]
    new_secret = b"a-brand-new-signing-secret-0123456789xyz"

    # Without the old secret the badge is unknown; with it, it still opens the door.
    def enter_button(message: SimMessage) -> bool:
        return any("Catat MASUK" in b for row in message.buttons for b in row)

    for previous, accepted in (((), False), ((config.signing_secret,), True)):
        rotated = replace(config, signing_secret=new_secret, previous_signing_secrets=previous)
        bot = build_application(rotated, clock=clock, rate_limit=False)
        await start_polling(bot, poll_timeout=1)
        try:
            escort = sim.user(ESCORT)
            await escort.open_link(link)
            if accepted:
                await escort.wait_for("Badge pengunjung", predicate=enter_button)
            else:
                await escort.wait_for("tidak dikenal atau palsu")
        finally:
            await stop_polling(bot)

    # The NIK index is keyed by the data key: the returning visitor is still recognised.
    bot = build_application(
        replace(config, signing_secret=new_secret), clock=clock, rate_limit=False
    )
    await start_polling(bot, poll_timeout=1)
    try:
        officer = sim.user(OFFICER)
        await officer.send_text("/daftar")
        await officer.wait_for("foto KTP")
        from tests.flows import ktp_image

        await officer.send_photo(ktp_image())
        await officer.wait_for("NIK")
        await officer.send_text(NIK_WOMAN)
        await officer.wait_for("pernah terdaftar")
    finally:
        await stop_polling(bot)
