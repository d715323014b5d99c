"""``python -m bot demo``: the simulator serves three phones on a web page; runs until Ctrl-C.

The page and its API live in simulator/web; this module only starts the demo bot behind
them and hands the page its reset (restart the bot on a fresh database).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import AsyncIterator
from pathlib import Path

from demo.app import APPROVER, ESCORT, OFFICER, PEOPLE, DemoBot
from demo.guard import KEY_PARAM, guard, new_key
from simulator.web import Phone, attach_web


def phones() -> list[Phone]:
    """Left to right as the procedure runs: officer, section head, escort (who scans)."""
    return [
        Phone(user_id, PEOPLE[user_id][1], scanner=user_id == ESCORT)
        for user_id in (OFFICER, APPROVER, ESCORT)
    ]


class WebDemo(DemoBot):
    """The demo bot with the browser phones attached and guarded (demo/guard.py)."""

    def __init__(self, directory: Path, host: str = "127.0.0.1", port: int = 0):
        super().__init__(directory, host, port)
        self.key = new_key()
        self.sim.app.middlewares.append(guard(self.key, lambda: self.sim.port or 0))
        attach_web(self.sim, phones(), on_reset=self.reset)

    @property
    def url(self) -> str:
        """The page's address with this run's key: what the terminal prints."""
        host = "127.0.0.1" if self.sim.host in ("", "0.0.0.0", "::") else self.sim.host
        return f"http://{host}:{self.sim.port}/?{KEY_PARAM}={self.key}"


@contextlib.asynccontextmanager
async def running_demo(
    directory: Path, host: str = "127.0.0.1", port: int = 0
) -> AsyncIterator[WebDemo]:
    """The guarded demo, for the tests (serve_forever() runs the same until Ctrl-C)."""
    demo = WebDemo(directory, host, port)
    await demo.start()
    try:
        yield demo
    finally:
        await demo.stop()


async def serve_forever(directory: Path, host: str, port: int) -> int:
    # The expiry sweep runs every minute; its "job executed" lines would bury the address.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    demo = WebDemo(directory, host, port)
    try:
        await demo.start()
    except OSError as exc:
        await demo.stop()
        print(f"Cannot serve the demo on {host}:{port}: {exc.strerror or exc}")
        print("Choose another port with --port.")
        return 1
    try:
        print(f"\n  Demo berjalan: buka {demo.url} di browser.")
        print("  (Kunci di alamat ini berganti setiap kali demo dijalankan.)")
        print(f"  Data demo (config, database): {directory}")
        print("  Tekan Ctrl-C untuk berhenti.\n", flush=True)
        stop = asyncio.Event()
        # Ctrl-C raises KeyboardInterrupt through asyncio.run; SIGTERM (e.g. from a test or
        # a service manager) should end just as cleanly.
        with contextlib.suppress(NotImplementedError):
            asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
        await stop.wait()
    finally:
        await demo.stop()
    return 0
