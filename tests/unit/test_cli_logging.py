"""The command line's logging: the bot's INFO lines, not the libraries' chatter."""

from __future__ import annotations

import logging
from collections.abc import Iterator

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
