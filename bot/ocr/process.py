"""The KTP reader as a process of its own, started on demand and stopped when idle.

OpenCV and Tesseract take about 100 MB once loaded and run native code: in a worker
process (bot/ocr/worker.py) they cost the bot nothing while nobody photographs a card,
and a crash in them ends only the worker. The bot's side, here, never imports them.

- The worker starts on `start()` or the first photo, loads the engine once (about 0.7 s
  on a quiet machine, 2-3 s on a busy one) and reads photos one at a time; it stops after
  `idle_stop` seconds unused.
- A read that is abandoned (its caller's time ran out) or that the worker died during
  gets the worker killed at once: it burns no CPU on a photo nobody waits for, and a
  fresh one starts loading at once, for the next photo. A worker still loading when its
  caller gave up is kept: nothing is being read, and the next photo finds it ready.
- The photo goes to the worker over its stdin pipe and the fields come back over its
  stdout; never through a file, never into a log line.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Coroutine, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from bot.app.children import kill as _kill
from bot.app.children import worker_command as _command
from bot.app.children import worker_env
from bot.core.ktp_text import KtpReading
from bot.ocr.worker import HEADER, MAX_FRAME, decode, frame

log = logging.getLogger(__name__)

__all__ = ["NotRead", "ReaderCrashed", "ReaderProcess", "ReaderUnavailable"]

_ENV_KEEP = ("TESSDATA_PREFIX", "OMP_THREAD_LIMIT")  # besides bot/app/children.py's
STOP_WAIT = 2.0  # seconds a worker asked to stop gets before it is killed
CRASHED, DIED_IDLE, NOT_LOADED = (
    "it ended while reading",
    "it had ended while idle",
    "it did not load",
)
_UNEXPECTED = (CRASHED, DIED_IDLE, NOT_LOADED)


class ReaderUnavailable(RuntimeError):
    """The engine could not load (Debian: tesseract-ocr-ind missing). Not retried until
    the bot restarts."""


class ReaderCrashed(RuntimeError):
    """The worker ended while loading or reading; a fresh one reads the next photo."""


class NotRead(ValueError):
    """The worker answered, but with an error (its type name only, e.g. NotAnImage)."""


def worker_command() -> list[str]:
    return _command("bot.ocr.worker")


@dataclass
class _Worker:
    proc: asyncio.subprocess.Process
    loading: asyncio.Task[None] = field(init=False)
    error: Exception | None = None  # set when loading failed

    @property
    def pipes(self) -> tuple[asyncio.StreamWriter, asyncio.StreamReader]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        return self.proc.stdin, self.proc.stdout


async def _receive(stdout: asyncio.StreamReader) -> dict[str, Any]:
    """The worker's next frame; ReaderCrashed if its stdout ended first."""
    try:
        (length,) = HEADER.unpack(await stdout.readexactly(HEADER.size))
        if length > MAX_FRAME:
            raise ReaderCrashed("the reader process sent a malformed frame")
        message: dict[str, Any] = json.loads(await stdout.readexactly(length))
    except asyncio.IncompleteReadError:
        raise ReaderCrashed("the reader process ended") from None
    return message


class ReaderProcess:
    """One worker process at most, reading one photo at a time."""

    def __init__(self, idle_stop: float, command: Sequence[str] | None = None) -> None:
        self.idle_stop = idle_stop
        self.command = list(command) if command is not None else worker_command()
        self._worker: _Worker | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lock = asyncio.Lock()  # one photo at a time
        self._spawning: asyncio.Task[_Worker] | None = None  # one start at a time
        self._idle: asyncio.TimerHandle | None = None
        self._ending: set[asyncio.Task[None]] = set()
        self._replacing: set[asyncio.Task[None]] = set()
        self._unavailable: str | None = None

    @property
    def pid(self) -> int | None:
        """The running worker's process id (None when there is none)."""
        worker = self._worker
        return worker.proc.pid if worker is not None else None

    @property
    def busy(self) -> bool:
        return self._lock.locked()

    async def start(self) -> None:
        """Start a worker now if none runs (it loads in the background); returns at once.
        A photo is expected soon: a running worker's idle countdown starts again."""
        self._bind()
        if self._unavailable is None:
            await self._ensure()
            if self._worker is not None:
                self._touch()

    async def warm(self) -> None:
        """Start a worker if none runs and wait until its engine is loaded (raises
        ReaderUnavailable or ReaderCrashed like read())."""
        self._bind()
        async with self._lock:
            await self._ready()

    async def read(self, data: bytes, today: date) -> KtpReading:
        """The fields the worker read on the photo. Raises ReaderUnavailable, ReaderCrashed
        or NotRead; when cancelled (a time limit) during the read, the worker is killed."""
        self._bind()
        async with self._lock:
            for attempt in (1, 2):
                worker = await self._ready()
                try:
                    answer = await self._ask(worker, data, today)
                except (BrokenPipeError, ConnectionResetError):
                    # Found dead before it took the photo (killed while idle): once more,
                    # with a fresh worker. Nothing was read, so nothing is lost.
                    self._discard(worker, DIED_IDLE)
                    if attempt == 2:
                        raise ReaderCrashed("the reader process ended") from None
                    continue
                except BaseException as exc:
                    crashed = isinstance(exc, ReaderCrashed)
                    self._discard(worker, CRASHED if crashed else "the read was abandoned")
                    self._replace()
                    raise
                break
            self._touch()
        if "reading" in answer:
            return decode(answer["reading"])
        raise NotRead(str(answer.get("error", "unknown")))

    async def stop(self) -> None:
        """Stop the worker (none left running afterwards), e.g. when the bot stops."""
        if self._loop is not asyncio.get_running_loop():
            self._bind()  # one from another event loop is killed there and then
            return
        if self._idle is not None:
            self._idle.cancel()
            self._idle = None
        # A start under way (a replacement, a photo's) finishes first, then is stopped too.
        while self._replacing:
            await asyncio.gather(*self._replacing, return_exceptions=True)
        if self._spawning is not None:
            await asyncio.gather(self._spawning, return_exceptions=True)
        worker, self._worker = self._worker, None
        if self._idle is not None:
            self._idle.cancel()
            self._idle = None
        if worker is not None:
            await self._end(worker, kill=True)
        while self._ending:
            await asyncio.gather(*self._ending, return_exceptions=True)

    # The worker's life.

    def _bind(self) -> None:
        """Tie the worker to the running event loop; one left from another loop (a test's,
        or a restarted application's) is killed, since its pipes belong to that loop."""
        loop = asyncio.get_running_loop()
        if self._loop is loop:
            return
        if self._worker is not None:
            _kill(self._worker.proc)
        self._worker, self._idle, self._ending, self._replacing = None, None, set(), set()
        self._lock, self._spawning = asyncio.Lock(), None
        self._loop = loop

    def _alive(self) -> _Worker | None:
        worker = self._worker
        if worker is not None and worker.proc.returncode is not None:
            self._discard(worker, DIED_IDLE)
            return None
        return worker

    async def _ensure(self) -> _Worker:
        """The running worker, or one started now. Shielded: a caller out of time does not
        stop a start half-way, and callers at the same moment share one start."""
        worker = self._alive()
        if worker is not None:
            return worker
        if self._spawning is None or self._spawning.done():
            assert self._loop is not None
            self._spawning = self._loop.create_task(self._spawn(), name="ktp-reader-start")
            self._spawning.add_done_callback(_retrieve)
        return await asyncio.shield(self._spawning)

    def _replace(self) -> None:
        """A fresh worker for the next photo, loading from now (killed ones only: one that
        failed to load is not started again and again)."""
        if self._loop is not None and not self._loop.is_closed():
            task = self._loop.create_task(self._start_quietly(), name="ktp-reader-replace")
            self._replacing.add(task)
            task.add_done_callback(self._replacing.discard)

    async def _start_quietly(self) -> None:
        try:
            await self.start()
        except Exception as exc:  # the next photo tries again, and says why if it fails
            log.warning("KTP reader process not started again: %s", type(exc).__name__)

    async def _spawn(self) -> _Worker:
        proc = await asyncio.create_subprocess_exec(
            *self.command,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            env=worker_env(_ENV_KEEP),
        )
        worker = _Worker(proc)
        worker.loading = asyncio.create_task(self._load(worker), name="ktp-reader-load")
        self._worker = worker
        self._touch()
        log.info("KTP reader process %d started", proc.pid)
        return worker

    async def _load(self, worker: _Worker) -> None:
        """Wait for the worker's ready frame; a failure is kept in worker.error."""
        try:
            message = await _receive(worker.pipes[1])
            if not message.get("ready"):
                self._unavailable = str(message.get("unavailable", "unknown"))
                log.warning(
                    "KTP reader unavailable, the form will ask for every field "
                    "(restart the bot once fixed): %s",
                    self._unavailable,
                )
                raise ReaderUnavailable(self._unavailable)
        except Exception as exc:
            worker.error = exc
            if self._worker is worker:  # not already stopped on purpose
                self._discard(worker, NOT_LOADED)

    async def _ready(self) -> _Worker:
        if self._unavailable is not None:
            raise ReaderUnavailable(self._unavailable)
        worker = await self._ensure()
        # Shielded: a caller out of time leaves the worker loading, for the next photo.
        await asyncio.shield(worker.loading)
        if worker.error is not None:
            raise worker.error
        return worker

    async def _ask(self, worker: _Worker, data: bytes, today: date) -> dict[str, Any]:
        stdin, stdout = worker.pipes
        stdin.write(frame(today.isoformat().encode() + data))
        await stdin.drain()
        return await _receive(stdout)

    def _touch(self) -> None:
        """(Re)start the idle countdown."""
        if self._idle is not None:
            self._idle.cancel()
        assert self._loop is not None
        self._idle = self._loop.call_later(self.idle_stop, self._on_idle)

    def _on_idle(self) -> None:
        self._idle = None
        worker = self._worker
        if worker is None:
            return
        if self.busy:  # a photo is being read or waited for: count again from now
            self._touch()
            return
        self._worker = None
        log.info(
            "KTP reader process %d stopped after %.0f s idle", worker.proc.pid, self.idle_stop
        )
        self._track(self._end(worker, kill=False))

    def _discard(self, worker: _Worker, why: str) -> None:
        """Kill the worker now (it may be busy with an abandoned photo); reaped meanwhile.

        One that ended by itself (its pipe closed) is only waited for: signalling it would
        reap it before asyncio does, and its exit status (the signal) would be lost."""
        if self._worker is worker:
            self._worker = None
        ended = why in _UNEXPECTED
        if not ended and worker.proc.returncode is None:
            _kill(worker.proc)
            log.info("KTP reader process %d stopped: %s", worker.proc.pid, why)
        self._track(self._end(worker, kill=not ended, why=why))

    def _track(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(coro)
        self._ending.add(task)
        task.add_done_callback(self._ending.discard)

    async def _end(self, worker: _Worker, *, kill: bool, why: str = "") -> None:
        """Close its stdin (it exits on that), kill it if it has not ended soon after or if
        `kill`, and wait for it, so no zombie or open pipe is left behind."""
        proc = worker.proc
        if proc.stdin is not None and not proc.stdin.is_closing():
            proc.stdin.close()
        if kill:
            _kill(proc)
        try:
            await asyncio.wait_for(proc.wait(), STOP_WAIT)
        except TimeoutError:
            _kill(proc)
            await proc.wait()
        if why in _UNEXPECTED:
            code = proc.returncode
            how = f"signal {-code}" if code is not None and code < 0 else f"exit code {code}"
            log.warning(
                "KTP reader process %d ended (%s: %s); a fresh one reads the next photo",
                proc.pid,
                why,
                how,
            )


def _retrieve(task: asyncio.Task[_Worker]) -> None:
    """A start's failure is its awaiters' to report; none left means nobody to tell."""
    if not task.cancelled():
        task.exception()
