"""Self-registration links (/undang_tamu, issue 14.1): the officer's link, and what the
visitor reads while filling in their own form. The form's questions are the form's words
(bot/texts/form.py)."""

from __future__ import annotations

from datetime import datetime, tzinfo
from html import escape

from bot.core.guests import PER_DAY
from bot.core.planning import Plan
from bot.texts.common import plan_text, when

BTN_GUEST_LINK = "🔗 Buat tautan isi mandiri"
ONLY_OFFICERS_INVITE = "Perintah ini khusus untuk Petugas."
RATE_LIMITED = (
    f"Anda sudah membuat {PER_DAY} tautan isi mandiri dalam 24 jam terakhir. Tunggu sampai "
    "tautan terlama berumur 24 jam, atau daftarkan pengunjung dengan /daftar atau /jadwal."
)
INVITE_INTRO = (
    "🔗 <b>Tautan isi mandiri untuk pengunjung</b>\n"
    "Tentukan tanggal dan jam kunjungan. Pengunjung mengisi sendiri data dan foto KTP-nya "
    "lewat tautan sekali pakai (berlaku 24 jam); permintaannya lalu dikirim ke Kepala Seksi "
    "sebagai kunjungan terjadwal."
)
LINK_CANCELLED = "Tautan tidak dibuat. Tidak ada yang disimpan."
# To a staff member who opens a visitor's link (testing it, or forwarded back by mistake).
STAFF_OPENED = (
    "Tautan ini untuk pengunjung: teruskan kepadanya. Tautan tidak terpakai dan tidak ada "
    "yang berubah."
)
# One answer for a link that was used, has expired or never existed: which of them it is
# tells a guesser nothing useful, and the visitor's next step is the same.
LINK_DEAD = (
    "Maaf, tautan ini tidak berlaku (sudah dipakai, sudah lewat 24 jam, atau tidak dikenal). "
    "Tidak ada data yang disimpan. Mintalah tautan baru kepada petugas."
)
WINDOW_GONE = (
    "Maaf, jam kunjungan pada tautan ini sudah lewat. Data Anda tidak disimpan. Mintalah "
    "tautan baru kepada petugas."
)
# A visitor in the middle of their own form who types a command the form does not take.
FORM_OPEN_FOR_GUEST = (
    "Anda sedang mengisi formulir kunjungan. Jawab pertanyaan terakhir di atas; ketik "
    "/kembali untuk mundur satu langkah, atau /batal untuk berhenti."
)
GUEST_CANCELLED = (
    "Pengisian dibatalkan. Data yang Anda ketik tidak disimpan. Buka lagi tautan dari "
    "petugas untuk mengulang, selama tautannya masih berlaku."
)
GUEST_EXPIRED = (
    "🗑 Pengisian data Anda tidak diselesaikan tepat waktu, jadi dihapus beserta data yang "
    "sudah diisi. Buka lagi tautan dari petugas selama masih berlaku, atau mintalah tautan "
    "baru."
)
# The card's and the officer's mark of a request the visitor filled in themselves.
CARD_MARK = "📝 <b>Diisi sendiri oleh pengunjung</b> lewat tautan dari petugas."


def link_made(link: str, plan: Plan, until: datetime, tz: tzinfo) -> str:
    return (
        f"🔗 Tautan isi mandiri untuk kunjungan <b>{plan_text(plan)}</b>:\n\n{link}\n\n"
        "Teruskan tautan ini hanya kepada pengunjung yang bersangkutan. Tautan sekali pakai "
        f"dan berlaku sampai {when(until, tz)}. Anda akan diberi tahu setelah pengunjung "
        "mengirim datanya; pada harinya tetap cocokkan KTP dengan orangnya lewat /hari_ini."
    )


def guest_welcome(plan: Plan) -> str:
    """What the visitor reads first, above the first question."""
    return (
        "👋 <b>Selamat datang.</b> Petugas ruang server Diskominfo mengundang Anda mengisi "
        f"data kunjungan untuk <b>{plan_text(plan)}</b>.\n\n"
        "Jawab pertanyaan berikut tentang diri Anda, lalu periksa ringkasannya dan kirim. "
        "Data Anda disimpan terenkripsi dan hanya dipakai untuk izin masuk ruang server. "
        "Ketik /batal untuk membatalkan."
    )


def guest_sent(reference: str, plan: Plan) -> str:
    return (
        f"✅ Terima kasih. Data Anda terkirim (nomor <b>{reference}</b>) untuk kunjungan "
        f"{plan_text(plan)}.\nDatanglah ke meja petugas pada waktunya dengan membawa KTP asli: "
        "petugas mencocokkan KTP dengan Anda sebelum badge diberikan. Tautan ini kini tidak "
        "berlaku lagi."
    )


def visitor_sent_form(reference: str, name: str, plan: Plan) -> str:
    """To the officer who made the link, once the visitor sent the form."""
    return (
        f"📝 Pengunjung <b>{escape(name)}</b> mengisi sendiri lewat tautan Anda: permintaan "
        f"<b>{reference}</b> untuk {plan_text(plan)} terkirim ke Kepala Seksi.\n"
        "Pada harinya buka lewat /hari_ini dan cocokkan KTP dengan orangnya."
    )
