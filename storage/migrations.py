"""Ordered schema migrations, tracked with PRAGMA user_version.

Each step is numbered explicitly and brings the database from user_version N-1 to N;
add a new number, never edit a step that has shipped. Every step's SQL is here, frozen:
a step is the schema as it shipped, not as the code that reads it looks today.
"""

from __future__ import annotations

import aiosqlite

from storage.base import fetch_one

_OUTBOX = """
CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY,
    key             TEXT NOT NULL UNIQUE,
    kind            TEXT NOT NULL,
    chat_id         INTEGER NOT NULL,
    visit_id        INTEGER,
    payload         TEXT NOT NULL DEFAULT '{}',
    blob            BLOB,
    status          TEXT NOT NULL DEFAULT 'pending',
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at REAL NOT NULL DEFAULT 0,
    created_at      REAL NOT NULL,
    sent_at         REAL,
    message_id      INTEGER,
    last_error      TEXT
);
CREATE INDEX outbox_pending ON outbox(status, id);
"""

_CONVERSATIONS = """
CREATE TABLE conversation_state (
    name  TEXT NOT NULL,
    key   TEXT NOT NULL,
    state INTEGER NOT NULL,
    PRIMARY KEY (name, key)
);
CREATE TABLE user_state (
    user_id INTEGER PRIMARY KEY,
    data    TEXT NOT NULL
);
"""

_DEADLINES = """
ALTER TABLE visits ADD COLUMN reminded_at TEXT;
ALTER TABLE visits ADD COLUMN escalated_at TEXT;
ALTER TABLE visits ADD COLUMN last_overstay_alert_at TEXT;
ALTER TABLE visits ADD COLUMN overstay_alerts INTEGER NOT NULL DEFAULT 0;
CREATE TABLE daily_reviews (
    day     TEXT PRIMARY KEY,
    sent_at TEXT NOT NULL
);
"""

_STAFF = """
CREATE TABLE staff (
    user_id  INTEGER PRIMARY KEY,
    name     TEXT NOT NULL,
    roles    TEXT NOT NULL,           -- comma-separated, e.g. 'approver,officer'
    active   INTEGER NOT NULL DEFAULT 1,
    added_by INTEGER,
    added_at TEXT NOT NULL
);
CREATE TABLE staff_invitations (
    id           INTEGER PRIMARY KEY,
    token_hash   TEXT NOT NULL UNIQUE,
    roles        TEXT NOT NULL,
    created_by   INTEGER NOT NULL,
    created_at   TEXT NOT NULL,
    expires_at   TEXT NOT NULL,
    claimed_by   INTEGER,             -- who opened the link (once; the link dies then)
    claimed_name TEXT,
    claimed_at   TEXT,
    decided_at   TEXT,                -- the admin's confirm or refusal
    accepted     INTEGER
);
CREATE TABLE delegations (
    id           INTEGER PRIMARY KEY,
    approver_id  INTEGER NOT NULL,
    delegate_id  INTEGER NOT NULL,
    starts_at    TEXT NOT NULL,
    ends_at      TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    revoked_at   TEXT
);
CREATE INDEX delegations_delegate ON delegations(delegate_id, ends_at);
ALTER TABLE visits ADD COLUMN decided_for INTEGER;
"""

# Role sets as sums of bot.core.roles' explicit bits (officer 1, approver 2, escort 4,
# admin 8), written out because a shipped step never changes when the code does.
_ROLE_MASKS = """
ALTER TABLE staff ADD COLUMN role_bits INTEGER NOT NULL DEFAULT 0;
UPDATE staff SET role_bits =
      (CASE WHEN instr(',' || roles || ',', ',officer,') > 0 THEN 1 ELSE 0 END)
    + (CASE WHEN instr(',' || roles || ',', ',approver,') > 0 THEN 2 ELSE 0 END)
    + (CASE WHEN instr(',' || roles || ',', ',escort,') > 0 THEN 4 ELSE 0 END)
    + (CASE WHEN instr(',' || roles || ',', ',admin,') > 0 THEN 8 ELSE 0 END);
ALTER TABLE staff DROP COLUMN roles;
ALTER TABLE staff RENAME COLUMN role_bits TO roles;
ALTER TABLE staff_invitations ADD COLUMN role_bits INTEGER NOT NULL DEFAULT 0;
UPDATE staff_invitations SET role_bits =
      (CASE WHEN instr(',' || roles || ',', ',officer,') > 0 THEN 1 ELSE 0 END)
    + (CASE WHEN instr(',' || roles || ',', ',approver,') > 0 THEN 2 ELSE 0 END)
    + (CASE WHEN instr(',' || roles || ',', ',escort,') > 0 THEN 4 ELSE 0 END)
    + (CASE WHEN instr(',' || roles || ',', ',admin,') > 0 THEN 8 ELSE 0 END);
ALTER TABLE staff_invitations DROP COLUMN roles;
ALTER TABLE staff_invitations RENAME COLUMN role_bits TO roles;
"""

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
    4: _OUTBOX + _CONVERSATIONS,
    # 5: what the deadline job has sent (reminders, escalations, overstay alerts, reviews).
    5: _DEADLINES,
    # 6: staff administration: staff, invitations, delegations (storage/staff.py).
    6: _STAFF,
    # 7: roles as integer masks of stable bits instead of comma-separated names.
    7: _ROLE_MASKS,
    # 8: the officer's cancel (/batalkan): who withdrew a request, when, and why.
    8: """
    ALTER TABLE visits ADD COLUMN cancelled_at TEXT;
    ALTER TABLE visits ADD COLUMN cancelled_by INTEGER;
    ALTER TABLE visits ADD COLUMN cancel_reason TEXT;
    """,
    # 9: the visitor's assignment letter (surat tugas) number; visits before it have none.
    9: "ALTER TABLE visits ADD COLUMN assignment_letter TEXT NOT NULL DEFAULT '';",
    # 10: when a staff member first wrote to the bot; until then Telegram refuses to deliver
    # to them ("chat not found"), and /staf says so. Staff who already acted (an audit event)
    # or received a message (a sent outbox row) have opened the bot before.
    10: """
    ALTER TABLE staff ADD COLUMN opened_at TEXT;
    UPDATE staff SET opened_at = COALESCE(
        (SELECT MIN(at) FROM audit_events WHERE actor_id = staff.user_id),
        (SELECT strftime('%Y-%m-%dT%H:%M:%S+00:00', MIN(sent_at), 'unixepoch') FROM outbox
         WHERE chat_id = staff.user_id AND status = 'sent')
    );
    """,
    # 11: the bot's heartbeats (the last update handled), read by `python -m bot status`.
    11: "CREATE TABLE heartbeats (name TEXT PRIMARY KEY, at TEXT NOT NULL);",
    # 12: insider controls (issue 10): door nonces (storage/door.py); the role an outbox
    # message is meant for, checked when it is sent (NULL: queued before, sent as before).
    12: """
    CREATE TABLE door_nonces (
        id          INTEGER PRIMARY KEY,
        nonce_hash  TEXT NOT NULL,
        visit_id    INTEGER NOT NULL,
        escort_id   INTEGER NOT NULL,
        action      TEXT NOT NULL,
        via         TEXT NOT NULL,
        created_at  TEXT NOT NULL,
        expires_at  TEXT NOT NULL,
        used_at     TEXT
    );
    CREATE INDEX door_nonces_visit ON door_nonces(visit_id, escort_id, action);
    ALTER TABLE outbox ADD COLUMN for_role TEXT;
    """,
    # 13: the durable update intake (storage/updates.py): each update Telegram hands over,
    # stored (encrypted) before it is confirmed, until it has been handled.
    13: """
    CREATE TABLE incoming_updates (
        update_id   INTEGER PRIMARY KEY,
        payload     TEXT,
        received_at TEXT NOT NULL,
        attempts    INTEGER NOT NULL DEFAULT 0,
        done_at     TEXT,
        failed_at   TEXT
    );
    CREATE INDEX incoming_updates_open ON incoming_updates(done_at, failed_at, update_id);
    """,
    # 14: visitors' names, organisations and phones, the assignment letter, the KTP file id,
    # deny and cancel reasons and queued messages are encrypted with the data key (storage/
    # crypto.py DATA_KEY_COLUMNS). SQL cannot encrypt: this table marks the database for
    # Storage.open (storage/at_rest.py), which encrypts the rows and then drops it.
    14: "CREATE TABLE data_key_backfill (since TEXT NOT NULL);",
    # 15: facts about the database itself (storage/keys.py): the data key's check value, so
    # a wrong key is refused at open, and which NIK index the nik_hash column holds.
    15: """
    CREATE TABLE meta (
        name  TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );
    """,
    # 16: the watchlist (storage/watchlist.py): a barred NIK as the keyed lookup hash (and
    # encrypted, so a key rotation can recompute the hash), the reason encrypted, who barred
    # it and when, who lifted it and when. One live entry per NIK. A request whose NIK was on
    # the list when it was submitted keeps the mark (visits.watchlisted).
    16: """
    CREATE TABLE watchlist (
        id         INTEGER PRIMARY KEY,
        nik_hash   TEXT NOT NULL,
        nik_enc    TEXT NOT NULL,
        reason     TEXT NOT NULL,
        blocked_by INTEGER NOT NULL,
        blocked_at TEXT NOT NULL,
        lifted_by  INTEGER,
        lifted_at  TEXT
    );
    CREATE UNIQUE INDEX watchlist_live ON watchlist(nik_hash) WHERE lifted_at IS NULL;
    ALTER TABLE visits ADD COLUMN watchlisted INTEGER NOT NULL DEFAULT 0;
    """,
    # 17 (issue 14, parts 5 and 6): the evacuation roll call (storage/rollcalls.py): when it
    # began and ended and who started it, and per visitor inside at its start the escort, the
    # entry time and when and by whom they were marked safe; at most one open at a time. And
    # the time the officer confirmed the visitor agreed to the server-room rules.
    17: """
    CREATE TABLE roll_calls (
        id          INTEGER PRIMARY KEY,
        started_at  TEXT NOT NULL,
        started_by  INTEGER NOT NULL,
        ended_at    TEXT
    );
    CREATE UNIQUE INDEX roll_calls_one_open ON roll_calls((1)) WHERE ended_at IS NULL;
    CREATE TABLE roll_call_entries (
        roll_call_id INTEGER NOT NULL REFERENCES roll_calls(id),
        visit_id     INTEGER NOT NULL,
        escort_id    INTEGER,
        entered_at   TEXT,
        safe_at      TEXT,
        marked_by    INTEGER,
        PRIMARY KEY (roll_call_id, visit_id)
    );
    CREATE INDEX roll_call_entries_visit ON roll_call_entries(visit_id);
    ALTER TABLE visits ADD COLUMN rules_agreed_at TEXT;
    """,
    # 18: visits planned ahead (/jadwal, issue 14): the day and window (office time; NULL for
    # a walk-in), on the day when the visitor was opened at the desk and the KTP checked, and
    # when the day-before reminder went out (bot/flows/planning.py).
    18: """
    ALTER TABLE visits ADD COLUMN planned_date TEXT;
    ALTER TABLE visits ADD COLUMN planned_window TEXT;
    ALTER TABLE visits ADD COLUMN arrived_at TEXT;
    ALTER TABLE visits ADD COLUMN checked_at TEXT;
    ALTER TABLE visits ADD COLUMN checked_by INTEGER;
    ALTER TABLE visits ADD COLUMN plan_reminded_at TEXT;
    """,
    # 19: the escort's equipment check at KELUAR when equipment was listed ('ok' or 'diff',
    # NULL otherwise) and the note of a discrepancy, encrypted with the data key (storage/
    # crypto.py DATA_KEY_COLUMNS; new, so no row holds plaintext).
    19: """
    ALTER TABLE visits ADD COLUMN equipment_check TEXT;
    ALTER TABLE visits ADD COLUMN equipment_note TEXT;
    """,
    # 20: self-registration links (issue 14.1, bot/core/guests.py): only the keyed hash of
    # the secret, the officer, the planned day and window, and the link's life; nothing of
    # the visitor (no Telegram id). A visit filled in by its visitor is marked.
    20: """
    CREATE TABLE guest_links (
        id             INTEGER PRIMARY KEY,
        token_hash     TEXT NOT NULL UNIQUE,
        officer_id     INTEGER NOT NULL,
        planned_date   TEXT NOT NULL,
        planned_window TEXT NOT NULL,
        created_at     TEXT NOT NULL,
        expires_at     TEXT NOT NULL,
        used_at        TEXT,
        visit_id       INTEGER REFERENCES visits(id)
    );
    CREATE INDEX guest_links_officer ON guest_links(officer_id, created_at);
    ALTER TABLE visits ADD COLUMN self_registered INTEGER NOT NULL DEFAULT 0;
    """,
    # 21: the form's own key, made when its summary is first shown: a submit handled again
    # after a crash (its update replayed, bot/app/intake.py) finds the request it stored.
    21: """
    ALTER TABLE visits ADD COLUMN submission_key TEXT;
    CREATE UNIQUE INDEX visits_submission_key ON visits(submission_key)
        WHERE submission_key IS NOT NULL;
    """,
    # 22: the escorts' duty roster (/piket, storage/duty.py): one row per shift, kept as
    # history (who was on duty when something happened). ``until`` is the local midnight
    # after the start, when the shift lapses by itself; ``ended_at`` the escort's own "off"
    # (or the escort role lost), NULL while open. At most one open shift per person.
    22: """
    CREATE TABLE escort_duty (
        id          INTEGER PRIMARY KEY,
        user_id     INTEGER NOT NULL,
        started_at  TEXT NOT NULL,
        until       TEXT NOT NULL,
        ended_at    TEXT
    );
    CREATE UNIQUE INDEX escort_duty_open ON escort_duty(user_id) WHERE ended_at IS NULL;
    CREATE INDEX escort_duty_started ON escort_duty(started_at);
    """,
    23: """
    CREATE TABLE ktp_views (
        chat_id    INTEGER NOT NULL,
        message_id INTEGER NOT NULL,
        visit_id   INTEGER NOT NULL REFERENCES visits(id),
        PRIMARY KEY (chat_id, message_id)
    );
    CREATE INDEX ktp_views_visit ON ktp_views(visit_id);
    """,
    # 24: the visit's purpose and equipment, free text that may name people, are encrypted
    # with the data key too (storage/crypto.py DATA_KEY_COLUMNS). SQL cannot encrypt: this
    # row marks the database for Storage.open (storage/at_rest.py seal_visit_text), which
    # encrypts the rows and then deletes it.
    24: "INSERT OR REPLACE INTO meta (name, value) VALUES ('visit_text_backfill', '24');",
}


HEAD = max(MIGRATIONS)


class SchemaTooNew(Exception):
    """The database was written by a newer version of the bot; nothing here may touch it."""

    def __init__(self, version: int) -> None:
        super().__init__(
            f"the database has schema version {version}, newer than this program's {HEAD}:"
            " it was written by a newer version of the bot. Install that version (or newer);"
            " the database was not changed"
        )
        self.version = version


async def schema_version(db: aiosqlite.Connection) -> int:
    row = await fetch_one(db, "PRAGMA user_version")
    return int(row[0]) if row else 0


async def migrate(db: aiosqlite.Connection) -> int:
    """Apply pending migrations, each in its own transaction; return the new version.

    Raises SchemaTooNew, before any change, for a database newer than this program.
    """
    version = await schema_version(db)
    if version > HEAD:
        raise SchemaTooNew(version)
    for number in sorted(n for n in MIGRATIONS if n > version):
        # executescript commits first, so BEGIN/COMMIT make the step atomic.
        script = MIGRATIONS[number]
        await db.executescript(f"BEGIN;\n{script}\nPRAGMA user_version = {number};\nCOMMIT;")
        version = number
    return version
