"""``python -m bench.ktp_process``: the KTP reader's own process (bot/ocr/process.py), timed
as the bot uses it, and its memory apart from the bot's.

    python -m bench.ktp_process [--count 50] [--cold 5]

- cold: a photo read by a reader process started for it (the first photo after a start or
  after the idle stop): the process starts, loads the engine, reads; and the loading alone.
- warm: photos read by a process already loaded (the specimen photos of
  tests/fixtures/ktp, in turn).
- memory: the reader process's peak RSS (VmHWM) after reading, and this process's (the
  bot's side: pipes and the answers only) before and after.
Times are from the photo's bytes to the fields, over the pipe; the Telegram download is not
in them (the bot starts the process while the photo downloads: bot/flows/ktp_read.py).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import statistics
import time
from datetime import date
from pathlib import Path

from bot.ocr.process import ReaderProcess

ROOT = Path(__file__).resolve().parent.parent
PHOTOS = sorted((ROOT / "tests" / "fixtures" / "ktp").glob("ktp-*.jpg"))
TODAY = date(2026, 12, 2)


def _mb(n: float) -> str:
    return f"{n / 2**20:.0f} MB"


def _peak(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return 0


def _own_peak() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _p(times: list[float], q: float) -> float:
    ordered = sorted(times)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def run(count: int, cold_runs: int) -> str:
    photos = [p.read_bytes() for p in PHOTOS]
    own_before = _own_peak()
    cold, loads = [], []
    for i in range(cold_runs):
        reader = ReaderProcess(idle_stop=600)
        started = time.perf_counter()
        await reader.read(photos[i % len(photos)], TODAY)
        cold.append(time.perf_counter() - started)
        await reader.stop()
        reader = ReaderProcess(idle_stop=600)
        started = time.perf_counter()
        await reader.warm()
        loads.append(time.perf_counter() - started)
        await reader.stop()
    reader = ReaderProcess(idle_stop=600)
    await reader.warm()
    warm = []
    for i in range(count):
        started = time.perf_counter()
        await reader.read(photos[i % len(photos)], TODAY)
        warm.append(time.perf_counter() - started)
    assert reader.pid is not None
    reader_peak = _peak(reader.pid)
    await reader.stop()
    load = " / ".join(f"{x:.2f}" for x in os.getloadavg())
    return "\n".join(
        [
            f"KTP reader process, {cold_runs} cold and {count} warm reads, load average "
            f"{load} at the end (1 / 5 / 15 min)",
            "",
            "| Measure | Median | p95 / max |",
            "|---|---:|---:|",
            f"| Cold: start, load, read the first photo | {statistics.median(cold):.2f} s "
            f"| {max(cold):.2f} s (max) |",
            f"| Loading alone (start to ready) | {statistics.median(loads):.2f} s "
            f"| {max(loads):.2f} s (max) |",
            f"| Warm: one photo | {statistics.median(warm):.2f} s | {_p(warm, 0.95):.2f} s |",
            f"| Reader process peak RSS | {_mb(reader_peak)} | |",
            f"| This process (the bot's side) peak RSS | {_mb(own_before)} before, "
            f"{_mb(_own_peak())} after | |",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.ktp_process", description=__doc__)
    parser.add_argument("--count", type=int, default=50, help="warm reads (default 50)")
    parser.add_argument("--cold", type=int, default=5, help="cold starts (default 5)")
    args = parser.parse_args(argv)
    print(asyncio.run(run(args.count, args.cold)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
