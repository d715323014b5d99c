"""Pieces of "knowing when it is unwell" that need no bot: error groups, log formats, the
logging config key."""

from __future__ import annotations

import json
import logging
import sqlite3
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.app import logging_setup, logsafe
from bot.app.config import ConfigError, load_config
from bot.app.errorgroups import ErrorGroups, group_of
from tests.flows import NIK_WOMAN

NOW = datetime(2026, 11, 28, 2, 0, tzinfo=UTC)


def fail_in_sqlite() -> None:
    # The error is raised inside a library; the group names this line, the last one of ours.
    sqlite3.connect(":memory:").execute("SELECT * FROM no_such_table")


def test_a_group_is_the_type_and_our_innermost_frame_never_the_message() -> None:
    with pytest.raises(sqlite3.OperationalError) as caught:
        fail_in_sqlite()
    group = group_of(caught.value)
    assert group.kind == "sqlite3.OperationalError"
    assert group.place.startswith("tests/unit/test_operations.py:")
    assert group.place.endswith("(fail_in_sqlite)")
    assert "no_such_table" not in group.key


def test_one_report_per_group_per_window_with_the_count() -> None:
    groups = ErrorGroups(every=timedelta(minutes=30))
    errors = []
    for _ in range(3):
        try:
            raise ValueError(NIK_WOMAN)
        except ValueError as exc:
            errors.append(exc)
    first = groups.note(errors[0], NOW)
    assert first is not None and first.count == 1
    assert groups.note(errors[1], NOW + timedelta(minutes=5)) is None
    assert groups.note(errors[2], NOW + timedelta(minutes=29)) is None
    later = groups.note(errors[0], NOW + timedelta(minutes=31))
    assert later is not None and later.count == 3  # two held back, and this one


@pytest.fixture
def clean_logging() -> object:
    yield
    logsafe.uninstall()
    root = logging.getLogger()
    for handler in list(root.handlers):
        if handler.get_name() == "akses-stderr":
            root.removeHandler(handler)


def test_json_lines_are_cleaned_by_logsafe(
    clean_logging: object, capsys: pytest.CaptureFixture[str]
) -> None:
    logging_setup.configure("json")
    try:
        raise RuntimeError(f"lookup of {NIK_WOMAN} failed")
    except RuntimeError:
        logging.getLogger("bot.test").exception("visitor %s not found", NIK_WOMAN)
    line = capsys.readouterr().err.strip().splitlines()[-1]
    entry = json.loads(line)
    assert entry["level"] == "ERROR" and entry["logger"] == "bot.test"
    assert "3508**********02" in entry["message"] and "3508**********02" in entry["traceback"]
    assert NIK_WOMAN not in line


def test_journal_lines_carry_the_priority_on_every_line() -> None:
    formatter = logging_setup.JournalFormatter()
    try:
        raise KeyError("x")
    except KeyError:
        record = logging.LogRecord(
            "bot.x", logging.WARNING, __file__, 1, "oops", None, sys.exc_info()
        )
    lines = formatter.format(record).splitlines()
    assert lines[0] == "<4>bot.x: oops"
    assert len(lines) > 2 and all(line.startswith("<4>") for line in lines)


def test_journal_stream_must_be_our_stderr(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ours, other = tmp_path / "ours", tmp_path / "other"
    ours.touch()
    other.touch()
    info = other.stat()
    monkeypatch.setenv("JOURNAL_STREAM", f"{info.st_dev}:{info.st_ino}")
    with ours.open("w") as stream:
        assert not logging_setup.under_journald(stream)  # inherited, but stderr goes elsewhere
    with other.open("w") as stream:
        assert logging_setup.under_journald(stream)
    monkeypatch.setenv("JOURNAL_STREAM", "garbage")
    with other.open("w") as stream:
        assert not logging_setup.under_journald(stream)


def test_the_logging_format_key(tmp_path: Path) -> None:
    example = Path(__file__).resolve().parents[2] / "config.example.toml"
    env = {
        "BOT_TOKEN": "123456:TEST-TOKEN-abcdefghijklmnopqrstuv",
        "AKSES_SIGNING_SECRET": "x" * 32,
        "AKSES_ENCRYPTION_KEY": "YWtzZXMtdGVzdC1lbmNyeXB0aW9uLWtleS0zMmJ5dGU=",
        "AKSES_AUDIT_KEY": "a" * 40,
    }
    # The example's staff are commented out (issue 10): one real member is added here.
    text = example.read_text() + '\n[[staff]]\nid = 5\nname = "Budi"\nroles = ["approver"]\n'
    path = tmp_path / "config.toml"
    path.write_text(text)
    assert load_config(path, env=env).log_format == "text"
    path.write_text(text.replace('format = "text"', 'format = "json"'))
    assert load_config(path, env=env).log_format == "json"
    path.write_text(text.replace('format = "text"', 'format = "xml"'))
    with pytest.raises(ConfigError, match=r'logging.format must be "text" or "json"'):
        load_config(path, env=env)
