"""The export's pipeline (issue 13): the period's visits read in pages, the XLSX written by
a process of its own from each page (bot/reports/xlsx_process.py), on a real database and
the real worker. The file is the one made in the bot's process; a worker that fails or is
killed fails the export cleanly, and none is left running after an error or a cancel."""

from __future__ import annotations

import asyncio
import io
import os
import signal
import tempfile
import zipfile
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import pytest

from bot.core import visits as lifecycle
from bot.core.period import Period
from bot.reports.export import DEFAULT_TZ, load_access_log, load_with_xlsx, render
from bot.reports.xlsx_process import WorkbookFailed, XlsxProcess, xlsx_process
from storage.db import Storage
from tests.conftest import AUDIT_KEY
from tests.storage.test_rollcalls import inside, messages
from tests.storage.test_storage import CIPHER, DRAFT, NOW

PERIOD = Period(date(2026, 11, 27), date(2026, 11, 29))  # NOW is 28 Nov, 09:00 WIB


@pytest.fixture
async def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Storage]:
    # The worker's temporary folder goes under tmp_path: what is left there is this test's.
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    storage = await Storage.open(tmp_path / "t.sqlite3", CIPHER, AUDIT_KEY)
    yield storage
    await storage.close()


def leftovers(tmp_path: Path) -> list[str]:
    return [p.name for p in tmp_path.iterdir() if p.name.startswith("akses-xlsx-")]


def gone(book: XlsxProcess) -> bool:
    """Ended and reaped (no zombie)."""
    return book.returncode is not None and not Path(f"/proc/{book.pid}").exists()


async def visits(store: Storage) -> None:
    """Five requests, two of them at the same moment (a page may end between them), one
    visitor typing a formula as their name, a denial and a roll call."""
    tricky = replace(DRAFT, nik="3508015507900003", name='=HYPERLINK("http://x.test")')
    for minutes in (0, 1, 1):
        await store.visits.submit(
            tricky if minutes else DRAFT, 1001, NOW + timedelta(minutes=minutes)
        )
    denied = await store.visits.submit(DRAFT, 1001, NOW + timedelta(minutes=2))
    await store.visits.apply(lifecycle.deny(denied, 2001, NOW, "KTP tidak cocok"))
    a = await inside(store, 3001)
    await inside(store, 3002)
    roll, _ = await store.rollcalls.start(NOW, 3001, messages)
    await store.rollcalls.mark(roll.id, a, 3001, NOW + timedelta(minutes=4), messages)


def parts(xlsx: bytes) -> dict[str, bytes]:
    """The file's parts, but its creation time (docProps/core.xml)."""
    book = zipfile.ZipFile(io.BytesIO(xlsx))
    return {name: book.read(name) for name in book.namelist() if name != "docProps/core.xml"}


async def test_pages_are_the_period_oldest_first(store: Storage) -> None:
    await visits(store)
    start, end = PERIOD.bounds(DEFAULT_TZ)
    whole = await store.reports.visits_between(start, end)
    for size in (1, 2, 3, 100):
        pages = [page async for page in store.reports.visit_pages(start, end, size=size)]
        assert [v for page in pages for v in page] == whole
        assert all(len(page) <= size for page in pages)
    assert len(whole) == 6


async def test_the_workbook_from_its_process_is_the_one_made_in_the_bot(
    store: Storage, tmp_path: Path
) -> None:
    await visits(store)
    log, xlsx = await load_with_xlsx(store, None, PERIOD, NOW)
    alone = await load_access_log(store, None, PERIOD, NOW)
    assert log == alone and len(log.rows) == 6 and log.roll_calls
    made_here = parts(render(log, "xlsx"))
    assert parts(xlsx) == made_here
    assert "xl/worksheets/sheet3.xml" in made_here  # the roll calls' sheet
    assert b"'=HYPERLINK" in made_here["xl/sharedStrings.xml"]  # inert, as in the bot
    assert leftovers(tmp_path) == []


async def test_an_empty_period_is_an_empty_workbook(store: Storage) -> None:
    log, xlsx = await load_with_xlsx(store, None, PERIOD, NOW)
    assert log.rows == [] and parts(xlsx) == parts(render(log, "xlsx"))


async def test_a_failing_worker_fails_the_export_and_is_gone(
    store: Storage, tmp_path: Path
) -> None:
    await visits(store)
    log = await load_access_log(store, None, PERIOD, NOW)
    # A row with a cell more than the sheet has columns: the worker's writer refuses it.
    bad = replace(log.rows[0], details={**log.rows[0].details, "extra": "x"})
    with pytest.raises(WorkbookFailed, match="ValueError"):
        async with xlsx_process(log.titles) as book:
            await book.write([bad])
            await book.close(log)
    assert gone(book) and leftovers(tmp_path) == []


async def test_a_killed_worker_fails_the_export_and_is_gone(
    store: Storage, tmp_path: Path
) -> None:
    await visits(store)
    log = await load_access_log(store, None, PERIOD, NOW)
    with pytest.raises(WorkbookFailed, match="signal 9"):
        async with xlsx_process(log.titles) as book:
            await book.write(log.rows[:3])
            os.kill(book.pid, signal.SIGKILL)
            await book.write(log.rows[3:])
            await book.close(log)
    assert gone(book) and leftovers(tmp_path) == []


async def test_a_cancelled_export_leaves_no_worker(store: Storage, tmp_path: Path) -> None:
    await visits(store)
    log = await load_access_log(store, None, PERIOD, NOW)
    started: asyncio.Future[XlsxProcess] = asyncio.get_running_loop().create_future()

    async def export() -> None:
        async with xlsx_process(log.titles) as book:
            await book.write(log.rows)
            started.set_result(book)
            await asyncio.sleep(60)  # e.g. the bot stopping while the rows are read

    task = asyncio.create_task(export())
    book = await started
    assert not gone(book) and leftovers(tmp_path)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert gone(book) and leftovers(tmp_path) == []
