"""The access log for a period, from the database to a file: used by /laporan, /statistik,
``python -m bot export`` (bot/cli/export.py) and the benchmarks.

    await export_visits(config, date(2026, 11, 1), date(2026, 11, 28), "xlsx", "log.xlsx")
"""

from __future__ import annotations

import asyncio
import gc
import os
import sys
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import BinaryIO, TextIO
from zoneinfo import ZoneInfo

from bot.app.config import Config
from bot.core.period import Period
from bot.core.standards import TimeStandards
from bot.core.visits import Visit
from bot.reports.log import UNSHOWN, AccessLog, LogBuilder, LogRow, Progress
from bot.reports.rollcalls import roll_call_lines
from bot.reports.xlsx_process import xlsx_process
from storage.crypto import Cipher
from storage.db import Storage

FORMATS = ("xlsx", "pdf", "csv")
DEFAULT_TZ = ZoneInfo("Asia/Jakarta")  # Config's default, for a Storage given without one


_pausing = threading.Lock()
_paused = 0  # exports under way with the cycle collector paused
_resume = False  # whether the last of them turns it back on (it was on before the first)


@contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cycle collector off while an export builds its log and its file.

    A month's export makes a few hundred thousand objects that all stay alive until it ends
    and hold no reference cycles: each collection walks them and frees nothing, and the
    full ones walk everything the bot holds too (0.1-0.3 s of a 2 s XLSX export, issue 13,
    bench/findings.md). Reference counting still frees everything else as usual; the
    collector resumes when the last export running (the XLSX and the PDF of /laporan are
    made side by side) ends.
    """
    global _paused, _resume
    with _pausing:
        if _paused == 0:
            _resume = gc.isenabled()
            gc.disable()
        _paused += 1
    try:
        yield
    finally:
        with _pausing:
            _paused -= 1
            if _paused == 0 and _resume:
                gc.enable()


def file_name(period: Period, fmt: str, kind: str = "laporan-akses") -> str:
    return f"{kind}-{period.slug}.{fmt}"


async def load_access_log(
    storage: Storage, config: Config | None, period: Period, now: datetime
) -> AccessLog:
    """The period's visits measured against the standards, in the configured zone.

    Staff names come from the staff table (former staff included, so old rows still name
    who acted), then from the config for anyone the table lacks.
    """
    return await _fill(storage, await _builder(storage, config, period, now), None)


async def load_with_xlsx(
    storage: Storage, config: Config | None, period: Period, now: datetime
) -> tuple[AccessLog, bytes]:
    """``load_access_log`` and the log's XLSX, written meanwhile in a process of its own
    from each page of rows as it is made (bot/reports/xlsx_process.py): the same file as
    ``render(log, "xlsx")``, most of it made on the other core while the bot reads on.
    Raises WorkbookFailed if that process fails."""
    builder = await _builder(storage, config, period, now)
    async with xlsx_process(builder.titles) as book:
        log = await _fill(storage, builder, book.write)
        return log, await book.close(log)


async def _builder(
    storage: Storage, config: Config | None, period: Period, now: datetime
) -> LogBuilder:
    names = {m.user_id: m.name for m in config.staff} if config is not None else {}
    names.update({row.user_id: row.name for row in await storage.staff.all()})
    return LogBuilder(
        period,
        tz=config.timezone if config is not None else DEFAULT_TZ,
        standards=config.standards if config is not None else TimeStandards(),
        names=names,
        now=now,
        office=config.office_name if config is not None else "",
    )


async def _fill(
    storage: Storage,
    builder: LogBuilder,
    sink: Callable[[list[LogRow]], Awaitable[None]] | None,
) -> AccessLog:
    """The period's rows a page at a time, each handed to ``sink`` as it is made, then
    the period's roll calls."""
    tz = builder.tz
    start, end = builder.period.bounds(tz)
    rolls = await storage.rollcalls.between(start, end)
    on_roll = {e.visit_id for roll in rolls for e in roll.entries}
    visits_on_roll: dict[int, Visit] = {}
    with collector_paused():
        async for visits in storage.reports.visit_pages(start, end, unopened=UNSHOWN):
            visits_on_roll.update((v.id, v) for v in visits if v.id in on_roll)
            rows = builder.add(visits)
            if sink is not None:
                await sink(rows)
    for visit_id in on_roll - visits_on_roll.keys():  # in before the period began
        if (visit := await storage.visits.get(visit_id)) is not None:
            visits_on_roll[visit_id] = visit
    lines = roll_call_lines(rolls, visits_on_roll, builder.names, tz)
    return replace(builder.log(), roll_calls=lines)


def render(log: AccessLog, fmt: str, progress: Progress | None = None) -> bytes:
    """The log as xlsx, pdf or csv bytes, or the statistics chart as png."""
    with collector_paused():
        return _render(log, fmt, progress)


def _render(log: AccessLog, fmt: str, progress: Progress | None) -> bytes:
    # Imported on use: an XLSX export need not load matplotlib and fpdf2.
    if fmt == "xlsx":
        from bot.reports.xlsx import render_xlsx

        return render_xlsx(log, progress)
    if fmt == "pdf":
        from bot.reports.pdf import render_pdf

        return render_pdf(log, progress)
    if fmt == "csv":
        from bot.reports.csvfile import render_csv

        return render_csv(log, progress)
    if fmt == "png":
        from bot.reports.chart import render_chart

        return render_chart(log)
    raise ValueError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")


def write_private(path: Path, data: bytes) -> None:
    """An export names visitors: readable by the bot's user only (0600), also when the file
    existed with other bits."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(data)


@dataclass(frozen=True)
class ExportResult:
    rows: int
    size: int
    seconds: float
    path: Path | None


async def open_storage(config: Config) -> Storage:
    """The bot's database, for reading; a missing file is an error, not a new database."""
    if not config.database_path.exists():
        raise FileNotFoundError(f"no database at {config.database_path}")
    return await Storage.open(
        config.database_path, Cipher(config.encryption_key), config.audit_key
    )


async def export_visits(
    source: Config | Storage,
    start: date,
    end: date,
    fmt: str,
    out: Path | str | BinaryIO | None = None,
    *,
    config: Config | None = None,
    progress: Progress | None = None,
    now: datetime | None = None,
) -> ExportResult:
    """Write the access log of [start, end] (office-local days) as ``fmt`` to ``out``.

    ``source`` is a Config (its database is opened and closed here) or an open Storage
    (then ``config``, if given, supplies staff names, time zone and standards). ``out``
    is a path, a binary stream, or None for the default file name in the current folder.
    """
    began = time.perf_counter()
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
    period = Period(start, end)
    if isinstance(source, Config):
        config = config or source
        storage = await open_storage(source)
    else:
        storage = source
    try:
        log = await load_access_log(storage, config, period, now or datetime.now(UTC))
    finally:
        if storage is not source:
            await storage.close()
    data = await asyncio.to_thread(render, log, fmt, progress)
    path: Path | None = None
    if out is None or isinstance(out, str | Path):
        path = Path(out) if out is not None else Path(file_name(period, fmt))
        await asyncio.to_thread(write_private, path, data)
    else:
        await asyncio.to_thread(out.write, data)
    return ExportResult(len(log.rows), len(data), time.perf_counter() - began, path)


class ProgressBar:
    """A one-line progress bar on stderr (only on a terminal, only for large exports)."""

    MIN_ROWS = 1000

    def __init__(
        self,
        label: str,
        stream: TextIO | None = None,
        *,
        width: int = 30,
        enabled: bool | None = None,
    ) -> None:
        self.label = label
        self.stream = stream if stream is not None else sys.stderr
        self.width = width
        self.enabled = self.stream.isatty() if enabled is None else enabled

    def __call__(self, done: int, total: int) -> None:
        if not self.enabled or total < self.MIN_ROWS:
            return
        filled = self.width * done // total
        bar = "#" * filled + "-" * (self.width - filled)
        percent = 100 * done // total
        self.stream.write(f"\r{self.label} [{bar}] {done}/{total} {percent:3d}%")
        if done >= total:
            self.stream.write("\n")
        self.stream.flush()
