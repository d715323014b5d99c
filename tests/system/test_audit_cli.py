"""The keyed, anchored audit chain, checked from a shell: ``python -m bot audit verify|head``.

Each rewrite is what a reviewer with the database file (and, for the anchor, even with the
audit key) can do: drop the append-only triggers, change an event, recompute every hash,
recreate the triggers.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

from bot.app.config import load_config
from storage import audit
from storage.audit import GENESIS_HASH, audit_hash, keyed_hash
from storage.crypto import Cipher
from storage.db import Storage
from tests.conftest import AUDIT_KEY, KEY
from tests.storage.test_storage import DRAFT, NOW
from tests.system.test_privacy_cli import CONFIG, bot

FIELDS = ("at", "actor_id", "action", "visit_id", "from_status", "to_status", "detail")


async def seed(path: Path, count: int = 3) -> None:
    config = load_config(path, env={})
    storage = await Storage.open(config.database_path, Cipher(KEY), AUDIT_KEY)
    try:
        for _ in range(count):
            await storage.visits.submit(DRAFT, 1001, NOW)
    finally:
        await storage.close()


@pytest.fixture
async def config_path(tmp_path: Path) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(CONFIG, encoding="utf-8")
    path.chmod(0o600)
    await seed(path)
    return path


def database(config_path: Path) -> Path:
    return load_config(config_path, env={}).database_path


def rewrite(db_path: Path, event_id: int, detail: str, link: Callable[..., str]) -> None:
    """Change one event's detail and recompute every hash from it on with ``link``."""
    raw = sqlite3.connect(db_path, isolation_level=None)
    raw.row_factory = sqlite3.Row
    raw.execute("DROP TRIGGER audit_no_update")
    raw.execute("UPDATE audit_events SET detail = ? WHERE id = ?", (detail, event_id))
    rows = raw.execute("SELECT * FROM audit_events ORDER BY id").fetchall()
    prev = GENESIS_HASH
    for row in rows:
        fields = tuple(row[name] for name in FIELDS)
        if row["id"] >= event_id:
            new = link(prev, fields)
            raw.execute(
                "UPDATE audit_events SET prev_hash = ?, hash = ? WHERE id = ?",
                (prev, new, row["id"]),
            )
            prev = new
        else:
            prev = row["hash"]
    raw.execute(
        "CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit_events"
        " BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END"
    )
    raw.close()


def test_head_prints_the_hash_verify_checks(config_path: Path) -> None:
    head = bot("audit", "head", "--config", str(config_path))
    assert head.returncode == 0, head.stderr
    raw = sqlite3.connect(database(config_path))
    (stored,) = raw.execute("SELECT hash FROM audit_events ORDER BY id DESC LIMIT 1").fetchone()
    raw.close()
    assert head.stdout.strip() == stored and len(stored) == 64
    result = bot("audit", "verify", "--config", str(config_path), "--anchor", stored)
    assert result.returncode == 0, result.stderr
    assert "OK: 3 audit events" in result.stdout and "Anchor found at event 3" in result.stdout


def test_a_rewrite_with_the_unkeyed_formula_is_caught(config_path: Path) -> None:
    rewrite(database(config_path), 2, "rewritten", audit_hash)
    result = bot("audit", "verify", "--config", str(config_path))
    assert result.returncode == 1
    assert "BROKEN at event 2" in result.stderr and "without the audit key" in result.stderr
    assert "Traceback" not in result.stderr
    assert bot("audit", "head", "--config", str(config_path)).returncode == 1


async def test_a_rewrite_before_an_anchored_head_is_caught_even_with_the_key(
    config_path: Path,
) -> None:
    anchor = bot("audit", "head", "--config", str(config_path)).stdout.strip()
    await seed(config_path, 2)  # the chain grows after the anchor was sent out
    key = lambda prev, fields: keyed_hash(AUDIT_KEY, prev, fields)  # noqa: E731
    rewrite(database(config_path), 2, "rewritten with the key", key)
    # Whoever holds the key makes a chain that verifies on its own ...
    plain = bot("audit", "verify", "--config", str(config_path))
    assert plain.returncode == 0 and "OK: 5 audit events" in plain.stdout
    # ... but the head sent out before no longer exists in it.
    result = bot("audit", "verify", "--config", str(config_path), "--anchor", anchor)
    assert result.returncode == 1
    assert "ANCHOR NOT FOUND" in result.stderr and anchor in result.stderr


async def test_a_change_after_the_anchor_leaves_the_anchored_part_proven(
    config_path: Path,
) -> None:
    anchor = bot("audit", "head", "--config", str(config_path)).stdout.strip()
    await seed(config_path, 2)
    raw = sqlite3.connect(database(config_path), isolation_level=None)
    raw.execute("DROP TRIGGER audit_no_update")
    raw.execute("UPDATE audit_events SET detail = 'x' WHERE id = 5")
    raw.close()
    result = bot("audit", "verify", "--config", str(config_path), "--anchor", anchor)
    assert result.returncode == 1 and "BROKEN at event 5" in result.stderr
    assert "The anchored head is event 3: up to it nothing changed." in result.stdout


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (("--anchor", "ab" * 32), 1, "ANCHOR NOT FOUND"),
        (("--anchor", "not-a-hash"), 2, "64 hexadecimal characters"),
    ],
)
def test_bad_anchors_get_one_clear_error(
    config_path: Path, args: Sequence[str], code: int, message: str
) -> None:
    result = bot("audit", "verify", "--config", str(config_path), *args)
    assert result.returncode == code and message in result.stderr
    assert "Traceback" not in result.stderr


def test_a_wrong_key_and_a_missing_database_are_named(config_path: Path, tmp_path: Path) -> None:
    other = tmp_path / "other.toml"
    other.write_text(
        CONFIG.replace(AUDIT_KEY.decode(), "another-audit-key-" + "z" * 30), encoding="utf-8"
    )
    for command in ("verify", "head"):
        result = bot("audit", command, "--config", str(other))
        assert result.returncode == 1, result.stdout
        assert "the configured key is wrong" in result.stderr
        assert "Traceback" not in result.stderr
    database(config_path).unlink()
    result = bot("audit", "verify", "--config", str(config_path))
    assert result.returncode == 2 and "no database" in result.stderr
    assert "Traceback" not in result.stderr


def unkeyed_chain(db_path: Path, count: int) -> list[str]:
    """Events as a version before the audit key wrote them (plain SHA-256)."""
    raw = sqlite3.connect(db_path, isolation_level=None)
    prev, hashes = GENESIS_HASH, []
    for number in range(count):
        fields = (NOW.isoformat(), 9001, "stranger_refused", None, None, None, f"old {number}")
        digest = audit_hash(prev, fields)
        raw.execute(
            f"INSERT INTO audit_events ({', '.join(FIELDS)}, prev_hash, hash)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (*fields, prev, digest),
        )
        prev = digest
        hashes.append(digest)
    raw.close()
    return hashes


async def test_an_unkeyed_chain_is_linked_once_never_rewritten(
    config_path: Path, tmp_path: Path
) -> None:
    db_path = tmp_path / "old" / "akses.sqlite3"
    storage = await Storage.open(db_path, Cipher(KEY), AUDIT_KEY)
    await storage.close()
    old = unkeyed_chain(db_path, 3)
    before = await audit.verify(db_path, AUDIT_KEY)
    assert not before.ok and "written without the audit key" in before.problem

    for _ in range(2):  # the second open finds the chain keyed and adds nothing
        storage = await Storage.open(db_path, Cipher(KEY), AUDIT_KEY)
        await storage.visits.submit(DRAFT, 1001, NOW)
        await storage.close()
    raw = sqlite3.connect(db_path)
    rows = raw.execute("SELECT id, action, detail, prev_hash, hash FROM audit_events").fetchall()
    raw.close()
    assert [r[4] for r in rows[:3]] == old  # history untouched
    assert [r[1] for r in rows[3:]] == [audit.REKEYED, "submit", "submit"]
    assert rows[3][3] == old[-1] and old[-1] in rows[3][2]
    report = await audit.verify(db_path, AUDIT_KEY, anchor=old[1])
    assert report.ok and report.keyed_from == 4 and report.anchor_at == 2

    # The old part can still be rewritten with the old formula, but the keyed link breaks.
    rewrite(db_path, 2, "rewritten", audit_hash)
    report = await audit.verify(db_path, AUDIT_KEY)
    assert not report.ok and report.broken_at == 4
