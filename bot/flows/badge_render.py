"""Drawing the badge on the second core: a worker process of its own.

Drawing a badge (the card, its QR, the PNG and the ID-1 PDF: about 12 ms of CPU) holds
Python's GIL nearly all the time, so in a thread it stops the event loop as much as on
it: at 50 officers it was the largest single item of the bot's busy time
(bench/findings.md). A worker process draws it instead, and the bot serves other chats
meanwhile, on the other core.

- **Life**: started when a request is submitted (its approval, and so its badge, is near:
  the process loads while the section head decides) or by the first badge, and stopped
  IDLE_STOP seconds after the last one. It ends with the bot's process: at a normal exit
  the pool is shut down, and after a SIGKILL the worker sees its parent gone and exits.
- **Never in the way**: if the process cannot be started, breaks, or is being replaced,
  the badge is drawn in a thread of the bot as before. The drawing is the same function
  either way (bot/core/badge.py); only where it runs differs.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import multiprocessing
import os
import threading
import time
from concurrent.futures.process import BrokenProcessPool

from bot.core.badge import BadgeCard, render_badge_pdf, render_badge_png

log = logging.getLogger(__name__)

IDLE_STOP = 600.0  # seconds without a badge, then the process stops
PROCESS_NAME = b"badge-render"  # /proc/PID/comm: what ps, top and bench/load.py show
_PARENT_CHECK = 1.0  # seconds between the worker's looks at whether the bot still runs


def render_both(card: BadgeCard) -> tuple[bytes, bytes]:
    """The badge's PNG and PDF (drawn once: the PDF reuses the PNG's drawing)."""
    return render_badge_png(card), render_badge_pdf(card)


def _worker_init(parent: int) -> None:
    """In the worker: name it, and end it when the bot's process is gone."""
    try:
        with open("/proc/self/comm", "wb") as comm:
            comm.write(PROCESS_NAME)
    except OSError:
        pass  # not Linux: only the name in ps differs

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(_PARENT_CHECK)
        os._exit(0)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


class BadgeRenderer:
    """One worker process at most; badges drawn one after another in it."""

    def __init__(self, idle_stop: float = IDLE_STOP) -> None:
        self.idle_stop = idle_stop
        self._lock = threading.Lock()
        self._pool: concurrent.futures.ProcessPoolExecutor | None = None
        self._last_use = 0.0
        self._timer: threading.Timer | None = None

    @property
    def pids(self) -> list[int]:
        """The worker's process id, when one runs (for tests and the bench)."""
        pool = self._pool
        processes = getattr(pool, "_processes", None) or {}
        return [p for p, proc in processes.items() if proc.is_alive()]

    def warm_up(self) -> None:
        """Start the worker now if none runs (a badge is near); returns at once."""
        with self._lock:
            pool = self._ensure()
            if pool is not None:
                self._touch()
        if pool is not None:
            try:
                pool.submit(os.getpid)  # the pool starts its process on the first task
            except (BrokenProcessPool, RuntimeError):
                self._discard(pool)

    async def render(self, card: BadgeCard) -> tuple[bytes, bytes]:
        """The badge's PNG and PDF, drawn in the worker (or, failing that, in a thread)."""
        with self._lock:
            pool = self._ensure()
            self._touch()
        if pool is not None:
            try:
                return await asyncio.wrap_future(pool.submit(render_both, card))
            except (BrokenProcessPool, RuntimeError, OSError) as exc:
                log.warning("badge process failed (%s); drawn in the bot", type(exc).__name__)
                self._discard(pool)
        return await asyncio.to_thread(render_both, card)

    def stop(self) -> None:
        """Stop the worker (the bot is stopping); a later badge starts a fresh one."""
        with self._lock:
            pool, self._pool = self._pool, None
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)

    def _ensure(self) -> concurrent.futures.ProcessPoolExecutor | None:
        """The pool, created if none (under the lock). None: processes cannot be made."""
        if self._pool is None:
            try:
                self._pool = concurrent.futures.ProcessPoolExecutor(
                    max_workers=1,
                    mp_context=multiprocessing.get_context("spawn"),
                    initializer=_worker_init,
                    initargs=(os.getpid(),),
                )
            except (OSError, ValueError) as exc:
                log.warning("badge process not started (%s); drawn in the bot", exc)
                return None
        return self._pool

    def _discard(self, pool: concurrent.futures.ProcessPoolExecutor) -> None:
        with self._lock:
            if self._pool is pool:
                self._pool = None
        pool.shutdown(wait=False, cancel_futures=True)

    def _touch(self) -> None:
        """(Re)start the idle countdown (under the lock)."""
        self._last_use = time.monotonic()
        if self._timer is None:
            self._schedule(self.idle_stop)

    def _schedule(self, delay: float) -> None:
        self._timer = threading.Timer(delay, self._on_idle)
        self._timer.daemon = True
        self._timer.start()

    def _on_idle(self) -> None:
        with self._lock:
            self._timer = None
            if self._pool is None:
                return
            left = self._last_use + self.idle_stop - time.monotonic()
            if left > 0:  # used since: count again from that use
                self._schedule(left)
                return
            pool, self._pool = self._pool, None
        pool.shutdown(wait=False)
        log.info("badge process stopped after %.0f s without a badge", self.idle_stop)


renderer = BadgeRenderer()
