"""``python -m bot export``: the access log of a period as XLSX, PDF or CSV, on the server.

0 on success; 2 for bad arguments or config, an output file that exists already (without
``--force``) or cannot be written; 1 when there is no database. Each export that holds
visits is audited as the chat's /laporan is (``report_sent``, the period), by no staff
member: the command line's actor, as ``privacy export``'s.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from bot.app.config import Config, ConfigError, load_config
from bot.cli.common import fail
from bot.cli.output import CannotWrite, output_file
from bot.core.period import Period, PeriodError, parse_date
from bot.reports.export import (
    ExportResult,
    ProgressBar,
    file_name,
    load_access_log,
    open_storage,
    render,
)

# What /laporan records for a copy of the log (handlers/reports.py): who took it, which days.
REPORT_SENT = "report_sent"


def run(args: argparse.Namespace) -> int:
    try:
        config = load_config(args.config)
        period = Period(parse_date(args.start), parse_date(args.end))
    except (ConfigError, PeriodError) as exc:
        return fail(f"export: {exc}")
    path = None if args.out == "-" else Path(args.out or file_name(period, args.format))
    if path is not None and path.exists() and not args.force:
        return fail(
            f"export: {path} exists already; choose a new file name, or add --force to replace it"
        )
    if not config.database_path.exists():
        print(f"export: no database at {config.database_path}", file=sys.stderr)
        return 1
    try:
        done = asyncio.run(_export(config, period, args.format, path))
    except CannotWrite as exc:
        return fail(f"export: {exc}")
    print(
        f"{done.path or 'stdout'}: {done.rows} visits, {done.size} bytes, {done.seconds:.2f} s",
        file=sys.stderr,
    )
    return 0


@contextmanager
def _stdout() -> Iterator[Callable[[bytes], None]]:
    def write(data: bytes) -> None:
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()

    yield write


async def _export(config: Config, period: Period, fmt: str, path: Path | None) -> ExportResult:
    """Made, audited, then written; the output file is opened before the work starts."""
    began = time.perf_counter()
    storage = await open_storage(config)
    try:
        with output_file(path) if path is not None else _stdout() as write:
            now = datetime.now(UTC)
            log = await load_access_log(storage, config, period, now)
            data = await asyncio.to_thread(render, log, fmt, ProgressBar(f"export {fmt}"))
            # Recorded before the copy exists: none is ever made that the audit log lacks.
            if log.rows:
                await storage.audit.record(now, None, REPORT_SENT, detail=period.slug)
            await asyncio.to_thread(write, data)
    finally:
        await storage.close()
    return ExportResult(len(log.rows), len(data), time.perf_counter() - began, path)
