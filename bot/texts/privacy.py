"""The privacy erasure's confirmation on the server's terminal (python -m bot privacy).

Bilingual: the operator may be the office's admin or a vendor's engineer.
"""

from __future__ import annotations


def confirm_erase(masked_nik: str) -> str:
    return (
        f"Hapus foto KTP dan anonimkan semua kunjungan NIK {masked_nik}? "
        "Erase the KTP photos and anonymize every visit of this NIK? [ya/yes/N] "
    )


# The image that replaces a deleted KTP photo on approval cards and scan views
# (bot/core/placeholder.py). ASCII only: Pillow's embedded font draws nothing else.
PLACEHOLDER_TITLE = "FOTO KTP DIHAPUS"
PLACEHOLDER_LINES = (
    "sesuai retensi data pribadi (UU 27/2022)",
    "Periksa KTP asli pengunjung bila perlu.",
)
