"""The XLSX writer's process: ``python -m bot.reports.xlsx_worker``, started for one export
by bot/reports/xlsx_process.py.

It writes the access log's workbook (bot/reports/xlsx_book.py ``LogBook``) from the rows the bot
sends while it still reads and decrypts the next ones: the workbook on the second core
(issue 13). Requests are frames on its stdin (bot/app/children.py), each a pickle of
``(kind, body)``:

- ``("layout", Layout)`` first: the sheets, the header, the columns;
- ``("rows", [cells, ...])``: the next rows (``log_cells``), any number of times;
- ``("close", Closing)``: the summary and roll calls; the one answer, on stdout, is then
  ``b"x"`` and the file's bytes, or ``b"e"`` and an exception's type name only (its message
  could quote a visitor).

It ends after that answer, or without one when its stdin closes first (the export was
abandoned). It writes no file: the workbook is built in memory (bot/reports/xlsx_book.py's
options), so the log's rows never reach a disk; its TMPDIR is an empty folder of its own,
which the bot removes after it.
"""

from __future__ import annotations

import pickle
import sys

from bot.app.children import become_worker, frame, read_frame

PROCESS_NAME = b"xlsx-writer"  # /proc/PID/comm: what ps, top and bench/load.py show
MAX_FRAME = 2**31  # a page of rows is a few hundred kB; the bot is trusted, this is a bound


def main() -> int:
    answers = become_worker(PROCESS_NAME)
    requests = sys.stdin.buffer
    try:
        from bot.reports.xlsx_book import LogBook  # XlsxWriter only, not the bot's modules

        book: LogBook | None = None
        while (request := read_frame(requests, MAX_FRAME)) is not None:
            kind, body = pickle.loads(request)  # the bot's own pickles, over its own pipe
            if kind == "layout":
                book = LogBook(body)
            elif book is None:
                raise ValueError("rows before the layout")
            elif kind == "rows":
                book.write(body)
            elif kind == "close":
                answer = b"x" + book.close(body)
                break
            else:
                raise ValueError("unknown request")
        else:
            return 0  # the bot gave up on this export: nothing to answer
    except Exception as exc:
        answer = b"e" + type(exc).__name__.encode()
    try:
        answers.write(frame(answer))
        answers.flush()
    except BrokenPipeError:  # the bot went away meanwhile
        return 0
    return 0 if answer.startswith(b"x") else 1


if __name__ == "__main__":
    raise SystemExit(main())
