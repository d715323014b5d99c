"""The bot killed with SIGKILL leaves no KTP reader process behind: the reader reads
end-of-file on its stdin (the pipe from the dead bot) and exits."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

from tests.unit.test_ktp_reader_process import ended, gone

ROOT = Path(__file__).resolve().parents[2]
# A stand-in for the bot: starts its reader the way the bot does, says the reader's pid,
# and waits to be killed.
BOT = """
import asyncio
from bot.ocr.process import ReaderProcess

async def main():
    reader = ReaderProcess(idle_stop=600)
    await reader.warm()
    print(reader.pid, flush=True)
    await asyncio.sleep(3600)

asyncio.run(main())
"""


async def test_a_killed_bot_leaves_no_reader_process() -> None:
    bot = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        BOT,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert bot.stdout is not None
        line = await asyncio.wait_for(bot.stdout.readline(), 60)
        reader = int(line)
        assert not gone(reader)  # running while the bot runs
        bot.send_signal(signal.SIGKILL)
        await bot.wait()
        assert await ended(reader)
    finally:
        if bot.returncode is None:
            bot.kill()
            await bot.wait()
