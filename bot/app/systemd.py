"""systemd's service protocol (sd_notify(3)): READY=1, the watchdog's WATCHDOG=1, STOPPING=1.

Under the unit in deploy/ (``Type=notify``, ``WatchdogSec=``) systemd passes
``NOTIFY_SOCKET`` and ``WATCHDOG_USEC``; anywhere else both are absent and every call here
does nothing. The protocol is one datagram of ``KEY=VALUE`` lines to that socket, so it is
written out here rather than pulled in: ``systemd-python`` builds against libsystemd's
headers (no wheel), ``sdnotify`` has seen no release since 2017, ``systemd-watchdog`` has
no STOPPING, and ``cysystemd`` ships 4 MB of native libraries (its own libsystemd and
libgcrypt) for this one datagram.

The watchdog is pinged from a job on the bot's event loop (bot/app/build.py), never from a
thread: a loop that hangs stops pinging, and systemd restarts the service.
"""

from __future__ import annotations

import logging
import os
import socket
from datetime import timedelta

log = logging.getLogger(__name__)


def _address() -> str | None:
    path = os.environ.get("NOTIFY_SOCKET", "")
    if not path:
        return None
    # An abstract socket is written with a leading "@" (sd_notify(3)).
    return "\0" + path[1:] if path.startswith("@") else path


def notify(*lines: str) -> bool:
    """Send one datagram to systemd; False when not under systemd or the socket is gone."""
    address = _address()
    if address is None:
        return False
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
            sock.sendto("\n".join(lines).encode(), address)
    except OSError as exc:
        # A watchdog ping that cannot be sent must not take the bot down; systemd will
        # notice the silence by itself.
        log.warning("could not notify systemd (%s)", exc.strerror or exc)
        return False
    return True


def watchdog_interval() -> timedelta | None:
    """How often to ping: half of WATCHDOG_USEC (sd_watchdog_enabled(3)); None if no watchdog."""
    usec = os.environ.get("WATCHDOG_USEC", "")
    pid = os.environ.get("WATCHDOG_PID", "")
    if not usec.isdigit() or int(usec) == 0 or _address() is None:
        return None
    if pid and pid != str(os.getpid()):
        return None  # meant for another process (our parent started us)
    return timedelta(microseconds=int(usec) / 2)


def ready(status: str) -> bool:
    return notify("READY=1", f"STATUS={status}")


def ping() -> bool:
    return notify("WATCHDOG=1")


def stopping() -> bool:
    return notify("STOPPING=1")
