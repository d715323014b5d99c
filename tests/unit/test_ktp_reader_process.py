"""The KTP reader's own process (bot/ocr/process.py): started on demand, one photo at a
time, killed when a read is abandoned or crashes, replaced by a fresh one, stopped when
idle and at shutdown. Real worker processes with the real engine (tests/ktp_faults.py
only adds the crash and the hang on marked photos)."""

from __future__ import annotations

import asyncio
import json
import logging
import os
from datetime import date
from pathlib import Path

import pytest

from bot.ocr.process import NotRead, ReaderCrashed, ReaderProcess, ReaderUnavailable
from tests.ktp_faults import COMMAND, CRASH, HANG

FIXTURES = Path(__file__).parent.parent / "fixtures" / "ktp"
CARD = "ktp-4242-0004.jpg"
TRUTH = next(
    t
    for t in map(json.loads, (FIXTURES / "truth.jsonl").read_text().splitlines())
    if t["file"] == CARD
)
TODAY = date(2026, 11, 28)
PHOTO = (FIXTURES / CARD).read_bytes()


def running(pid: int) -> bool:
    """The process exists and has not ended (a zombie has ended)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def gone(pid: int) -> bool:
    return not os.path.exists(f"/proc/{pid}")


def name_of(pid: int) -> str:
    return Path(f"/proc/{pid}/comm").read_text().strip()


async def ended(pid: int) -> bool:
    """Wait (up to 20 s) for the process to be gone."""
    for _ in range(400):
        if gone(pid):
            return True
        await asyncio.sleep(0.05)
    return False


async def logged(caplog: pytest.LogCaptureFixture, text: str) -> bool:
    """Wait (up to 20 s) for `text` in the log (the end of a process is logged once it
    has been waited for, in the background)."""
    for _ in range(400):
        if text in caplog.text:
            return True
        await asyncio.sleep(0.05)
    return False


@pytest.fixture
async def reader() -> object:
    process = ReaderProcess(idle_stop=600, command=COMMAND)
    yield process
    await process.stop()


async def test_started_on_the_first_photo_kept_for_the_next_and_stopped(
    reader: ReaderProcess,
) -> None:
    assert reader.pid is None  # nothing runs before a photo comes
    reading = await reader.read(PHOTO, TODAY)
    assert (reading.nik, reading.name) == (TRUTH["nik"], "BAGUS A. KURNIAWAN")
    pid = reader.pid
    assert pid is not None and pid != os.getpid()
    assert name_of(pid) == "ktp-reader"
    assert (await reader.read(PHOTO, TODAY)).nik == TRUTH["nik"]
    assert reader.pid == pid  # the engine stays loaded between photos
    await reader.stop()
    assert reader.pid is None
    assert await ended(pid)  # killed and reaped: no zombie left


async def test_a_read_past_its_time_kills_the_worker_and_the_next_photo_works(
    reader: ReaderProcess, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    await reader.start()
    pid = reader.pid
    assert pid is not None
    await reader.read(PHOTO, TODAY)  # loaded: the time below is the read's alone
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(1.0):
            await reader.read(PHOTO + HANG, TODAY)
    assert await ended(pid)  # not left burning CPU on a photo nobody waits for
    await reader.warm()  # the fresh one started at once
    fresh = reader.pid
    reading = await reader.read(PHOTO, TODAY)
    assert reading.nik == TRUTH["nik"]
    assert reader.pid == fresh and fresh not in (None, pid)
    assert TRUTH["nik"] not in caplog.text and "KURNIAWAN" not in caplog.text


async def test_a_crash_while_reading_is_reported_and_a_fresh_worker_reads_the_next(
    reader: ReaderProcess, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    await reader.read(PHOTO, TODAY)
    pid = reader.pid
    assert pid is not None
    with pytest.raises(ReaderCrashed):
        await reader.read(PHOTO + CRASH, TODAY)
    assert await ended(pid)
    assert await logged(caplog, "signal 11")  # said, with how it ended
    reading = await reader.read(PHOTO, TODAY)
    assert reading.nik == TRUTH["nik"]
    assert reader.pid not in (None, pid)
    assert TRUTH["nik"] not in caplog.text and "KURNIAWAN" not in caplog.text


async def test_a_worker_killed_while_idle_is_replaced_and_the_photo_still_read(
    reader: ReaderProcess,
) -> None:
    await reader.read(PHOTO, TODAY)
    pid = reader.pid
    assert pid is not None
    os.kill(pid, 9)  # the OOM killer, say
    assert await ended(pid)
    reading = await reader.read(PHOTO, TODAY)
    assert reading.nik == TRUTH["nik"]
    assert reader.pid not in (None, pid)


async def test_stopped_after_the_idle_time_and_started_again_by_the_next_photo() -> None:
    reader = ReaderProcess(idle_stop=0.5, command=COMMAND)
    try:
        await reader.read(PHOTO, TODAY)
        pid = reader.pid
        assert pid is not None
        assert await ended(pid)
        assert reader.pid is None
        assert (await reader.read(PHOTO, TODAY)).nik == TRUTH["nik"]
        assert reader.pid not in (None, pid)
    finally:
        await reader.stop()


async def test_a_start_while_it_runs_counts_the_idle_time_again() -> None:
    """An officer who opens a form (a photo is coming) keeps a running reader loaded."""
    reader = ReaderProcess(idle_stop=1.0, command=COMMAND)
    try:
        await reader.warm()
        await reader.start()
        pid = reader.pid
        await asyncio.sleep(0.7)
        await reader.start()
        await asyncio.sleep(0.7)  # 1.4 s after the first start, 0.7 s after the second
        assert reader.pid == pid
        assert await ended(pid)  # then the idle time runs out after all
    finally:
        await reader.stop()


async def test_a_caller_out_of_time_while_it_loads_leaves_it_loading_for_the_next(
    reader: ReaderProcess, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot.ocr.process")
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.01):  # far less than loading the engine takes
            await reader.read(PHOTO, TODAY)
    assert (await reader.read(PHOTO, TODAY)).nik == TRUTH["nik"]
    # Nothing was being read: the process kept loading and read the next photo.
    assert caplog.text.count("KTP reader process") == 1
    assert "started" in caplog.text


async def test_not_an_image_is_answered_by_the_same_worker(reader: ReaderProcess) -> None:
    with pytest.raises(NotRead, match="NotAnImage"):
        await reader.read(b"not a photo", TODAY)
    pid = reader.pid
    assert pid is not None and running(pid)
    assert (await reader.read(PHOTO, TODAY)).nik == TRUTH["nik"]
    assert reader.pid == pid


async def test_an_engine_that_cannot_load_is_said_once_and_not_started_again(
    caplog: pytest.LogCaptureFixture,
) -> None:
    reader = ReaderProcess(idle_stop=600, command=[*COMMAND, "unavailable"])
    try:
        with pytest.raises(ReaderUnavailable):
            await reader.read(PHOTO, TODAY)
        with pytest.raises(ReaderUnavailable):
            await reader.read(PHOTO, TODAY)
        await reader.start()
        assert reader.pid is None  # no process started for every photo in vain
        assert caplog.text.count("KTP reader unavailable") == 1
    finally:
        await reader.stop()


def readers_running() -> list[int]:
    """This test process's reader children still running."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
                name = (entry / "comm").read_text().strip()
            except OSError:
                continue
            fields = stat.rsplit(")", 1)[1].split()
            if int(fields[1]) == os.getpid() and fields[0] != "Z" and name == "ktp-reader":
                found.append(int(entry.name))
    return found


async def test_stopped_while_it_starts_leaves_no_process_behind() -> None:
    reader = ReaderProcess(idle_stop=600, command=COMMAND)
    starting = asyncio.create_task(reader.start())
    await asyncio.sleep(0)  # the start is under way
    try:
        await reader.stop()  # waits for the start under way, then stops what it started
        await starting
        assert reader.pid is None
        for _ in range(400):
            if not readers_running():
                break
            await asyncio.sleep(0.05)
        assert readers_running() == []
    finally:
        await reader.stop()
