"""The privacy erasure's confirmation on the server's terminal (python -m bot privacy).

Bilingual: the operator may be the office's admin or a vendor's engineer.
"""

from __future__ import annotations


def confirm_erase(masked_nik: str) -> str:
    return (
        f"Hapus foto KTP dan anonimkan semua kunjungan NIK {masked_nik}? "
        "Erase the KTP photos and anonymize every visit of this NIK? [ya/yes/N] "
    )
