"""Upgrades: a database from every earlier schema version, with data in every table,
migrates to the current one and loses nothing; a newer database is refused untouched."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from bot.core.roles import mask_of, roles_named
from storage.crypto import Cipher
from storage.db import Storage
from storage.migrations import HEAD, MIGRATIONS, SchemaTooNew
from tests.conftest import AUDIT_KEY, KEY
from tests.fixtures import schema_versions

CIPHER = Cipher(KEY)


def _expected(table: str, column: str, stored: Any, row: dict[str, Any]) -> Any:
    """What a value stored by an earlier release must read as now (the known conversions)."""
    if (table, column) == ("visitors", "nik"):  # migration 3 renamed and encrypted it
        return ("nik_hash", CIPHER.nik_hash(stored))
    if column == "nik_hash":  # visitors' and the watchlist's: re-indexed under the data key
        return ("nik_hash", CIPHER.nik_hash(CIPHER.decrypt_text(row["nik_enc"])))
    if column == "roles" and isinstance(stored, str):  # migration 7: names to masks
        return ("roles", mask_of(roles_named(stored.split(","))))
    return (column, stored)


@pytest.mark.parametrize("version", sorted(MIGRATIONS))
async def test_every_row_of_every_earlier_version_survives_the_upgrade(
    tmp_path: Path, version: int
) -> None:
    path = tmp_path / f"v{version}.sqlite3"
    inserted = schema_versions.build(path, version, CIPHER)
    assert sum(len(rows) for rows in inserted.values()) >= 2 * len(inserted) > 0
    storage = await Storage.open(path, CIPHER, AUDIT_KEY)
    try:
        # The code reads what the old release stored (the NIK decrypted, found again).
        if "visitors" in inserted and "visits" in inserted:
            visit = await storage.visits.get(1)
            assert visit is not None and visit.nik == schema_versions.NIKS[0]
            found = await storage.visits.find_visitor(schema_versions.NIKS[1])
            assert found is not None and found.nik == schema_versions.NIKS[1]
    finally:
        await storage.close()
    raw = sqlite3.connect(path)
    raw.row_factory = sqlite3.Row
    assert raw.execute("PRAGMA user_version").fetchone()[0] == HEAD
    for table, rows in inserted.items():
        now = {r["_n"]: dict(r) for r in raw.execute(f"SELECT rowid AS _n, * FROM {table}")}
        for n, old in enumerate(rows, start=1):
            assert n in now, f"{table} row {n} of version {version} is gone"
            for column, stored in old.items():
                if schema_versions.sealed_later(table, column, version):
                    # Plaintext then, encrypted by the upgrade: the same value, sealed.
                    sealed = now[n][column]
                    readable = (
                        CIPHER.decrypt(sealed)
                        if isinstance(sealed, bytes)
                        else CIPHER.unseal(sealed)
                    )
                    assert readable == stored, (version, table, column)
                    continue
                name, expected = _expected(table, column, stored, now[n])
                assert now[n][name] == expected, (version, table, column)
    raw.close()


async def test_a_database_newer_than_the_program_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "newer.sqlite3"
    schema_versions.build(path, HEAD, CIPHER)
    raw = sqlite3.connect(path)
    raw.execute(f"PRAGMA user_version = {HEAD + 1}")
    raw.close()
    before = path.read_bytes()
    with pytest.raises(SchemaTooNew, match=f"schema version {HEAD + 1}, newer than"):
        await Storage.open(path, CIPHER, AUDIT_KEY)
    assert path.read_bytes() == before
