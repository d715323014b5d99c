"""The raw bytes of the data folder hold no secret and no personal data in clear (issue 10,
"Old pages keep secrets"): the real bot as its own process, its database, WAL and
shared-memory files read byte by byte while it runs (with the badge still queued, then
delivered), right after a SIGKILL, and after a clean stop.

Parsing old pages of the file and the WAL once recovered a working badge token and manual
code; every value that could be recovered that way is searched for here."""

from __future__ import annotations

import asyncio
import signal
import sqlite3
import stat
from pathlib import Path

from bot.core.fields import normalise_phone
from bot.core.qr import decode_qr
from bot.core.tokens import extract_start_payload
from bot.texts import form as form_texts
from simulator import BotApiSimulator
from simulator.faults import Faults
from tests.conftest import APPROVER, BOT_USERNAME, OFFICER
from tests.flows import NIK_MAN, Visitor, fill_in
from tests.system.test_kill import BotProcess, write_config

VISITOR = Visitor(assignment_letter="090/7/ST/XI/2026")
BARRED_REASON = "Membawa perangkat tanpa izin"


def data_files(folder: Path) -> dict[str, bytes]:
    """Every file of the data folder (database, -wal, -shm, KTP copies), as bytes now."""
    return {
        str(path.relative_to(folder)): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def found(files: dict[str, bytes], secrets: dict[str, str | bytes]) -> list[str]:
    return [
        f"{what} in {name}"
        for name, data in files.items()
        for what, value in secrets.items()
        if (value.encode() if isinstance(value, str) else value) in data
    ]


def badge_queued(db: Path) -> bool:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as raw:
        row = raw.execute(
            "SELECT COUNT(*) FROM outbox WHERE kind = 'photo' AND status = 'pending'"
            " AND blob IS NOT NULL"
        ).fetchone()
    return bool(row[0])


async def until(condition, timeout: float = 20.0) -> None:  # type: ignore[no-untyped-def]  # noqa: ASYNC109
    for _ in range(int(timeout / 0.05)):
        if condition():
            return
        await asyncio.sleep(0.05)
    raise TimeoutError(condition)


async def test_no_secret_or_personal_data_in_the_raw_files(
    tmp_path: Path, sim: BotApiSimulator
) -> None:
    config = write_config(tmp_path, sim)
    data = tmp_path / "data"
    db = data / "akses.sqlite3"
    bot = BotProcess(sim, config)
    await bot.start()
    snapshots: dict[str, dict[str, bytes]] = {}
    try:
        # A NIK on the watchlist, with its reason: neither may be readable at rest either.
        await sim.user(APPROVER).send_text(f"/blokir {NIK_MAN} {BARRED_REASON}")
        await sim.user(APPROVER).wait_for("masuk daftar blokir", timeout=20)
        officer = sim.user(OFFICER)
        moves = VISITOR.script()
        await officer.send_text("/daftar")
        await officer.wait_for(moves[0].asked, timeout=20)
        summary = await fill_in(officer, moves, timeout=20)
        await sim.settle(quiet=0.3)  # the draft (NIK, name, phone) is persisted by now
        snapshots["running, form filled in"] = data_files(data)
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as raw:
            assert raw.execute("SELECT COUNT(*) FROM user_state").fetchone()[0] == 1
        await officer.tap(form_texts.BTN_SUBMIT, summary)
        await officer.wait_for("terkirim", timeout=20)
        approver = sim.user(APPROVER)
        card = await approver.wait_for("Permintaan akses ruang server", timeout=20)
        # Photos and documents fail for a while: the badge waits in the outbox.
        sim.faults = Faults(rate=1.0, kinds={"500"}, methods={"sendPhoto", "sendDocument"})
        await approver.tap("Setujui", card)
        await until(lambda: badge_queued(db))
        snapshots["running, badge queued"] = data_files(data)

        sim.faults = Faults()
        photo = await officer.wait_for(
            predicate=lambda m: m.photo_bytes is not None and "Kode manual" in m.caption,
            since=0,
            timeout=30,
        )
        await officer.wait_for(predicate=lambda m: m.document_name is not None, since=0)
        await sim.settle(quiet=0.5)
        await until(lambda: not badge_queued(db))
        snapshots["running, badge delivered"] = data_files(data)
        bot.kill()
        snapshots["right after SIGKILL"] = data_files(data)

        await bot.start()
        await sim.settle(quiet=0.5)
        assert bot.proc is not None
        bot.proc.send_signal(signal.SIGTERM)  # run_polling stops cleanly on it
        assert await asyncio.to_thread(bot.proc.wait, 60) == 0
        snapshots["after a clean stop"] = data_files(data)
    finally:
        if bot.proc is not None and bot.proc.poll() is None:
            bot.kill()

    (link,) = decode_qr(photo.photo_bytes or b"")
    token = extract_start_payload(link, BOT_USERNAME)
    code = photo.caption.rsplit(" ", 1)[1]
    assert token and len(code) == 9 and code[4] == "-"
    image = photo.photo_bytes or b""
    secrets: dict[str, str | bytes] = {
        # The badge image carries the token in its QR: any 64 bytes of it, as sent.
        "badge image": image[len(image) // 2 : len(image) // 2 + 64],
        "badge token": token,
        "manual code": code,
        "manual code without its dash": code.replace("-", ""),
        "NIK": VISITOR.nik,
        "name": VISITOR.name,
        "organisation": VISITOR.organisation,
        "phone": normalise_phone(VISITOR.phone) or "",
        "phone as typed": VISITOR.phone,
        "assignment letter": VISITOR.assignment_letter or "",
        "barred NIK": NIK_MAN,
        "watchlist reason": BARRED_REASON,
    }
    for moment, files in snapshots.items():
        assert "akses.sqlite3" in files and files["akses.sqlite3"].startswith(b"SQLite format 3")
        assert found(files, secrets) == [], moment
    assert "akses.sqlite3-wal" in snapshots["right after SIGKILL"]

    # The folder and everything in it are the bot's user's alone.
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    modes = {str(p.relative_to(data)): stat.S_IMODE(p.stat().st_mode) for p in data.rglob("*")}
    assert all(mode in (0o600, 0o700) for mode in modes.values()), modes
