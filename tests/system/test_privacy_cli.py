"""The admin's commands, as run from a shell: privacy export/erase and audit verify."""

from __future__ import annotations

import base64
import json
import sqlite3
import stat
import subprocess
import sys
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from bot.app.config import load_config
from bot.core import visits as lifecycle
from bot.core.visits import VisitStatus
from bot.flows import ktp
from storage import privacy as store
from storage.crypto import Cipher
from storage.db import Storage
from storage.visits import BadgeHashes
from tests.conftest import AUDIT_KEY, KEY, SECRET
from tests.flows import ktp_image
from tests.storage.test_storage import DRAFT, NOW
from tests.system.test_backup_cli import bot as cli
from tests.system.test_backup_cli import one_line, unprivileged

ROOT = Path(__file__).resolve().parents[2]
MASKED = DRAFT.nik[:4] + "*" * 10 + DRAFT.nik[-2:]
CONFIG = f"""
[telegram]
token = "123456:TEST-TOKEN-abcdefghijklmnopqrstuv"
[security]
signing_secret = "{SECRET.decode()}"
encryption_key = "{KEY.decode()}"
audit_key = "{AUDIT_KEY.decode()}"
[storage]
data_dir = "data"
[[staff]]
id = 2001
name = "Budi"
roles = ["approver"]
"""


def bot(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)},
        input=stdin,
        timeout=60,
        check=False,
    )


@pytest.fixture
async def config_path(tmp_path: Path) -> Path:
    """A database with two visits of one person (one KTP kept) and one of somebody else."""
    path = tmp_path / "config.toml"
    path.write_text(CONFIG, encoding="utf-8")
    path.chmod(0o600)
    config = load_config(path, env={})
    storage = await Storage.open(config.database_path, Cipher(KEY), AUDIT_KEY)
    try:
        first = await storage.visits.submit(DRAFT, 1001, NOW)
        approve = lifecycle.approve(first, 2001, NOW, NOW + timedelta(hours=1))
        assert await storage.visits.apply(approve, badge=BadgeHashes("t", "c")) is not None
        second = await storage.visits.submit(DRAFT, 1001, NOW + timedelta(days=3))
        photo = storage.cipher.encrypt(ktp_image())
        ktp.write_private(config.data_dir / ktp.relative_path(second.id), photo)
        await storage.privacy.ktp_stored(second.id, ktp.relative_path(second.id), NOW)
        other = replace(DRAFT, nik="3508010102850001", name="Bayu Aji")
        await storage.visits.submit(other, 1001, NOW)
    finally:
        await storage.close()
    return path


def audit_rows(config_path: Path) -> list[tuple[object, ...]]:
    raw = sqlite3.connect(load_config(config_path, env={}).database_path)
    try:
        sql = "SELECT action, actor_id, visit_id, detail FROM audit_events ORDER BY id"
        return raw.execute(sql).fetchall()
    finally:
        raw.close()


async def test_export_writes_everything_about_one_person(
    config_path: Path, tmp_path: Path
) -> None:
    out = tmp_path / "export.json"
    spaced = "3508 0155 0790 0002"  # as typed from the card
    # The NIK from standard input, not the command line (shell history, sudo's log, ps).
    args = ("privacy", "export", "--config", str(config_path), "--out", str(out))
    result = bot(*args, stdin=spaced + "\n")
    assert result.returncode == 0, result.stderr
    assert "warning" not in result.stderr
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["visitor"]["nik"] == DRAFT.nik and data["visitor"]["name"] == DRAFT.name
    assert [v["id"] for v in data["visits"]] == [1, 2]  # not the other person's visit 3
    assert base64.b64decode(data["visits"][1]["ktp_image_base64"]) == ktp_image()
    assert data["visits"][0]["ktp_image_base64"] is None
    assert {e["action"] for e in data["audit_events"]} == {"submit", "approve"}
    assert {e["visit_id"] for e in data["audit_events"]} == {1, 2}
    # The export is audited, with the NIK masked, never in full.
    assert audit_rows(config_path)[-1] == ("privacy_export", None, None, f"nik={MASKED} visits=2")
    assert all(DRAFT.nik not in str(row) for row in audit_rows(config_path))


def test_export_with_a_ktp_file_missing_exports_everything_else(
    config_path: Path, tmp_path: Path
) -> None:
    config = load_config(config_path, env={})
    photo = config.data_dir / "ktp" / "2.ktp"
    photo.unlink()  # deleted by hand, or a restore without it; the database still names it
    out = tmp_path / "export.json"
    args = ("privacy", "export", "--config", str(config_path), "--out", str(out))
    result = bot(*args, stdin=DRAFT.nik + "\n")
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.splitlines() == [
        f"Visit 2: the KTP photo file {photo} is missing; the visit is exported without it"
        " (ktp_image_missing)."
    ]
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["visitor"]["nik"] == DRAFT.nik and [v["id"] for v in data["visits"]] == [1, 2]
    assert [v["ktp_path"] for v in data["visits"]] == [None, "ktp/2.ktp"]
    assert [v["ktp_image_base64"] for v in data["visits"]] == [None, None]
    assert [v["ktp_image_missing"] for v in data["visits"]] == [False, True]
    assert {e["action"] for e in data["audit_events"]} == {"submit", "approve"}
    assert audit_rows(config_path)[-1] == ("privacy_export", None, None, f"nik={MASKED} visits=2")


@pytest.mark.parametrize("where", ["no folder", "a folder it may not write"])
def test_export_to_a_place_it_cannot_write_is_one_line(
    config_path: Path, tmp_path: Path, where: str
) -> None:
    """Refused before anything is read or audited: one line naming the path and why."""
    prefix: list[str] = []
    if where == "no folder":
        out, why = tmp_path / "no" / "export.json", "No such file or directory"
    else:
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        locked.chmod(0o500)
        out, why, prefix = locked / "export.json", "Permission denied", unprivileged()
    before = audit_rows(config_path)
    args = ("privacy", "export", "--config", str(config_path), "--out", str(out))
    done = cli(*args, prefix=prefix, stdin=DRAFT.nik + "\n")
    assert one_line(done) == f"privacy export: cannot write {out}: {why}"
    assert not out.parent.is_dir() or not list(out.parent.iterdir())
    assert audit_rows(config_path) == before


async def test_erase_anonymizes_and_deletes_the_ktp_keeping_the_log(config_path: Path) -> None:
    config = load_config(config_path, env={})
    ktp_file = config.data_dir / "ktp" / "2.ktp"
    assert ktp_file.exists()

    erase = ("privacy", "erase", "-", "--config", str(config_path))
    refused = bot(*erase, stdin=DRAFT.nik + "\n")  # no terminal to confirm on
    assert refused.returncode == 1 and "--yes" in refused.stderr
    assert ktp_file.exists()

    result = bot(*erase, "--yes", stdin=DRAFT.nik + "\n")
    assert result.returncode == 0, result.stderr
    assert "2 visit(s) anonymized" in result.stdout
    assert "2 open request(s) withdrawn" in result.stdout  # their badges admit nobody now
    assert not ktp_file.exists()
    storage = await Storage.open(config.database_path, Cipher(KEY), AUDIT_KEY)
    try:
        assert await storage.visits.find_visitor(DRAFT.nik) is None
        first = await storage.visits.get(1)
        assert first is not None and first.name == store.ANONYMOUS and first.nik == ""
        assert first.decided_by == 2001 and first.submitted_at == NOW  # the log's facts stay
        assert first.status == VisitStatus.CANCELLED
        other = await storage.visits.get(3)
        assert other is not None and other.name == "Bayu Aji"  # somebody else is untouched
    finally:
        await storage.close()
    rows = audit_rows(config_path)
    at = next(i for i, row in enumerate(rows) if row[0] == "privacy_erase")
    action, actor, visit, detail = rows[at]
    assert (action, actor, visit) == ("privacy_erase", None, None)
    # The open requests are withdrawn after the anonymization, so the cards and badge
    # captions drawn when sent can only show the anonymized visit.
    assert sorted((row[0], row[2]) for row in rows[at + 1 :]) == [("cancel", 1), ("cancel", 2)]
    assert detail == (
        f"nik={MASKED} visits_cancelled=2 ktp_deleted=2 visits_anonymized=2 visitors_deleted=1"
    )
    assert DRAFT.name.encode() not in config.database_path.read_bytes()

    # On the command line it still works, with a warning of where the NIK stays.
    again = bot("privacy", "export", DRAFT.nik, "--config", str(config_path))
    assert again.returncode == 0 and json.loads(again.stdout)["visitor"] is None
    assert again.stderr.startswith("warning: a NIK on the command line stays")


def test_verify_reports_ok_then_the_first_edited_row(config_path: Path) -> None:
    result = bot("audit", "verify", "--config", str(config_path))
    assert result.returncode == 0, result.stderr
    assert "OK: 4 audit events" in result.stdout

    raw = sqlite3.connect(load_config(config_path, env={}).database_path, isolation_level=None)
    raw.execute("DROP TRIGGER audit_no_update")  # an attacker with the file can do this
    raw.execute("UPDATE audit_events SET to_status = 'approved' WHERE id = 3")
    raw.close()
    result = bot("audit", "verify", "--config", str(config_path))
    assert result.returncode == 1
    assert "BROKEN at event 3" in result.stderr and "to_status='approved'" in result.stderr


def test_verify_reports_a_deleted_row(config_path: Path) -> None:
    raw = sqlite3.connect(load_config(config_path, env={}).database_path, isolation_level=None)
    raw.execute("DROP TRIGGER audit_no_delete")
    raw.execute("DELETE FROM audit_events WHERE id = 2")
    raw.close()
    result = bot("audit", "verify", "--config", str(config_path))
    assert result.returncode == 1
    assert "BROKEN at event 3" in result.stderr and "removed" in result.stderr


def test_bad_nik_and_missing_database(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(CONFIG, encoding="utf-8")
    result = bot("privacy", "export", "12345", "--config", str(path))
    assert result.returncode == 2 and "16 digits" in result.stderr
    result = bot("audit", "verify", "--config", str(path))
    assert result.returncode == 2 and "no database" in result.stderr


def test_a_wrong_audit_key_is_refused_before_anything_is_written(
    config_path: Path, tmp_path: Path
) -> None:
    """A privacy export run with another audit key appended an event the right key could
    not verify: the chain was broken for good. The key is now checked first (the database
    keeps a check value of it): one line, nothing written, the chain still whole."""
    wrong = tmp_path / "wrong.toml"
    other = "Zx9Qw8Ev7Rt6Yu5Io4Pa3Sd2Fg1Hj0KlMnBvCxZaQwErTy"
    wrong.write_text(CONFIG.replace(AUDIT_KEY.decode(), other), encoding="utf-8")
    wrong.chmod(0o600)
    (tmp_path / "data").chmod(0o700)
    before = audit_rows(config_path)
    line = one_line(cli("privacy", "export", "--config", str(wrong), stdin=DRAFT.nik + "\n"))
    assert "the audit key does not match this database's audit chain" in line
    assert audit_rows(config_path) == before
    verified = bot("audit", "verify", "--config", str(config_path))
    assert verified.returncode == 0, verified.stdout + verified.stderr
