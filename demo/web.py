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
from simulator.web import Phone, attach_web


def phones() -> list[Phone]:
    """Left to right as the procedure runs: officer, section head, escort (who scans)."""
    return [
        Phone(user_id, PEOPLE[user_id][1], scanner=user_id == ESCORT)
        for user_id in (OFFICER, APPROVER, ESCORT)
    ]


@contextlib.asynccontextmanager
async def running_demo(
    directory: Path, host: str = "127.0.0.1", port: int = 0
) -> AsyncIterator[DemoBot]:
    """The demo bot with the browser phones attached, for serve_forever() and the tests."""
    demo = DemoBot(directory, host, port)
    attach_web(demo.sim, phones(), on_reset=demo.reset)
    await demo.start()
    try:
        yield demo
    finally:
        await demo.stop()


async def serve_forever(directory: Path, host: str, port: int) -> int:
    # The expiry sweep runs every minute; its "job executed" lines would bury the address.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    demo = DemoBot(directory, host, port)
    attach_web(demo.sim, phones(), on_reset=demo.reset)
    try:
        await demo.start()
    except OSError as exc:
        await demo.stop()
        print(f"Cannot serve the demo on {host}:{port}: {exc.strerror or exc}")
        print("Choose another port with --port.")
        return 1
    try:
        shown = "127.0.0.1" if host in ("", "0.0.0.0", "::") else host
        print(f"\n  Demo berjalan: buka http://{shown}:{demo.sim.port}/ di browser.")
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
