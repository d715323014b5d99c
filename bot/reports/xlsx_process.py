"""The access log's workbook written in a process of its own while the bot reads the log.

An export's XLSX was half its time (issue 13, bench/findings.md): XlsxWriter's per-cell
XML, pure Python, on the same core as the query, the decryption and the rows. Here a
worker (``python -m bot.reports.xlsx_worker``) is started with the export and takes each
page of rows as soon as the bot has made it, on the second core; the bot waits only for
the last page's rows and the file's closing (where, the workbook being in memory, the
sheets' XML is written: no file holds the log's rows, bot/reports/xlsx_book.py).

- One worker per export, started with it: its start (about 0.1 s, XlsxWriter imported)
  overlaps the query's first page, so no idle worker is kept.
- Its environment is trimmed (bot/app/children.py: no token, no keys). It writes no file;
  its TMPDIR is still an empty folder of its own, removed after it whatever happened, so
  nothing another library might write there is left behind or mixed with other files.
- A worker that fails or ends early fails the export with ``WorkbookFailed`` (naming the
  exception's type only): /laporan reports it as any error in making the export
  (handlers/errors.py). An export that fails or is cancelled on the bot's side kills its
  worker and waits for it, so none is left running.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import pickle
import tempfile
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

from bot.app.children import HEADER, frame, kill, worker_command, worker_env
from bot.reports.log import AccessLog, LogRow
from bot.reports.xlsx import closing_cells, layout, log_cells

STOP_WAIT = 2.0  # seconds a worker that answered gets to exit before it is killed
# The pages wait in the pipe's buffer while the worker writes the one before: the bot reads
# on, never held back by the worker (a month's log is a few MB of pickles).
_BUFFER = 256 * 2**20
# The pipe itself holds a few pages (Linux's limit for a user, /proc/sys/fs/pipe-max-size):
# with the default 64 kB, a page (about 100 kB) went in only at the bot's next await, and
# the worker waited for the rest of it meanwhile.
_PIPE = 2**20


class WorkbookFailed(RuntimeError):
    """The workbook's process failed or ended before answering."""


class XlsxProcess:
    """The bot's side of one worker: pages of rows in, the file out."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        assert proc.stdin is not None and proc.stdout is not None
        self._proc, self._stdin, self._stdout = proc, proc.stdin, proc.stdout
        self._stdin.transport.set_write_buffer_limits(high=_BUFFER)
        pipe = self._stdin.transport.get_extra_info("pipe")
        with contextlib.suppress(OSError, AttributeError):  # not Linux, or a lower limit
            fcntl.fcntl(pipe.fileno(), fcntl.F_SETPIPE_SZ, _PIPE)
        self.answered = False

    @property
    def pid(self) -> int:
        return self._proc.pid

    @property
    def returncode(self) -> int | None:
        """None while the worker runs or is not yet reaped."""
        return self._proc.returncode

    async def write(self, rows: Sequence[LogRow]) -> None:
        """The next rows of the log, in order."""
        await self._send("rows", log_cells(rows))

    async def close(self, log: AccessLog) -> bytes:
        """The workbook's bytes, once the worker has written ``log``'s summary (its rows all
        written before); raises WorkbookFailed."""
        await self._send("close", closing_cells(log))
        return await self._answer()

    async def _send(self, kind: str, body: Any) -> None:
        try:
            self._stdin.write(frame(pickle.dumps((kind, body), pickle.HIGHEST_PROTOCOL)))
            await self._stdin.drain()
        except (BrokenPipeError, ConnectionResetError):
            await self._answer()  # its error, if it answered one before ending
            raise WorkbookFailed("the XLSX writer ended") from None

    async def _answer(self) -> bytes:
        try:
            (length,) = HEADER.unpack(await self._stdout.readexactly(HEADER.size))
            answer = await self._stdout.readexactly(length)
        except asyncio.IncompleteReadError:
            code = await self._proc.wait()
            raise WorkbookFailed(f"the XLSX writer ended ({_how(code)})") from None
        self.answered = True
        if answer[:1] != b"x":
            raise WorkbookFailed(f"the XLSX writer failed: {answer[1:].decode(errors='replace')}")
        return answer[1:]


@asynccontextmanager
async def xlsx_process(titles: Sequence[str]) -> AsyncIterator[XlsxProcess]:
    """A worker started for one workbook with these column titles; stopped and waited for
    on leaving, killed if it has not answered (an error, a cancel)."""
    with tempfile.TemporaryDirectory(prefix="akses-xlsx-") as folder:
        env = worker_env()
        env["TMPDIR"] = folder
        proc = await asyncio.create_subprocess_exec(
            *worker_command("bot.reports.xlsx_worker"),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            env=env,
        )
        book = XlsxProcess(proc)
        try:
            await book._send("layout", layout(titles))
            yield book
        finally:
            await _end(book, proc)


async def _end(book: XlsxProcess, proc: asyncio.subprocess.Process) -> None:
    """Its stdin closed (a worker that has not closed the file ends on that, without
    answering), killed unless it answered, then waited for: no zombie, no open pipe, and
    no temporary file written after its folder is removed."""
    assert proc.stdin is not None
    if not proc.stdin.is_closing():
        proc.stdin.close()
    if not book.answered:
        kill(proc)
    try:
        await asyncio.wait_for(proc.wait(), STOP_WAIT)
    except TimeoutError:
        kill(proc)
        await proc.wait()


def _how(code: int | None) -> str:
    return f"signal {-code}" if code is not None and code < 0 else f"exit code {code}"
