"""CPU time and peak RSS of a process, read from /proc (Linux) while it runs."""

from __future__ import annotations

import os
import resource
from dataclasses import dataclass
from pathlib import Path

_TICK = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Usage:
    cpu: float  # user + system seconds, all threads
    peak_rss: int  # bytes; the high-water mark since the process started


def usage(pid: int) -> Usage:
    """CPU seconds and peak RSS of a running process (all its threads)."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    # The command name (field 2) may contain spaces; fields after it are space-separated.
    fields = stat[stat.rindex(")") + 2 :].split()
    cpu = (int(fields[11]) + int(fields[12])) / _TICK  # utime, stime (fields 14 and 15)
    return Usage(cpu, _peak_rss(pid))


def _peak_rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return 0


def own_cpu() -> float:
    """CPU seconds of this process so far (all threads)."""
    rusage = resource.getrusage(resource.RUSAGE_SELF)
    return rusage.ru_utime + rusage.ru_stime


def own_peak_rss() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # kB on Linux
