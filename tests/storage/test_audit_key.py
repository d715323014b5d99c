"""The audit key is checked before any event is appended (storage/audit.py): a key other
than the chain's would append events nobody can verify, and the chain would stay broken."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from storage.audit import WrongAuditKey, verify
from storage.crypto import Cipher
from storage.db import Storage
from tests.conftest import AUDIT_KEY, KEY

NOW = datetime(2026, 11, 28, 2, 0, tzinfo=UTC)
WRONG = b"another-audit-key-of-another-chain-0123456789"


def _events(path: Path) -> int:
    raw = sqlite3.connect(path)
    try:
        return int(raw.execute("SELECT COUNT(*) FROM audit_events").fetchone()[0])
    finally:
        raw.close()


def _forget_check(path: Path) -> None:
    """As a database from before the check value was kept."""
    raw = sqlite3.connect(path)
    try:
        raw.execute("DELETE FROM meta WHERE name = 'audit_key_check'")
        raw.commit()
    finally:
        raw.close()


@pytest.mark.parametrize("kept", [True, False], ids=["check value kept", "from before it"])
async def test_a_wrong_key_is_refused_and_the_right_one_still_opens(
    tmp_path: Path, kept: bool
) -> None:
    path = tmp_path / "akses.sqlite3"
    storage = await Storage.open(path, Cipher(KEY), AUDIT_KEY)
    try:
        await storage.audit.record(NOW, 1, "probe")
    finally:
        await storage.close()
    if not kept:
        _forget_check(path)
    count = _events(path)
    for _ in range(2):  # twice: a refused open leaves nothing that a second one would take
        with pytest.raises(WrongAuditKey):
            await Storage.open(path, Cipher(KEY), WRONG)
        assert _events(path) == count
    storage = await Storage.open(path, Cipher(KEY), AUDIT_KEY)
    try:
        await storage.audit.record(NOW, 1, "probe")
    finally:
        await storage.close()
    report = await verify(path, AUDIT_KEY)
    assert report.broken_at is None and report.count == count + 1


async def test_a_new_database_takes_the_key_it_is_opened_with(tmp_path: Path) -> None:
    path = tmp_path / "akses.sqlite3"
    storage = await Storage.open(path, Cipher(KEY), WRONG)
    await storage.close()
    with pytest.raises(WrongAuditKey):
        await Storage.open(path, Cipher(KEY), AUDIT_KEY)
