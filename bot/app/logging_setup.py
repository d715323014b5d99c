"""Where log lines go and how they look: stderr always, journald under systemd, JSON on request.

- On a terminal or into a file: ``2026-12-02 09:00:00,123 INFO bot.app.build: ...``.
- Under systemd, stderr is the journal (systemd sets ``JOURNAL_STREAM`` to that stream's
  device and inode, see systemd.exec(5)): journald stamps the time and unit itself, so a
  line is ``<6>bot.app.build: ...``, the ``<N>`` being the syslog priority journald reads
  (sd-daemon(3)), so ``journalctl -p warning`` works.
- ``--log-format json`` or ``[logging] format = "json"``: one JSON object per line (time,
  level, logger, message, and the traceback if any), for a log collector.

Whatever the format, every record was already cleaned by bot/app/logsafe.py (masked NIKs,
no tokens, secrets or bytes): ``configure`` installs it before anything is logged. That
cleaning cannot tell a visitor's name or phone from other text, so the libraries that log
what the bot sends, receives or stores never log below INFO, whatever the level asked
(``NO_DEBUG``): at DEBUG only the bot's own loggers add their debug lines.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from datetime import UTC, datetime
from typing import TextIO

from bot.app import logsafe
from bot.app.config import LOG_FORMATS

FORMATS = LOG_FORMATS
# Loggers that say too much at INFO: httpx logs every request URL, and URLs carry the bot
# token; fontTools.subset logs dozens of lines each time fpdf2 embeds a font in a PDF;
# apscheduler (under PTB's JobQueue) logs "Running job" and "executed successfully" for
# every run of the minutely jobs, forever. Their warnings and errors still show.
QUIET_LOGGERS = ("httpx", "fontTools", "apscheduler")
# Loggers that at DEBUG write what passes through them: PTB every call's parameters and
# every update (getUpdates bodies: the visitor's name, phone, the reasons typed), httpx,
# httpcore and aiohttp requests and bodies, aiosqlite every statement with its parameters,
# apscheduler its jobs' arguments. Never below INFO, whatever level ``configure`` is given
# (the one place the root's level is set); logsafe masks NIKs and tokens but cannot know a
# name or a phone.
NO_DEBUG = ("telegram", "telegram.ext", "httpx", "httpcore", "aiohttp", "aiosqlite", "apscheduler")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
_HANDLER_NAME = "akses-stderr"
# Syslog priorities of the log levels (journald reads "<N>" at the start of a line).
PRIORITY = {logging.CRITICAL: 2, logging.ERROR: 3, logging.WARNING: 4, logging.INFO: 6, 0: 7}


def under_journald(stream: TextIO | None = None) -> bool:
    """Is ``stream`` (stderr) the journal? JOURNAL_STREAM is "device:inode" of that stream;
    a child that inherited the variable but writes elsewhere must not strip its times."""
    value = os.environ.get("JOURNAL_STREAM", "")
    device, _, inode = value.partition(":")
    if not (device.isdigit() and inode.isdigit()):
        return False
    try:
        info = os.fstat((stream or sys.stderr).fileno())
    except (OSError, ValueError, AttributeError):
        return False
    return (info.st_dev, info.st_ino) == (int(device), int(inode))


class JournalFormatter(logging.Formatter):
    """A syslog priority prefix on every line; journald adds time, host and unit."""

    def __init__(self) -> None:
        super().__init__("%(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        level = max((lv for lv in PRIORITY if lv <= record.levelno), default=0)
        prefix = f"<{PRIORITY[level]}>"
        # A traceback's lines are each a journal line of their own; each keeps the priority.
        return "\n".join(prefix + line for line in super().format(record).splitlines())


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["traceback"] = record.exc_text
        return json.dumps(entry, ensure_ascii=False)


def formatter(fmt: str, stream: TextIO | None = None) -> logging.Formatter:
    if fmt == "json":
        return JsonFormatter()
    if under_journald(stream):
        return JournalFormatter()
    return logging.Formatter(TEXT_FORMAT)


def configure(fmt: str = "text", level: int = logging.INFO) -> None:
    """Set up the root logger (again: the format may change once the config is read)."""
    if fmt not in FORMATS:
        raise ValueError(f"log format must be one of {', '.join(FORMATS)}")
    # No NIK, token, secret or image bytes in any log line, whatever the level.
    logsafe.install()
    root = logging.getLogger()
    root.setLevel(level)
    for handler in list(root.handlers):
        if handler.get_name() == _HANDLER_NAME:
            root.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler.set_name(_HANDLER_NAME)
    handler.setFormatter(formatter(fmt, sys.stderr))
    root.addHandler(handler)
    for name in NO_DEBUG:
        # INFO when the root would pass their DEBUG lines; otherwise they follow the root
        # (NOTSET), so configuring again at INFO leaves nothing of an earlier DEBUG behind.
        logging.getLogger(name).setLevel(logging.INFO if level < logging.INFO else logging.NOTSET)
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
