"""What the bot's worker processes share: the KTP reader (bot/ocr/) and the XLSX writer
(bot/reports/xlsx_worker.py).

Each is ``python -m <module>`` with a trimmed environment, named in /proc so ps, top and
bench/load.py tell it apart, and talks over its stdin and stdout in frames: a 4-byte
big-endian length, then the payload. Nothing else is written to those pipes.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import struct
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import BinaryIO

HEADER = struct.Struct(">I")
# What a worker's environment keeps of the bot's: not the token, the keys, systemd's
# notify socket (NotifyAccess=main) or anything else it has no use for.
_ENV_KEEP = ("PATH", "HOME", "LANG", "TMPDIR")
_ENV_PREFIXES = ("LC_", "PYTHON")


def frame(payload: bytes) -> bytes:
    return HEADER.pack(len(payload)) + payload


def read_frame(pipe: BinaryIO, limit: int) -> bytes | None:
    """The worker's next request, or None once the bot closed the pipe (or went away), or
    sent a frame over ``limit`` bytes."""
    header = pipe.read(HEADER.size)
    if len(header) < HEADER.size:
        return None
    (length,) = HEADER.unpack(header)
    if length > limit:
        return None
    payload = pipe.read(length)
    return payload if len(payload) == length else None


def worker_env(keep: Iterable[str] = ()) -> dict[str, str]:
    """The environment a worker starts with: the bot's, less everything it has no use for,
    plus ``keep``; PYTHONPATH names this checkout first, so ``-m bot.…`` finds the same code
    whether the bot runs from a checkout or from its virtualenv."""
    kept = (*_ENV_KEEP, *keep)
    env = {
        key: value
        for key, value in os.environ.items()
        if key in kept or key.startswith(_ENV_PREFIXES)
    }
    root = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
    return env


def worker_command(module: str) -> list[str]:
    return [sys.executable, "-m", module]


def become_worker(name: bytes) -> BinaryIO:
    """In the worker, first thing: its name, Ctrl-C left to the bot (it reaches the whole
    process group in a terminal; the bot stops its workers itself, and SIGTERM still ends
    them at once), and the pipe its answers go to, returned: a copy of stdout, and stdout
    itself becomes stderr, so nothing a library prints can ever land inside a frame."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        with open("/proc/self/comm", "wb") as comm:
            comm.write(name)
    except OSError:
        pass  # not Linux: only the name in ps differs
    answers = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return answers


def kill(proc: asyncio.subprocess.Process) -> None:
    """SIGKILL, unless it has been reaped already."""
    with contextlib.suppress(ProcessLookupError):
        if proc.returncode is None:
            proc.kill()
