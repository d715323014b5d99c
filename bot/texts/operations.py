"""What the bot tells its admins about itself: an unhandled error (handlers/errors.py)."""

from __future__ import annotations

import html


def error_report(kind: str, place: str, count: int, every_minutes: int) -> str:
    """No message text, no update: only the error's type and where it happened."""
    times = "1 kali" if count == 1 else f"{count} kali sejak laporan terakhir"
    return (
        "⚠️ <b>Galat pada bot</b>\n"
        f"<code>{html.escape(kind)}</code> di <code>{html.escape(place)}</code>\n"
        f"Terjadi {times}. Galat yang sama dilaporkan paling sering sekali per"
        f" {every_minutes} menit.\n"
        "Rinciannya ada di log server: <code>journalctl -u akses-ruang-server</code>"
        " (lihat docs/operasi.md, Penanganan insiden)."
    )
