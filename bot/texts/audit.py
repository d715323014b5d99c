"""Words about the audit log: the head hash the daily review anchors outside the database."""

from __future__ import annotations


def anchor_note(head: str) -> str:
    """The line under the daily review: the audit chain's head, to keep outside the bot."""
    return (
        "🔏 <b>Sidik jari log audit</b> (simpan pesan ini):\n"
        f"<code>{head}</code>\n"
        "Pemeriksaan: <code>python -m bot audit verify --anchor</code> dengan sidik jari ini "
        "membuktikan bahwa tidak ada catatan sampai saat ini yang diubah atau dihapus."
    )
