"""The database snapshot the end-to-end tests compare (tests/dbstate.py) sees every change
that matters and only those."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from storage.crypto import Cipher
from tests.conftest import KEY
from tests.dbstate import Decrypted, differences, snapshot

SCHEMA = """
CREATE TABLE visits (id INTEGER PRIMARY KEY, status TEXT NOT NULL, name_enc TEXT);
CREATE TABLE user_state (user_id INTEGER PRIMARY KEY, data TEXT NOT NULL);
CREATE TABLE marks (day TEXT, note TEXT);
CREATE TABLE audit_events (id INTEGER PRIMARY KEY AUTOINCREMENT, action TEXT NOT NULL);
CREATE TABLE outbox (id INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE, blob BLOB);
"""
CIPHER = Cipher(KEY)


@pytest.fixture
def bot_db(tmp_path: Path) -> Iterator[tuple[Path, sqlite3.Connection]]:
    """A WAL database held open by a writer, as the running bot holds its own."""
    path = tmp_path / "bot.sqlite3"
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA wal_autocheckpoint=0")  # commits stay in the WAL file
    db.executescript(SCHEMA)
    db.execute("INSERT INTO visits VALUES (1, 'pending', ?)", (CIPHER.encrypt_text("Ayu"),))
    draft = CIPHER.encrypt_text('{"draft": {"step": "nik", "photo": "f1"}}')
    db.execute("INSERT INTO user_state VALUES (1001, ?)", (draft,))
    db.execute("INSERT INTO marks VALUES ('2026-11-28', 'x')")
    db.execute("INSERT INTO audit_events (action) VALUES ('submit')")
    db.execute("INSERT INTO outbox VALUES (1, 'card:1:2001', ?)", (CIPHER.encrypt(b"\x89PNG"),))
    yield path, db
    db.close()


def changes(path: Path, write: str, *params: object, **allowed: list[str]) -> list[str]:
    before = snapshot(path, CIPHER)
    db = sqlite3.connect(path, isolation_level=None)
    try:
        if params:
            db.execute(write, params)
        else:
            db.executescript(write)
    finally:
        db.close()
    return differences(before, snapshot(path, CIPHER), **allowed)


def test_nothing_written_nothing_found(bot_db: tuple[Path, sqlite3.Connection]) -> None:
    path, _ = bot_db
    assert differences(snapshot(path, CIPHER), snapshot(path, CIPHER)) == []


def test_committed_wal_frames_are_read_and_open_transactions_are_not(
    bot_db: tuple[Path, sqlite3.Connection],
) -> None:
    path, writer = bot_db
    assert path.with_name(path.name + "-wal").stat().st_size > 0
    before = snapshot(path, CIPHER)
    assert before.tables["visits"].rows[(1,)]["status"] == "pending"
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("UPDATE visits SET status = 'approved'")
    assert differences(before, snapshot(path, CIPHER)) == []
    writer.execute("COMMIT")
    assert differences(before, snapshot(path, CIPHER)) == [
        "visits: changed (1,): status: 'pending' -> 'approved'"
    ]


def test_ciphertext_is_compared_by_what_it_says(bot_db: tuple[Path, sqlite3.Connection]) -> None:
    path, _ = bot_db
    same = CIPHER.encrypt_text('{"draft": {"photo": "f1", "step": "nik"}}')  # keys reordered
    assert changes(path, "UPDATE user_state SET data = ?", same) == []
    assert snapshot(path, CIPHER).tables["user_state"].rows[(1001,)]["data"] == Decrypted(
        {"draft": {"step": "nik", "photo": "f1"}}
    )
    moved = CIPHER.encrypt_text('{"draft": {"step": "name", "photo": "f1"}}')
    (found,) = changes(path, "UPDATE user_state SET data = ?", moved)
    assert found.startswith("user_state: changed (1001,): data:") and "'name'" in found
    (found,) = changes(path, "UPDATE visits SET name_enc = ?", CIPHER.encrypt_text("Budi"))
    assert "decrypted('Ayu') -> decrypted('Budi')" in found
    blob = CIPHER.encrypt(b"\x89PNG")
    assert changes(path, "UPDATE outbox SET blob = ?", blob) == []
    assert changes(path, "UPDATE outbox SET blob = ?", CIPHER.encrypt(b"GIF8")) != []


@pytest.mark.parametrize(
    ("write", "expected"),
    [
        ("DELETE FROM visits", "visits: removed"),
        ("DELETE FROM user_state", "user_state: removed"),
        ("INSERT INTO visits VALUES (2, 'pending', NULL)", "visits: added"),
        ("INSERT INTO marks VALUES ('2026-11-28', 'x')", "marks: added"),  # no key: a twin
        ("UPDATE marks SET note = 'y'", "marks: changed (1,): note: 'x' -> 'y'"),
        ("INSERT INTO audit_events (action) VALUES ('approve')", "audit_events: new rows"),
        ("INSERT INTO outbox (key) VALUES ('badge_png:1:1001')", "outbox: new rows"),
        ("ALTER TABLE visits ADD COLUMN note TEXT", "schema:"),
        ("CREATE TABLE extra (id INTEGER PRIMARY KEY)", "extra: table added"),
        ("PRAGMA user_version = 9", "user_version: 0 -> 9"),
    ],
)
def test_every_kind_of_change_is_found(
    bot_db: tuple[Path, sqlite3.Connection], write: str, expected: str
) -> None:
    path, _ = bot_db
    found = changes(path, write)
    assert any(f.startswith(expected) for f in found), found


def test_only_the_named_audit_events_and_messages_may_be_appended(
    bot_db: tuple[Path, sqlite3.Connection],
) -> None:
    path, _ = bot_db
    refusal = "INSERT INTO audit_events (action) VALUES ('badge_unknown')"
    assert changes(path, refusal, new_audit=["badge_unknown"]) == []
    # Named but not written, written twice, or written under another name: all found.
    assert changes(path, "SELECT 1", new_audit=["badge_unknown"]) != []
    assert changes(path, refusal, new_audit=[]) != []
    twice = "INSERT INTO audit_events (action) VALUES ('badge_unknown'), ('badge_unknown')"
    assert changes(path, twice, new_audit=["badge_unknown"]) != []
    assert changes(path, twice, new_audit=["badge_unknown"] * 2) == []
    assert changes(path, refusal, new_audit=["stranger_refused"]) != []
    alert = "INSERT INTO outbox (key) VALUES (?)"
    assert changes(path, alert, "forged:1764295200:2001", new_outbox=["forged"]) == []
    assert changes(path, alert, "forged:1764295200:2002", new_outbox=["card"]) != []
    # An appended row is allowed; an edited one never is, not even beside it.
    both = "INSERT INTO outbox (key) VALUES ('forged:9:2001'); UPDATE outbox SET blob = NULL"
    (found,) = changes(path, both, new_outbox=["forged"])
    assert found.startswith("outbox: changed (1,): blob:")


def test_the_autoincrement_counter_may_move_only_with_allowed_rows(
    bot_db: tuple[Path, sqlite3.Connection],
) -> None:
    path, _ = bot_db
    refusal = "INSERT INTO audit_events (action) VALUES ('badge_unknown')"
    assert changes(path, refusal, new_audit=["badge_unknown"]) == []
    bumped = "UPDATE sqlite_sequence SET seq = seq + 5 WHERE name = 'audit_events'"
    assert changes(path, bumped) == ["sqlite_sequence: changed (1,): seq: 2 -> 7"]
    bumped_with_a_row = f"{refusal}; {bumped}"
    assert changes(path, bumped_with_a_row, new_audit=["badge_unknown"]) == []


def test_a_staff_members_first_opening_is_the_one_change_any_input_may_make(
    bot_db: tuple[Path, sqlite3.Connection],
) -> None:
    path, db = bot_db
    db.executescript(
        "CREATE TABLE staff (user_id INTEGER PRIMARY KEY, name TEXT, opened_at TEXT);"
        "INSERT INTO staff VALUES (1, 'Sari', NULL), (2, 'Budi', '2026-11-27');"
    )
    first = "UPDATE staff SET opened_at = '2026-11-28' WHERE user_id = 1"
    assert changes(path, first) == []
    # Set again, unset, or anything else on the row: all found.
    (found,) = changes(path, "UPDATE staff SET opened_at = '2026-11-29' WHERE user_id = 2")
    assert found.startswith("staff: changed (2,): opened_at")
    assert changes(path, "UPDATE staff SET opened_at = NULL WHERE user_id = 2") != []
    assert changes(path, "UPDATE staff SET name = 'B' WHERE user_id = 2") != []
