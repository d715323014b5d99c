"""Personal data and credentials at rest: encrypted columns, the outbox, and the migration
that encrypts a database written before (issue 10, "Old pages keep secrets")."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import replace
from pathlib import Path

import pytest

from bot.core import visits as lifecycle
from bot.core.form import FORM
from storage.crypto import DATA_KEY_COLUMNS
from storage.db import Storage
from storage.migrations import MIGRATIONS
from storage.outbox import FAILED, PENDING, SENT, OutboxItem
from tests.conftest import AUDIT_KEY
from tests.storage.test_storage import CIPHER, DRAFT, NOW, approve, deny

BADGE_CAPTION = "Kode manual: 7Q4M-K2XD"
BADGE_PNG = b"\x89PNG badge with the token Tok3nOfTheBadge_xyz"
LETTER = "090/123/ST/XI/2026"
PERSONAL = (DRAFT.nik, DRAFT.name, DRAFT.organisation, DRAFT.phone, LETTER)


def file_bytes(path: Path) -> bytes:
    return b"".join(
        Path(f"{path}{suffix}").read_bytes()
        for suffix in ("", "-wal", "-shm")
        if Path(f"{path}{suffix}").exists()
    )


def secrets_in(path: Path, *values: str | bytes) -> list[str | bytes]:
    data = file_bytes(path)
    return [v for v in values if (v.encode() if isinstance(v, str) else v) in data]


def test_every_remembered_answer_is_encrypted() -> None:
    """A field remembered per visitor (name, organisation, phone, or one added later) is
    encrypted: adding one without listing it fails here."""
    assert set(FORM.visitor_columns) <= set(DATA_KEY_COLUMNS["visitors"])
    assert FORM.identifying.name == "nik" and "nik_enc" in DATA_KEY_COLUMNS["visitors"]


async def test_the_person_and_the_queued_badge_are_never_in_the_file(tmp_path: Path) -> None:
    path = tmp_path / "t.sqlite3"
    store = await Storage.open(path, CIPHER, AUDIT_KEY)
    try:
        draft = replace(DRAFT, assignment_letter=LETTER)
        badge = OutboxItem(
            "badge_png:{visit}:1001",
            "photo",
            1001,
            payload={"filename": "b.png", "caption": f"{DRAFT.name} {BADGE_CAPTION}"},
            blob=BADGE_PNG,
        )
        visit = await store.visits.submit(draft, 1001, NOW, messages=[badge])
        denied = await deny(store, visit, 2001, f"KTP a.n. {DRAFT.name} tidak cocok")
        assert denied is not None and DRAFT.name in (denied.deny_reason or "")
        # What the rest of the code reads is plain.
        assert (visit.name, visit.phone, visit.assignment_letter) == (
            DRAFT.name,
            DRAFT.phone,
            LETTER,
        )
        assert (await store.reports.history_by_name("ayu"))[0].id == visit.id
        assert await store.reports.history_by_name("nobody") == []
        (head,) = await store.outbox.heads()
        assert head.payload["caption"].endswith(BADGE_CAPTION) and head.blob == BADGE_PNG
        found = await store.visits.find_visitor(DRAFT.nik)
        assert found is not None and found.organisation == DRAFT.organisation
        assert secrets_in(path, *PERSONAL, "7Q4M", BADGE_PNG) == []
        # A message Telegram refused for good keeps nothing (mark_failed used to keep the text).
        await store.outbox.mark_failed(head.id, "Forbidden: bot was blocked by the user")
        raw = sqlite3.connect(path)
        row = raw.execute("SELECT status, payload, blob FROM outbox").fetchone()
        raw.close()
        assert row == (FAILED, "", None)
    finally:
        await store.close()
    assert secrets_in(path, *PERSONAL, "7Q4M", BADGE_PNG) == []


def _version_9_database(path: Path) -> None:
    """A database as the release before the data-key columns left it (its own SQL and the
    rows its code wrote): names in clear, queued messages with their captions and badges."""
    raw = sqlite3.connect(path, isolation_level=None)
    raw.execute("PRAGMA journal_mode=WAL")
    for number in range(1, 10):
        raw.executescript(
            f"BEGIN;\n{MIGRATIONS[number]}\nPRAGMA user_version = {number};\nCOMMIT;"
        )
    ts = NOW.isoformat()
    raw.execute(
        "INSERT INTO visitors (id, nik_hash, nik_enc, name, organisation, phone, created_at,"
        " updated_at) VALUES (1, ?, ?, ?, ?, ?, ?, ?)",
        (
            CIPHER.nik_hash(DRAFT.nik),
            CIPHER.encrypt_text(DRAFT.nik),
            DRAFT.name,
            DRAFT.organisation,
            DRAFT.phone,
            ts,
            ts,
        ),
    )
    raw.execute(
        "INSERT INTO visits (id, visitor_id, status, purpose, duration_minutes, equipment,"
        " ktp_file_id, officer_id, started_at, submitted_at, deny_reason, assignment_letter)"
        " VALUES (1, 1, 'denied', 'Audit', 30, '', 'AgACAgFileId', 1001, ?, ?, ?, ?)",
        (ts, ts, f"a.n. {DRAFT.name}", LETTER),
    )
    rows = [
        ("badge_png:1:1001", "photo", PENDING, {"caption": BADGE_CAPTION}, BADGE_PNG),
        ("approved:1:1001", "text", FAILED, {"text": f"{DRAFT.name} disetujui"}, None),
        ("visitor_waiting:1:3001", "text", SENT, {}, None),
        ("card_update:1:2001", "card_update", PENDING, {}, None),
    ]
    for key, kind, status, payload, blob in rows:
        raw.execute(
            "INSERT INTO outbox (key, kind, chat_id, visit_id, payload, blob, status,"
            " created_at) VALUES (?, ?, 1001, 1, ?, ?, ?, 0)",
            (key, kind, json.dumps(payload), blob, status),
        )
    raw.close()
    assert secrets_in(path, DRAFT.name, BADGE_CAPTION, BADGE_PNG)  # the old file has them


async def test_a_database_from_before_is_encrypted_at_open(tmp_path: Path) -> None:
    path = tmp_path / "v9.sqlite3"
    _version_9_database(path)
    store = await Storage.open(path, CIPHER, AUDIT_KEY)
    try:
        visit = await store.visits.get(1)
        assert visit is not None
        assert (visit.name, visit.organisation, visit.phone) == (
            DRAFT.name,
            DRAFT.organisation,
            DRAFT.phone,
        )
        assert (visit.deny_reason, visit.assignment_letter, visit.ktp_file_id) == (
            f"a.n. {DRAFT.name}",
            LETTER,
            "AgACAgFileId",
        )
        heads = {h.key: h for h in await store.outbox.heads()}
        assert heads["badge_png:1:1001"].payload == {"caption": BADGE_CAPTION}
        assert heads["badge_png:1:1001"].blob == BADGE_PNG
    finally:
        await store.close()
    assert secrets_in(path, *PERSONAL, "AgACAgFileId", BADGE_CAPTION, BADGE_PNG) == []
    raw = sqlite3.connect(path)
    stored = dict(raw.execute("SELECT key, payload FROM outbox").fetchall())
    tables = {r[0] for r in raw.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    name_cell = raw.execute("SELECT name FROM visitors").fetchone()[0]
    raw.close()
    assert stored["approved:1:1001"] == "" and stored["visitor_waiting:1:3001"] == ""
    assert stored["card_update:1:2001"] == ""
    assert "data_key_backfill" not in tables
    # Opened again: nothing is encrypted twice.
    again = await Storage.open(path, CIPHER, AUDIT_KEY)
    try:
        assert (await again.visits.get(1)).name == DRAFT.name  # type: ignore[union-attr]
    finally:
        await again.close()
    raw = sqlite3.connect(path)
    assert raw.execute("SELECT name FROM visitors").fetchone()[0] == name_cell
    raw.close()


@pytest.mark.parametrize("status", [PENDING, FAILED])
async def test_forgetting_a_visit_clears_its_undelivered_messages(
    tmp_path: Path, status: str
) -> None:
    """Erasure and the retention purge clear what the outbox still holds about the visit;
    an edit rendered at send time (an approval card's update) stays queued."""
    path = tmp_path / "t.sqlite3"
    store = await Storage.open(path, CIPHER, AUDIT_KEY)
    try:
        visit = await store.visits.submit(DRAFT, 1001, NOW)
        approved = await approve(store, visit, 2001)
        assert approved is not None
        items = [
            OutboxItem(
                "badge_png:{visit}:1001", "photo", 1001, payload={"caption": "x"}, blob=BADGE_PNG
            ),
            OutboxItem("card_update:{visit}:2001", "card_update", 2001),
        ]
        change = lifecycle.enter(approved, 3001, NOW)
        await store.visits.apply(change, items)
        (badge,) = [h for h in await store.outbox.heads() if h.key.startswith("badge")]
        if status == FAILED:
            await store.outbox.mark_failed(badge.id, "Bad Request: chat not found")
        done = await store.privacy.forget(NOW, "privacy_erase", visits=[visit.id])
        assert done.messages_scrubbed == (1 if status == PENDING else 0)
        raw = sqlite3.connect(path)
        rows = dict(
            (key, (st, payload, blob))
            for key, st, payload, blob in raw.execute(
                "SELECT key, status, payload, blob FROM outbox"
            )
        )
        raw.close()
        assert rows[f"badge_png:{visit.id}:1001"] == (FAILED, "", None)
        assert rows[f"card_update:{visit.id}:2001"][0] == PENDING
    finally:
        await store.close()
    assert secrets_in(path, *PERSONAL, BADGE_PNG) == []
