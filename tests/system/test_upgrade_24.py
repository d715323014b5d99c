"""Upgrading a release-23 database (migration 24 encrypts the visits' purpose and equipment).

- A first start killed during the data step (inside its transaction, or right after it
  committed, when VACUUM starts) leaves the next start to finish it: no plaintext left in
  the database files either way (the rebuild is marked until done: storage/at_rest.py).
- A wrong key is refused before the migrations run, so the previous release still opens the
  database (a rollback after starting with the wrong secrets file).
- Visits anonymized by release 23 lose their typed purpose at the next purge, as visits
  anonymized now do.
"""

from __future__ import annotations

import asyncio
import os
import random
import re
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from storage.crypto import Cipher
from storage.db import Storage
from tests.conftest import AUDIT_KEY, KEY
from tests.storage.test_free_text_at_rest import release_23_schema

ROOT = Path(__file__).resolve().parents[2]
CIPHER = Cipher(KEY)
VISITS = 6000
OTHER = "Bagus Santoso 3508012303880003"


def purpose(i: int) -> str:
    return f"PURPOSEMARK-{i:05d} Pemeliharaan rak" + (
        f" serah terima laptop {OTHER}" if i % 7 == 0 else ""
    )


def equipment(i: int) -> str:
    return (
        ""
        if i % 11 == 0
        else f"EQUIPMARK-{i:05d} Laptop" + (f" milik {OTHER}" if i % 7 == 0 else "")
    )


def version_23(path: Path, visits: int | None = None) -> None:
    """Release 23's database (names encrypted, purpose and equipment in clear)."""
    visits = VISITS if visits is None else visits
    raw = release_23_schema(path)
    ts = "2026-06-01T02:00:00+00:00"
    raw.execute("BEGIN")
    raw.execute(
        "INSERT INTO visitors (id, nik_hash, nik_enc, name, organisation, phone, created_at,"
        " updated_at) VALUES (1, ?, ?, ?, ?, ?, ?, ?)",
        (
            CIPHER.nik_hash("3508015507900002"),
            CIPHER.encrypt_text("3508015507900002"),
            CIPHER.seal("Ayu Lestari"),
            CIPHER.seal("PT Jaringan"),
            CIPHER.seal("081234567890"),
            ts,
            ts,
        ),
    )
    raw.executemany(
        "INSERT INTO visits (id, visitor_id, status, purpose, duration_minutes, equipment,"
        " ktp_file_id, officer_id, started_at, submitted_at)"
        " VALUES (?, 1, 'pending', ?, 30, ?, ?, 1001, ?, ?)",
        [
            (i, purpose(i), equipment(i), CIPHER.seal(f"file-{i}"), ts, ts)
            for i in range(1, visits + 1)
        ],
    )
    raw.execute("COMMIT")
    # Months of service: each visit moves on later, out of order (decided, in, out), and
    # its KTP file id goes after 30 days; release 23 wrote with secure_delete on.
    raw.execute("PRAGMA secure_delete=ON")
    order = list(range(1, visits + 1))
    random.Random(1).shuffle(order)
    for i in order:
        raw.execute(
            "UPDATE visits SET status = 'done', decided_at = ?, decided_by = 2001,"
            " valid_until = ?, entered_at = ?, exited_at = ?, entry_escort_id = 3001,"
            " exit_escort_id = 3001, equipment_check = 'ok', ktp_path = ? WHERE id = ?",
            (ts, ts, ts, ts, f"ktp/{i}.ktp", i),
        )
    for i in order[: visits // 3]:
        raw.execute(
            "UPDATE visits SET ktp_path = NULL, ktp_file_id = '', ktp_deleted_at = ? WHERE id = ?",
            (ts, i),
        )
    raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    raw.close()


# Opens the database as the bot's first start does, and SIGKILLs itself at a moment
# ("none": it is not killed, the control):
# "vacuum": when the data step's VACUUM starts (the encryption committed, the mark gone);
# "update": at the 100th row rewritten (inside the data step's transaction).
OPENER = """
import asyncio, os, signal, sys
import aiosqlite
from storage.crypto import Cipher
from storage.db import Storage
path, key, audit_key, moment = sys.argv[1], sys.argv[2].encode(), sys.argv[3].encode(), sys.argv[4]
real = aiosqlite.Connection.execute
seen = [0]
def execute(self, sql, *args, **kwargs):
    if moment == "vacuum" and sql.strip() == "VACUUM":
        os.kill(os.getpid(), signal.SIGKILL)
    if moment == "update" and sql.startswith("UPDATE visits SET purpose"):
        seen[0] += 1
        if seen[0] == 100:
            os.kill(os.getpid(), signal.SIGKILL)
    return real(self, sql, *args, **kwargs)
aiosqlite.Connection.execute = execute
asyncio.run(Storage.open(path, Cipher(key), audit_key))
"""


def plaintext_in(folder: Path) -> dict[str, int]:
    """How many distinct purposes/equipment lists each database file holds in clear."""
    found = {}
    for file in sorted(folder.glob("t.sqlite3*")):
        data = file.read_bytes()
        found[file.name] = len(set(re.findall(rb"(?:PURPOSE|EQUIP)MARK-\d{5}", data)))
    return found


@pytest.mark.parametrize("moment", ["none", "update", "vacuum"])
async def test_a_first_open_killed_in_its_data_step_leaves_no_plaintext_after_the_next(
    tmp_path: Path, moment: str
) -> None:
    path = tmp_path / "t.sqlite3"
    version_23(path)
    assert sum(plaintext_in(tmp_path).values()) == VISITS + sum(
        1 for i in range(1, VISITS + 1) if equipment(i)
    )
    killed = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-c", OPENER, str(path), KEY.decode(), AUDIT_KEY.decode(), moment],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        timeout=120,
    )
    assert killed.returncode == (0 if moment == "none" else -signal.SIGKILL), killed.stderr
    raw = sqlite3.connect(path)
    mark = raw.execute("SELECT COUNT(*) FROM meta WHERE name = 'visit_text_backfill'").fetchone()
    raw.close()
    # The next start finishes the upgrade: everything reads back.
    storage = await Storage.open(path, CIPHER, AUDIT_KEY)
    try:
        for i in (1, VISITS // 2, VISITS):
            visit = await storage.visits.get(i)
            assert visit is not None and (visit.purpose, visit.equipment) == (
                purpose(i),
                equipment(i),
            )
    finally:
        await storage.close()
    # ... and no purpose or equipment is left in clear in the files.
    left = plaintext_in(tmp_path)
    assert sum(left.values()) == 0, f"killed at {moment}; mark after the kill: {mark}; {left}"


def small_version_23(path: Path) -> None:
    """Release 23's database with a few visits."""
    version_23(path, visits=21)


@pytest.mark.parametrize("wrong", ["encryption_key", "audit_key"])
async def test_a_refused_key_leaves_the_old_database_for_the_old_release(
    tmp_path: Path, wrong: str
) -> None:
    """The new release refuses a wrong key saying "nothing was changed"; the admin goes back
    to the old release, which must still open the database (schema 23)."""
    from storage.crypto import generate_key
    from storage.db import REFUSALS

    path = tmp_path / "t.sqlite3"
    small_version_23(path)
    cipher = Cipher(generate_key()) if wrong == "encryption_key" else CIPHER
    audit_key = b"another-audit-key-0123456789abcdef" if wrong == "audit_key" else AUDIT_KEY
    # The chain must exist for the audit key to be checked: one keyed event from release 23.
    if wrong == "audit_key":
        first = await Storage.open(tmp_path / "keyed.sqlite3", CIPHER, AUDIT_KEY)
        await first.close()
        raw = sqlite3.connect(path)
        check = (
            sqlite3.connect(tmp_path / "keyed.sqlite3")
            .execute("SELECT value FROM meta WHERE name = 'audit_key_check'")
            .fetchone()[0]
        )
        raw.execute("INSERT INTO meta (name, value) VALUES ('audit_key_check', ?)", (check,))
        raw.commit()
        raw.close()
    with pytest.raises(REFUSALS) as refused:
        await Storage.open(path, cipher, audit_key)
    assert "nothing was changed" in str(refused.value) or wrong == "audit_key"
    raw = sqlite3.connect(path)
    version = raw.execute("PRAGMA user_version").fetchone()[0]
    raw.close()
    assert version == 23, f"refused ({refused.value}) but migrated to schema {version}"


async def test_a_visit_anonymized_before_the_upgrade_loses_its_typed_purpose_too(
    tmp_path: Path,
) -> None:
    """Since this release a typed purpose (it may name someone) goes with anonymization.
    A visit anonymized by release 23 kept it: the upgrade, or the next purge, should treat
    it as a visit anonymized today."""
    from datetime import UTC, datetime

    from bot.flows import privacy
    from bot.texts import form as form_texts

    path = tmp_path / "t.sqlite3"
    small_version_23(path)
    raw = sqlite3.connect(path)
    raw.execute("UPDATE visits SET anonymized_at = '2026-06-02T02:00:00+00:00' WHERE id = 7")
    raw.commit()
    raw.close()
    storage = await Storage.open(path, CIPHER, AUDIT_KEY)
    try:
        now = datetime(2026, 12, 3, 2, 0, tzinfo=UTC)
        # The daily purge after the upgrade; it anonymizes visit 14 (same kind of purpose).
        await storage.privacy.forget(now, privacy.PURGE, visits=[14], purposes=privacy.PURPOSES)
        today = await storage.visits.get(14)
        before = await storage.visits.get(7)
    finally:
        await storage.close()
    assert today is not None and today.purpose == form_texts.PURPOSE_TYPED
    assert before is not None
    assert before.purpose == form_texts.PURPOSE_TYPED, before.purpose
