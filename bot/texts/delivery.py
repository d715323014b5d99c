"""A message Telegram refused to deliver: who did not get it, why, and what to do about it."""

from __future__ import annotations

from html import escape

from bot.core.visits import Visit

# What the undelivered message was, by its outbox purpose (the first part of its key).
UNDELIVERED_WHAT = {
    "card": "Kartu persetujuan",
    "badge_png": "Badge",
    "badge_pdf": "Badge (PDF)",
    "approved": "Pemberitahuan persetujuan",
    "denied": "Pemberitahuan penolakan",
    "cancelled": "Pemberitahuan pembatalan",
    "visitor_waiting": "Pemberitahuan pengunjung menunggu",
    "entered": "Pemberitahuan pengunjung masuk",
    "exit_summary": "Ringkasan kunjungan",
    "expired": "Pemberitahuan badge kedaluwarsa",
    "reminder": "Pengingat keputusan",
    "escalated": "Pemberitahuan eskalasi",
    "overstay": "Peringatan melebihi waktu",
    "forged": "Peringatan badge palsu",
    "review": "Tinjauan harian",
    "rollcall": "Pesan apel darurat",
}
SOME_MESSAGE = "Pesan"


def never_opened(name: str, bot_username: str) -> str:
    return (
        f"{escape(name)} belum pernah membuka bot: minta dia menekan Start di "
        f"t.me/{escape(bot_username)}; kartu atau badge yang masih ditunggu lalu terkirim "
        "sendiri"
    )


def blocked(name: str, bot_username: str) -> str:
    return (
        f"{escape(name)} memblokir bot: minta dia membuka t.me/{escape(bot_username)} "
        "dan menekan Mulai Ulang (Restart); kartu atau badge yang masih ditunggu lalu "
        "terkirim sendiri (badge dengan kode baru)"
    )


def deactivated(name: str) -> str:
    return f"akun Telegram {escape(name)} sudah dihapus: ganti orangnya lewat /staf"


def undelivered(purpose: str, visit: Visit | None, name: str, reason: str) -> str:
    """'⚠️ Kartu persetujuan KRS-2026-00001 untuk Budi Kasi tidak terkirim. Budi ...'"""
    what = UNDELIVERED_WHAT.get(purpose, SOME_MESSAGE)
    about = f" <b>{visit.reference}</b>" if visit is not None else ""
    return f"⚠️ {what}{about} untuk {escape(name)} tidak terkirim. {reason}."


def no_approver_reached(visit: Visit, backups: list[str]) -> str:
    """To the officer and the admins, when no section head got the card."""
    head = (
        f"🚨 Permintaan <b>{visit.reference}</b> ({escape(visit.name)}) tidak sampai ke "
        "Kepala Seksi mana pun."
    )
    if backups:
        return f"{head} Kartunya kini dikirim ke approver cadangan: {escape(', '.join(backups))}."
    return (
        f"{head} Tidak ada approver cadangan: admin perlu menambah atau memperbaiki approver "
        "lewat /staf."
    )


def backup_unreached(visit: Visit) -> str:
    """To each backup approver, before the card."""
    return (
        f"📣 Permintaan <b>{visit.reference}</b> ({escape(visit.name)}) tidak dapat dikirim "
        "ke Kepala Seksi utama. Mohon diputuskan pada kartu berikut."
    )
