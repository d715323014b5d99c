"""Unhandled errors, grouped for the admins' chat report (handlers/errors.py).

A group is the exception's type and the place in our code it came from (the innermost
frame under bot/, handlers/ or storage/, else the innermost frame): never its message, which
may quote a NIK, a name or a token. Each group is reported at most once per ``every``, with
the number of times it happened since its last report; the state is in memory, so a restart
reports afresh.
"""

from __future__ import annotations

import traceback
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

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
        self._counts: dict[str, int] = {}
        self._reported: dict[str, datetime] = {}

    def note(self, error: BaseException, now: datetime) -> Due | None:
        """Count the error; the report to send now, or None while its group is quiet."""
        group = group_of(error)
        self._counts[group.key] = self._counts.get(group.key, 0) + 1
        last = self._reported.get(group.key)
        if last is not None and now - last < self.every:
            return None
        self._reported[group.key] = now
        return Due(group, self._counts.pop(group.key))
