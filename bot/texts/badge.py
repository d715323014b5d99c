"""The visitor's badge: the words printed on the card (bot/core/badge.py draws them), the
caption it is sent with, and the notice when it expires unused.

The card's words go through the badge's ASCII folding, so they stay plain: no HTML.
"""

from __future__ import annotations

from datetime import date, datetime, tzinfo
from html import escape

from bot.core.visits import Visit
from bot.texts.common import when

# The config's default office name (config.toml [office] name), printed under the band.
DEFAULT_OFFICE = "Dinas Komunikasi dan Informatika Kabupaten Lumajang"
BAND = "PENGUNJUNG"
BAND_ENGLISH = "VISITOR"  # foreign vendors' engineers read the band too
MANUAL_CODE = "Kode manual"
# The zone the badge admits to, printed in the bottom band.
ZONE = "RUANG SERVER"


def reference(ref: str) -> str:
    return f"Ref: {ref}"


def valid_until(moment: datetime, zone_label: str) -> str:
    """``moment`` already in the zone ``zone_label`` names (the card has no tz database)."""
    return f"Berlaku s.d. {moment:%d-%m-%Y %H:%M} {zone_label}"


def visit_date(day: date) -> str:
    return f"Tanggal kunjungan: {day:%d-%m-%Y}"


def pdf_title(ref: str) -> str:
    return f"Tanda pengenal pengunjung {ref}"


def caption(visit: Visit, code: str, tz: tzinfo, notice: str = "") -> str:
    """The chat caption of the badge image sent to the officer; ``notice`` (the approval,
    so that it needs no message of its own) goes under the first line."""
    return (
        f"🪪 Badge {visit.reference} — {escape(visit.name)}\n"
        + (f"{notice}\n" if notice else "")
        + f"Berlaku s.d. {when(visit.valid_until, tz)}\n{MANUAL_CODE}: <code>{code}</code>"
    )


REISSUED = (
    "♻️ <b>Dikirim ulang</b>: badge pertama tidak sampai karena bot diblokir atau belum "
    "dibuka. Badge dan kode ini yang berlaku."
)


def expired_notice(visit: Visit) -> str:
    return (
        f"⌛ Badge {visit.reference} ({escape(visit.name)}) kedaluwarsa sebelum dipakai masuk. "
        "Jika pengunjung masih perlu masuk, daftarkan ulang dengan /daftar."
    )
