"""Unhandled errors, grouped for the admins' chat report (handlers/errors.py).

A group is the exception's type and the place in our code it came from (the innermost
frame under bot/, handlers/ or storage/, else the innermost frame): never its message, which
may quote a NIK, a name or a token. Each group is reported at most once per ``every``, with
the number of times it happened since its last report; the state is in memory, so a restart
reports afresh. What a window held back is reported when the window has passed, even if the
error stopped meanwhile: the next error of the group does it, or else ``held`` (called by the
deadline job every minute, ``report_held``).
"""

from __future__ import annotations

import logging
import traceback
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from bot.core.roles import Role
from bot.texts import operations as operations_texts
from storage.outbox import OutboxItem

if TYPE_CHECKING:
    from bot.app.services import Services

log = logging.getLogger(__name__)

REPORT_EVERY = timedelta(minutes=30)
_OURS = ("bot/", "handlers/", "storage/")
_ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class ErrorGroup:
    kind: str  # e.g. "sqlite3.OperationalError"
    place: str  # e.g. "storage/visits.py:231 (apply)"

    @property
    def key(self) -> str:
        return f"{self.kind}@{self.place}"


@dataclass(frozen=True)
class Due:
    """A group whose report is due: how often it happened since the last one."""

    group: ErrorGroup
    count: int
    # For what a window held back (``ErrorGroups.held``): when the group was last reported,
    # and when it last happened; None for a report made by an error as it happens.
    since: datetime | None = None
    last: datetime | None = None


def group_of(error: BaseException) -> ErrorGroup:
    kind = type(error)
    name = kind.__qualname__
    if kind.__module__ != "builtins":
        name = f"{kind.__module__}.{name}"
    frames = traceback.extract_tb(error.__traceback__)
    ours = [f for f in frames if _relative(f.filename).startswith(_OURS)]
    if not frames:
        return ErrorGroup(name, "?")
    frame = (ours or frames)[-1]
    return ErrorGroup(name, f"{_relative(frame.filename)}:{frame.lineno} ({frame.name})")


def _relative(filename: str) -> str:
    path = Path(filename)
    try:
        return path.resolve().relative_to(_ROOT).as_posix()
    except ValueError:
        return path.name


class ErrorGroups:
    def __init__(self, every: timedelta = REPORT_EVERY) -> None:
        self.every = every
        self._counts: dict[str, int] = {}  # held back since the group's last report
        self._reported: dict[str, datetime] = {}
        self._groups: dict[str, ErrorGroup] = {}
        self._last: dict[str, datetime] = {}  # when each group last happened

    def note(self, error: BaseException, now: datetime) -> Due | None:
        """Count the error; the report to send now, or None while its group is quiet."""
        group = group_of(error)
        self._groups[group.key] = group
        self._last[group.key] = now
        self._counts[group.key] = self._counts.get(group.key, 0) + 1
        last = self._reported.get(group.key)
        if last is not None and now - last < self.every:
            return None
        self._reported[group.key] = now
        return Due(group, self._counts.pop(group.key))

    def held(self, now: datetime) -> list[Due]:
        """The groups whose window has passed with errors held back in it: their reports,
        due now (the group's window starts again, as at any report)."""
        due = []
        for key, count in list(self._counts.items()):
            since = self._reported[key]
            if now - since < self.every:
                continue
            del self._counts[key]
            self._reported[key] = now
            due.append(Due(self._groups[key], count, since, self._last[key]))
        return due


async def report(services: Services, due: Due, now: datetime) -> None:
    """One chat message to every admin, through the outbox (handlers/errors.py, and the held
    reports below). The database may be what failed: then only the log has it."""
    group = due.group
    minutes = int(services.errors.every.total_seconds() // 60)
    if due.since is None or due.last is None:
        text = operations_texts.error_report(group.kind, group.place, due.count, minutes)
    else:
        tz = services.config.timezone
        text = operations_texts.error_report_held(
            group.kind, group.place, due.count, due.since, due.last, tz, minutes
        )
    stamp = int(now.timestamp())
    items = [
        OutboxItem(
            f"error:{group.key}:{stamp}:{admin.user_id}",
            "text",
            admin.user_id,
            payload={"text": text},
        )
        for admin in services.with_role(Role.ADMIN)
    ]
    try:
        await services.storage.outbox.queue(items, now)
    except Exception:
        log.warning("could not queue the error report for the admins", exc_info=True)
        return
    services.delivery.kick()


async def report_held(services: Services) -> None:
    """What each group's window held back, once the window has passed (the deadline job)."""
    if getattr(services, "storage", None) is None:
        return
    now = services.now()
    for due in services.errors.held(now):
        await report(services, due, now)
