"""The access log's XLSX writes no file on its way (docs/privacy.md): a temporary file holding
the log's rows (names, organisations, equipment, reasons) would leave them on the disk even
once deleted, and a worker killed mid-export would leave the file itself.

Each process that makes the workbook runs with an audit hook (a ``sitecustomize`` on its
PYTHONPATH, which the worker's trimmed environment keeps) recording every file it opens for
writing: the XLSX writer's process of /laporan (``load_with_xlsx``) and ``python -m bot
export --format xlsx``. Neither may open any, and the workbook still reads back as before.
"""

from __future__ import annotations

import asyncio
import io
import sys
import tempfile
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter

from bot.core import visits as lifecycle
from bot.reports.export import load_with_xlsx
from bot.reports.log import COLUMNS
from storage.db import Storage
from tests.conftest import AUDIT_KEY
from tests.storage.test_export_pipeline import PERIOD
from tests.storage.test_storage import CIPHER, DRAFT, NOW
from tests.system.test_export import VISITS
from tests.system.test_export import config_path as config_path  # the fixture

ROOT = Path(__file__).resolve().parents[2]
VISITOR = replace(
    DRAFT, nik="3508012303880003", name="Bagus Santoso", organisation="CV Mitra Data"
)

# Installed at the start of every Python process started with this folder on PYTHONPATH.
HOOK = """\
import os, sys

_record = open({record!r}, "a", buffering=1)


def _opened(event, args):
    if event != "open":
        return
    try:
        path, mode, flags = args
        if path is None or isinstance(path, int):  # an inherited descriptor, a pipe
            return
        if isinstance(mode, str):
            writes = any(c in mode for c in "wax+")
        else:
            writes = bool(flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT))
        if writes:
            _record.write(os.fsdecode(os.fspath(path)) + "\\n")
    except Exception:
        pass


sys.addaudithook(_opened)
"""


def watching(folder: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Python processes started from now on record the files they open for writing, in the
    returned file."""
    hooks = folder / "hooks"
    hooks.mkdir()
    record = folder / "opened.txt"
    record.touch()
    (hooks / "sitecustomize.py").write_text(HOOK.format(record=str(record)))
    monkeypatch.setenv("PYTHONPATH", str(hooks))
    return record


def written(record: Path) -> list[str]:
    """The files opened for writing, but the process's name (/proc/self/comm) and Python's
    own bytecode caches."""
    return [
        path
        for path in record.read_text().splitlines()
        if not path.startswith("/proc/") and "__pycache__" not in path
    ]


@pytest.fixture
async def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Storage]:
    # The bot's temporary folders (the worker's TMPDIR among them) go under a folder of the
    # test's own, which must be empty again afterwards.
    temp = tmp_path / "tmp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    monkeypatch.setenv("TMPDIR", str(temp))
    storage = await Storage.open(tmp_path / "t.sqlite3", CIPHER, AUDIT_KEY)
    yield storage
    await storage.close()


async def test_laporans_xlsx_writer_writes_no_file(
    store: Storage, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for minutes in range(3):
        await store.visits.submit(VISITOR, 1001, NOW + timedelta(minutes=minutes))
    denied = await store.visits.submit(DRAFT, 1001, NOW + timedelta(minutes=3))
    await store.visits.apply(lifecycle.deny(denied, 2001, NOW, "KTP tidak cocok"))
    record = watching(tmp_path, monkeypatch)

    log, xlsx = await load_with_xlsx(store, None, PERIOD, NOW)

    assert len(log.rows) == 4
    assert written(record) == []
    assert list((tmp_path / "tmp").iterdir()) == []
    book = load_workbook(io.BytesIO(xlsx))
    assert book.sheetnames == ["Log akses", "Ringkasan"]
    sheet = book["Log akses"]
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == f"A1:{get_column_letter(len(COLUMNS))}5"
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == tuple(log.titles)
    assert [row[3] for row in rows[1:]] == ["Bagus Santoso"] * 3 + ["Ayu Lestari"]
    assert "Ditolak: KTP tidak cocok" in rows[4]


async def test_export_command_writes_no_file_but_its_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, config_path: Path
) -> None:
    """``python -m bot export --format xlsx`` (bot/reports/xlsx.py, in the command's own
    process), the workbook to stdout; ``config_path``: tests/system/test_export.py's seeded
    month."""
    record = watching(tmp_path, monkeypatch)
    args = ["--from", "2026-11-01", "--to", "2026-11-30", "--format", "xlsx", "--out", "-"]
    command = await asyncio.create_subprocess_exec(
        *[sys.executable, "-m", "bot", "export", "--config", str(config_path), *args],
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        cwd=ROOT,
    )
    xlsx, errors = await asyncio.wait_for(command.communicate(), 120)
    assert command.returncode == 0, errors.decode()
    assert written(record) == []
    sheet = load_workbook(io.BytesIO(xlsx))["Log akses"]
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == f"A1:{get_column_letter(len(COLUMNS))}{VISITS + 1}"
    assert sheet.cell(2, 4).value == "Pengunjung 1"
