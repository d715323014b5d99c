"""The command line's logging: the bot's INFO lines, not the libraries' chatter."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from bot.app import logsafe
from bot.app.logging_setup import QUIET_LOGGERS
from bot.cli.main import configure_logging
from bot.reports.export import render
from tests.unit.test_reports import access_log, make_visit


@pytest.fixture
def cli_logging() -> Iterator[None]:
    configure_logging()
    yield
    logsafe.uninstall()
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.NOTSET)


def test_a_pdf_report_logs_no_fonttools_subset_lines(
    cli_logging: None, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO):
        pdf = render(access_log([make_visit(1)]), "pdf")
        logging.getLogger("bot.reports").info("rendered")
    assert pdf.startswith(b"%PDF")
    assert [r.name for r in caplog.records] == ["bot.reports"]  # ours still at INFO
    assert logging.getLogger("fontTools.subset").getEffectiveLevel() == logging.WARNING


async def test_scheduled_jobs_log_nothing_at_info_but_their_warnings_still_show(
    cli_logging: None, caplog: pytest.LogCaptureFixture
) -> None:
    """PTB's JobQueue runs the bot's minutely jobs on apscheduler, which logs "Running job"
    and "executed successfully" at INFO for every run: 4 lines a minute, forever."""
    from apscheduler.schedulers.asyncio import AsyncIOScheduler

    ran = asyncio.Event()

    async def job() -> None:
        ran.set()

    scheduler = AsyncIOScheduler(timezone=UTC)
    with caplog.at_level(logging.INFO):
        scheduler.add_job(job, "date", run_date=datetime.now(UTC))
        scheduler.start()
        try:
            await asyncio.wait_for(ran.wait(), timeout=10)
            await asyncio.sleep(0.1)  # "executed successfully" is logged once the job ends
        finally:
            scheduler.shutdown(wait=False)
        logging.getLogger("apscheduler.executors.default").warning("a job missed its time")
    assert [(r.name, r.levelno) for r in caplog.records if r.name.startswith("apscheduler")] == [
        ("apscheduler.executors.default", logging.WARNING)
    ]
    for name in ("apscheduler.scheduler", "apscheduler.executors.default"):
        assert logging.getLogger(name).getEffectiveLevel() == logging.WARNING
