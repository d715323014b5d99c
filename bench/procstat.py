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
    """CPU seconds and peak RSS of a running process (all its threads).

    The CPU includes the process's children, running or ended (a worker process the bot
    starts, such as the KTP reader's, is the bot's work too); the peak RSS is the
    process's own."""
    return Usage(_cpu(pid, with_ended_children=True), _peak_rss(pid))


def _fields(pid: int) -> list[str]:
    stat = Path(f"/proc/{pid}/stat").read_text()
    # The command name (field 2) may contain spaces; fields after it are space-separated.
    return stat[stat.rindex(")") + 2 :].split()


def _cpu(pid: int, with_ended_children: bool) -> float:
    fields = _fields(pid)
    ticks = int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)
    if with_ended_children:
        ticks += int(fields[13]) + int(fields[14])  # cutime, cstime: children waited for
    total = ticks / _TICK
    for child in children(pid):
        try:
            total += _cpu(child, with_ended_children=True)
        except (FileNotFoundError, ProcessLookupError):
            continue  # ended while we looked; its time is in cutime once it is reaped
    return total


def children(pid: int) -> list[int]:
    """The running child processes of ``pid``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if int(_fields(int(entry.name))[1]) == pid:  # ppid (field 4)
                found.append(int(entry.name))
        except (FileNotFoundError, ProcessLookupError, IndexError, ValueError):
            continue
    return found


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
