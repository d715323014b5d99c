"""The data key in storage: the check value, the NIK index keyed from the data key, and a
crash-safe rotation over every encrypted column and file (storage/keys.py)."""

from __future__ import annotations

import hashlib
import hmac
import sqlite3
from dataclasses import replace
from pathlib import Path

import pytest

from storage import keys
from storage.crypto import Cipher, InvalidToken, generate_key
from storage.db import Storage
from storage.keys import WrongKey
from tests.conftest import AUDIT_KEY, KEY, SECRET
from tests.fixtures import schema_versions
from tests.storage.test_storage import DRAFT, NOW

NEW_KEY = generate_key().encode()
OTHER = replace(DRAFT, nik="3508010102850001", name="Bayu Aji")


def _old_nik_hash(nik: str) -> str:
    """The lookup hash as releases before the data-key index computed it (signing secret)."""
    key = hmac.new(SECRET, b"akses-ruang-server/nik-lookup/v1", hashlib.sha256).digest()
    return hmac.new(key, nik.encode(), hashlib.sha256).hexdigest()


async def test_the_key_check_value_is_recorded_and_names_no_key(tmp_path: Path) -> None:
    path = tmp_path / "k.sqlite3"
    storage = await Storage.open(path, Cipher(KEY), AUDIT_KEY)
    await storage.close()
    raw = sqlite3.connect(path)
    (check,) = raw.execute("SELECT value FROM meta WHERE name = 'key_check'").fetchone()
    raw.close()
    assert check == Cipher(KEY).key_check and len(check) == 16
    assert KEY.decode() not in check and check != Cipher(NEW_KEY).key_check


async def test_a_database_from_before_the_check_value_is_checked_by_its_data(
    tmp_path: Path,
) -> None:
    """No key_check yet (an older release): one encrypted value decides, then it is kept."""
    path = tmp_path / "old.sqlite3"
    schema_versions.build(path, 9, Cipher(KEY))
    with pytest.raises(WrongKey):
        await Storage.open(path, Cipher(NEW_KEY), AUDIT_KEY)
    storage = await Storage.open(path, Cipher(KEY), AUDIT_KEY)
    await storage.close()
    with pytest.raises(WrongKey):  # now refused by the recorded check value
        await Storage.open(path, Cipher(NEW_KEY), AUDIT_KEY)


async def test_returning_visitors_survive_a_database_indexed_by_the_signing_secret(
    tmp_path: Path,
) -> None:
    """The old index was keyed by the badge signing secret; after a change of that secret
    one person had two rows. Re-indexing at open keys it by the data key and merges them."""
    path = tmp_path / "old.sqlite3"
    schema_versions.build(path, 9, Cipher(KEY))
    raw = sqlite3.connect(path)
    raw.execute("UPDATE visitors SET nik_hash = ? WHERE id = 1", (_old_nik_hash(DRAFT.nik),))
    raw.execute(  # the same person registered again after a secret change
        "INSERT INTO visitors (id, nik_hash, nik_enc, name, organisation, phone, created_at,"
        " updated_at) VALUES (3, 'other-secret-hash', ?, 'Ayu L.', 'PT Baru', '0813', ?, ?)",
        (Cipher(KEY).encrypt_text(DRAFT.nik), NOW.isoformat(), "2026-11-30T00:00:00+00:00"),
    )
    raw.execute("UPDATE visits SET visitor_id = 3 WHERE id = 2")
    raw.commit()
    raw.close()
    storage = await Storage.open(path, Cipher(KEY), AUDIT_KEY)
    try:
        found = await storage.visits.find_visitor(DRAFT.nik)
        assert found is not None and found.name == "Ayu L."  # the latest details
        history = await storage.reports.history_by_nik(DRAFT.nik)
        assert sorted(v.id for v in history) == [1, 2]  # both visits, one person
    finally:
        await storage.close()


async def test_rotation_reencrypts_every_listed_column_and_file(tmp_path: Path) -> None:
    path = tmp_path / "data" / "akses.sqlite3"
    storage = await Storage.open(path, Cipher(KEY), AUDIT_KEY)
    visit = await storage.visits.submit(DRAFT, 1001, NOW)
    await storage.visits.submit(OTHER, 1001, NOW)
    await storage.conversations.set_user_data(1001, {"draft": {"nik": DRAFT.nik}})
    keys.write_private(path.parent / "ktp" / f"{visit.id}.ktp", Cipher(KEY).encrypt(b"jpeg"))
    await storage.close()

    both = Cipher(NEW_KEY, KEY)
    storage = await Storage.open(path, both, AUDIT_KEY)
    counts = await keys.rotate_database(storage.database)
    await storage.close()
    # Every listed column is gone through (storage/crypto.py's DATA_KEY_COLUMNS and the
    # intake's payloads); the two visitors' NIK, name, organisation and phone were re-sealed.
    assert set(counts) == {f"{e.table}.{e.column}" for e in keys.ENCRYPTED}
    for column in ("nik_enc", "name", "organisation", "phone"):
        assert counts[f"visitors.{column}"] == 2
    assert counts["user_state.data"] == 1
    assert keys.rotate_files(path.parent, both) == 1

    new = Cipher(NEW_KEY)
    raw = sqlite3.connect(path)
    for item in keys.ENCRYPTED:
        for (token,) in raw.execute(f"SELECT {item.column} FROM {item.table}"):
            if not token:
                continue  # an empty cell holds no value (storage/crypto.py)
            data = token if isinstance(token, bytes) else token.encode()
            new.decrypt(data)
            with pytest.raises(InvalidToken):
                Cipher(KEY).decrypt(data)
    raw.close()
    assert new.decrypt((path.parent / "ktp" / f"{visit.id}.ktp").read_bytes()) == b"jpeg"
    with pytest.raises(WrongKey):
        await Storage.open(path, Cipher(KEY), AUDIT_KEY)
    storage = await Storage.open(path, new, AUDIT_KEY)
    try:
        found = await storage.visits.find_visitor(DRAFT.nik)  # the index follows the key
        assert found is not None and found.nik == DRAFT.nik
        assert (await storage.conversations.user_data())[1001]["draft"]["nik"] == DRAFT.nik
    finally:
        await storage.close()


async def test_a_rotation_stopped_half_way_is_finished_by_running_it_again(
    tmp_path: Path,
) -> None:
    """The database is done (one transaction) and one KTP file of two: the rerun, with both
    keys accepted, finishes; a file is always whole under one key or the other."""
    data = tmp_path / "data"
    storage = await Storage.open(data / "akses.sqlite3", Cipher(KEY), AUDIT_KEY)
    await storage.visits.submit(DRAFT, 1001, NOW)
    await storage.close()
    for n in (1, 2):
        keys.write_private(data / "ktp" / f"{n}.ktp", Cipher(KEY).encrypt(b"photo %d" % n))
    both = Cipher(NEW_KEY, KEY)
    storage = await Storage.open(data / "akses.sqlite3", both, AUDIT_KEY)
    await keys.rotate_database(storage.database)
    await storage.close()
    first = data / "ktp" / "1.ktp"
    keys.write_private(first, both.rotate(first.read_bytes()))  # then the crash

    storage = await Storage.open(data / "akses.sqlite3", both, AUDIT_KEY)  # the rerun
    await keys.rotate_database(storage.database)
    await storage.close()
    assert keys.rotate_files(data, both) == 2
    new = Cipher(NEW_KEY)
    assert [new.decrypt((data / "ktp" / f"{n}.ktp").read_bytes()) for n in (1, 2)] == [
        b"photo 1",
        b"photo 2",
    ]
    assert not list((data / "ktp").glob("*.tmp"))
    with pytest.raises(keys.UnreadableFile):  # a file under neither key is named
        keys.write_private(data / "ktp" / "3.ktp", Cipher(generate_key().encode()).encrypt(b"x"))
        keys.rotate_files(data, both)
