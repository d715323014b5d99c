"""What the bot tells its admins about itself: an unhandled error (handlers/errors.py)."""

from __future__ import annotations

import html
from datetime import datetime, tzinfo

from bot.texts.common import clock


def error_report(kind: str, place: str, count: int, every_minutes: int) -> str:
    """No message text, no update: only the error's type and where it happened."""
    times = "1 kali" if count == 1 else f"{count} kali sejak laporan terakhir"
    return _report(kind, place, f"Terjadi {times}.", every_minutes)


def error_report_held(
    kind: str,
    place: str,
    count: int,
    since: datetime,
    last: datetime,
    tz: tzinfo,
    every_minutes: int,
) -> str:
    """What a group's window held back, sent once the window has passed although the error
    did not happen again: ``since`` its last report, ``last`` when it last happened."""
    times = (
        f"Terjadi {count} kali lagi sejak laporan pukul {clock(since, tz)},"
        f" terakhir pukul {clock(last, tz)}; sejak itu tidak terulang."
    )
    return _report(kind, place, times, every_minutes)


def _report(kind: str, place: str, times: str, every_minutes: int) -> str:
    return (
        "⚠️ <b>Galat pada bot</b>\n"
        f"<code>{html.escape(kind)}</code> di <code>{html.escape(place)}</code>\n"
        f"{times} Galat yang sama dilaporkan paling sering sekali per"
        f" {every_minutes} menit.\n"
        "Rinciannya ada di log server: <code>journalctl -u akses-ruang-server</code>"
        " (lihat docs/operasi.md, Penanganan insiden)."
    )
