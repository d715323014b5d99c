"""Ordered schema migrations, tracked with PRAGMA user_version.

Each step is numbered explicitly and brings the database from user_version N-1 to N;
add a new number, never edit a step that has shipped. Steps live beside the feature
that needs them (storage/*.py registers them here through ``MIGRATIONS``).
"""

from __future__ import annotations

import aiosqlite

from storage.deadlines import MIGRATION as DEADLINES_MIGRATION
from storage.outbox import MIGRATION as OUTBOX_MIGRATION
from storage.persistence import MIGRATION as PERSISTENCE_MIGRATION
from storage.staff import MIGRATION as STAFF_MIGRATION

MIGRATIONS: dict[int, str] = {
    # 1: the access log.
    1: """
    CREATE TABLE visitors (
        id           INTEGER PRIMARY KEY,
        nik          TEXT NOT NULL UNIQUE,
        name         TEXT NOT NULL,
        organisation TEXT NOT NULL,
        phone        TEXT NOT NULL,
        created_at   TEXT NOT NULL,
        updated_at   TEXT NOT NULL
    );
    CREATE TABLE visits (
        id               INTEGER PRIMARY KEY,
        visitor_id       INTEGER NOT NULL REFERENCES visitors(id),
        status           TEXT NOT NULL,
        purpose          TEXT NOT NULL,
        duration_minutes INTEGER NOT NULL,
        equipment        TEXT NOT NULL DEFAULT '',
        ktp_file_id      TEXT NOT NULL,
        officer_id       INTEGER NOT NULL,
        started_at       TEXT NOT NULL,
        submitted_at     TEXT NOT NULL,
        decided_at       TEXT,
        decided_by       INTEGER,
        deny_reason      TEXT,
        valid_until      TEXT,
        entered_at       TEXT,
        entry_escort_id  INTEGER,
        exited_at        TEXT,
        exit_escort_id   INTEGER
    );
    CREATE INDEX visits_status ON visits(status);
    CREATE INDEX visits_submitted ON visits(submitted_at);
    CREATE TABLE badges (
        visit_id   INTEGER PRIMARY KEY REFERENCES visits(id),
        token_hash TEXT NOT NULL UNIQUE,
        code_hash  TEXT NOT NULL UNIQUE,
        issued_at  TEXT NOT NULL,
        expires_at TEXT NOT NULL,
        revoked_at TEXT
    );
    CREATE TABLE approval_cards (
        visit_id   INTEGER NOT NULL REFERENCES visits(id),
        chat_id    INTEGER NOT NULL,
        message_id INTEGER NOT NULL,
        PRIMARY KEY (visit_id, chat_id)
    );
    CREATE TABLE audit_events (
        id          INTEGER PRIMARY KEY,
        at          TEXT NOT NULL,
        actor_id    INTEGER,
        action      TEXT NOT NULL,
        visit_id    INTEGER,
        from_status TEXT,
        to_status   TEXT,
        detail      TEXT NOT NULL DEFAULT '',
        prev_hash   TEXT NOT NULL,
        hash        TEXT NOT NULL
    );
    CREATE INDEX audit_visit ON audit_events(visit_id);
    -- The audit log is append-only: the database itself refuses edits and deletes.
    CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit_events
        BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END;
    CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit_events
        BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END;
    """,
    # 2: the SOP's step times that the first schema did not keep.
    2: """
    ALTER TABLE visits ADD COLUMN form_done_at TEXT;
    ALTER TABLE visits ADD COLUMN handover_at TEXT;
    """,
    # 3: citizens' data at rest (UU 27/2022). The NIK is kept only as a keyed hash (lookups)
    # and Fernet ciphertext; rows from before hold the plain NIK in nik_hash until
    # Storage.open encrypts them (SQL cannot). KTP photos live in encrypted files.
    3: """
    ALTER TABLE visitors RENAME COLUMN nik TO nik_hash;
    ALTER TABLE visitors ADD COLUMN nik_enc TEXT;
    ALTER TABLE visitors ADD COLUMN anonymized_at TEXT;
    ALTER TABLE visits ADD COLUMN ktp_path TEXT;
    ALTER TABLE visits ADD COLUMN ktp_stored_at TEXT;
    ALTER TABLE visits ADD COLUMN ktp_failed_at TEXT;
    ALTER TABLE visits ADD COLUMN ktp_deleted_at TEXT;
    ALTER TABLE visits ADD COLUMN anonymized_at TEXT;
    """,
    # 4: the outbox and conversation state.
    4: OUTBOX_MIGRATION + PERSISTENCE_MIGRATION,
    # 5: what the deadline job has sent (reminders, escalations, overstay alerts, reviews).
    5: DEADLINES_MIGRATION,
    # 6: staff administration: staff, invitations, delegations (storage/staff.py).
    6: STAFF_MIGRATION,
}


async def migrate(db: aiosqlite.Connection) -> int:
    """Apply pending migrations, each in its own transaction; return the new version."""
    async with db.execute("PRAGMA user_version") as cur:
        row = await cur.fetchone()
    version = int(row[0]) if row else 0
    if version > max(MIGRATIONS):
        raise RuntimeError(
            f"database schema {version} is newer than this program knows ({max(MIGRATIONS)})"
        )
    for number in sorted(n for n in MIGRATIONS if n > version):
        # executescript commits first, so BEGIN/COMMIT make the step atomic.
        script = MIGRATIONS[number]
        await db.executescript(f"BEGIN;\n{script}\nPRAGMA user_version = {number};\nCOMMIT;")
        version = number
    return version
