"""The access log as CSV: UTF-8 with a byte-order mark, so spreadsheet programs read it right.

Every cell that a spreadsheet would take for a formula is made inert (``log.inert``).
"""

from __future__ import annotations

import csv
import io

from bot.reports.log import AccessLog, Progress, inert, text_cells, tick


def render_csv(log: AccessLog, progress: Progress | None = None) -> bytes:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow(log.titles)
    total = len(log.rows)
    for done, row in enumerate(log.rows, 1):
        writer.writerow([inert(cell) for cell in text_cells(row)])
        tick(progress, done, total)
    return buffer.getvalue().encode("utf-8-sig")
