"""One bot per data folder, and no key rotation or restore under a running bot.

The running bot holds an exclusive ``flock`` on ``<data_dir>/bot.lock`` for its lifetime;
the kernel drops it when the process ends, however it ends (a SIGKILL or a power cut
leaves no stale lock to clear by hand). The commands that rewrite the data under the bot
(``keys rotate``, ``restore --force``) take the same lock for their own run: refused while
the bot runs, and a bot started meanwhile is refused until they are done. Without it a
rotation finished while the bot still wrote with the old key left the data under two keys,
and a restore swapped the database files out from under the bot, which then wrote into
deleted files.
"""

from __future__ import annotations

import errno
import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

LOCK_NAME = "bot.lock"


class Busy(Exception):
    """Someone holds the data folder: the running bot, or another command."""

    def __init__(self, holder: str) -> None:
        super().__init__(holder)
        self.holder = holder


class Unusable(Exception):
    """The lock file cannot be opened or locked (a folder in its place, another user's file):
    one line naming it."""

    def __init__(self, path: Path, exc: OSError) -> None:
        super().__init__(
            f"cannot use the lock file {path}: {exc.strerror or exc}; it must be a file the"
            " bot's user may write (remove it while nothing runs, and it is made again)"
        )


@contextmanager
def held(data_dir: Path, what: str) -> Iterator[None]:
    """Hold the data folder's lock for the block; :class:`Busy` if someone else does.

    ``what`` (the bot, or the command) is written in the file for the next one's message.
    A lock file created by root (a command run with sudo) is given to the folder's owner,
    so the bot's own user can still open it. A missing folder is not locked: there is no
    data there for anyone to share."""
    if not data_dir.is_dir():
        yield
        return
    path = data_dir / LOCK_NAME
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
    except OSError as exc:
        raise Unusable(path, exc) from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN):
                raise Unusable(path, exc) from None
            raise Busy(_holder(fd)) from None
        try:
            _give_to_owner(fd, data_dir)
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{what} (pid {os.getpid()})\n".encode(), 0)
        except OSError as exc:
            raise Unusable(path, exc) from None
        yield
    finally:
        os.close(fd)  # releases the lock


def _holder(fd: int) -> str:
    text = os.pread(fd, 200, 0).decode("utf-8", "replace").strip()
    return text or "another process"


def _give_to_owner(fd: int, data_dir: Path) -> None:
    if os.geteuid() != 0:
        return
    folder = data_dir.stat()
    if os.fstat(fd).st_uid != folder.st_uid:
        os.fchown(fd, folder.st_uid, folder.st_gid)


def refusal(data_dir: Path, exc: Busy | Unusable) -> str:
    """The one line a command that rewrites the data (keys rotate, restore) prints when it
    cannot take the folder's lock."""
    if isinstance(exc, Unusable):
        return str(exc)
    return (
        f"the data folder {data_dir} is in use by {exc.holder}; stop the bot first"
        " (systemctl stop akses-ruang-server), then run it again"
    )
