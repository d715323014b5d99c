"""Every user-facing text, in Bahasa Indonesia, one module per feature.

common (roles, menu, refusals, times), approval, door, oversight, staff, reports,
standards, badge, privacy: import the one you need as ``from bot.texts import door as
door_texts``. What is left in this file is the registration form's, which moves to
bot/texts/form.py with the form's declaration (issue 9, point 1).

Functions take raw values and escape them here, so user input can never become
HTML markup (messages are sent with parse_mode=HTML).
"""

from __future__ import annotations

from html import escape

from bot.core.nik import NikProblem

# handlers/registration.py reads these two as texts.X until the form moves to form.py.
from bot.texts.common import ONLY_OFFICER as ONLY_OFFICER
from bot.texts.common import STALE_BUTTON as STALE_BUTTON

PURPOSES = [
    "Pemeliharaan server",
    "Instalasi perangkat",
    "Perbaikan jaringan",
    "Audit / pemeriksaan",
    "Pengambilan / penyerahan perangkat",
]
DURATIONS = [15, 30, 60, 90, 120]

NIK_PROBLEMS = {
    NikProblem.NOT_16_DIGITS: "NIK harus tepat 16 angka.",
    NikProblem.UNKNOWN_PROVINCE: "Dua angka pertama NIK bukan kode provinsi yang berlaku.",
    NikProblem.BAD_BIRTH_DATE: (
        "Angka ke-7 s.d. 12 NIK (tanggal lahir) tidak membentuk tanggal yang benar."
    ),
    NikProblem.FUTURE_BIRTH_DATE: "Tanggal lahir pada NIK ada di masa depan.",
    NikProblem.BAD_SERIAL: "Empat angka terakhir NIK tidak boleh 0000.",
}

# --- buttons -------------------------------------------------------------------------------
BTN_BACK = "« Kembali"
BTN_CANCEL = "✖ Batal"
BTN_SUBMIT = "📨 Kirim ke Kepala Seksi"
BTN_REUSE = "✅ Pakai data ini"
BTN_FRESH = "✏️ Isi ulang"
BTN_NO_EQUIPMENT = "Tidak membawa perangkat"
EDIT_BUTTONS = {
    "ktp": "📷 Foto KTP",
    "nik": "NIK",
    "name": "Nama",
    "organisation": "Instansi",
    "phone": "No. HP",
    "purpose": "Keperluan",
    "duration": "Durasi",
    "equipment": "Perangkat",
}


# --- registration --------------------------------------------------------------------------
ASK_KTP = (
    "📝 <b>Pendaftaran pengunjung</b> (langkah 1/8)\n\n"
    "Kirim <b>foto KTP</b> pengunjung. Pastikan NIK dan nama terbaca jelas."
)
ASK_NIK = "Langkah 2/8 — Ketik <b>NIK</b> (16 angka) sesuai KTP."
ASK_NAME = "Langkah 3/8 — Ketik <b>nama lengkap</b> sesuai KTP."
ASK_ORGANISATION = "Langkah 4/8 — Ketik <b>instansi / perusahaan</b> pengunjung."
ASK_PHONE = "Langkah 5/8 — Ketik <b>nomor HP</b> pengunjung (mis. 0812xxxxxxx)."
ASK_PURPOSE = "Langkah 6/8 — Pilih <b>keperluan</b> kunjungan, atau ketik sendiri."
ASK_DURATION = "Langkah 7/8 — Berapa lama rencana kunjungan? Pilih, atau ketik jumlah menit."
ASK_EQUIPMENT = (
    "Langkah 8/8 — Perangkat yang dibawa masuk (laptop, hard disk, alat ukur, ...)? "
    "Ketik daftarnya, atau tekan tombol jika tidak ada."
)
WANT_PHOTO = (
    "Yang dibutuhkan di langkah ini adalah <b>foto KTP</b>. "
    "Kirim sebagai foto (ikon kamera / galeri), bukan teks."
)
WANT_PHOTO_NOT_FILE = (
    "File ini bukan foto yang bisa dipakai. Kirim foto KTP sebagai <b>Foto</b> "
    "(bukan sebagai File/Dokumen)."
)
WANT_TEXT = "Langkah ini meminta <b>teks</b>, bukan foto atau file. Silakan ketik jawabannya."
RESUMED = "♻️ Bot baru saja dimulai ulang. Pendaftaran Anda tersimpan; lanjutkan dari sini:"
USE_BUTTONS = "Silakan pilih dengan menekan salah satu tombol di bawah pertanyaan."
CANCELLED = "Pendaftaran dibatalkan. Tidak ada data yang disimpan. Mulai lagi dengan /daftar."
NOTHING_TO_CANCEL = "Tidak ada pendaftaran yang sedang berjalan."
BAD_PHONE = "Nomor HP tidak valid. Gunakan 9–15 angka, boleh diawali +62 atau 0."
BAD_DURATION = "Durasi harus berupa angka menit antara 5 dan 480."


def too_long(field: str, limit: int) -> str:
    return f"{field} terlalu panjang (maksimal {limit} karakter). Silakan ketik lebih singkat."


def too_short(field: str) -> str:
    return f"{field} terlalu pendek. Silakan ketik dengan lengkap."


def bad_nik(problem: NikProblem) -> str:
    return f"❗ {NIK_PROBLEMS[problem]} Periksa KTP dan ketik ulang NIK."


def returning_visitor(name: str, organisation: str, phone: str) -> str:
    return (
        "Pengunjung ini pernah terdaftar:\n"
        f"Nama: <b>{escape(name)}</b>\nInstansi: {escape(organisation)}\nHP: {escape(phone)}\n\n"
        "Pakai data ini, atau isi ulang?"
    )


def summary(fields: dict[str, str], duration_minutes: int) -> str:
    """The officer's summary before submitting: full NIK, to compare with the card."""
    return (
        "<b>Periksa data pengunjung</b>\n\n"
        f"NIK: <code>{escape(fields['nik'])}</code>\n"
        f"Nama: <b>{escape(fields['name'])}</b>\n"
        f"Instansi: {escape(fields['organisation'])}\n"
        f"HP: {escape(fields['phone'])}\n"
        f"Keperluan: {escape(fields['purpose'])}\n"
        f"Durasi: {duration_minutes} menit\n"
        f"Perangkat: {escape(fields['equipment'] or '-')}\n"
        "Foto KTP: ✅ terlampir\n\n"
        "Tekan nama kolom untuk mengubah, atau kirim ke Kepala Seksi."
    )


def submitted(reference: str, approvers: int) -> str:
    return (
        f"📨 Permintaan <b>{reference}</b> terkirim ke {approvers} Kepala Seksi.\n"
        "Anda akan diberi tahu begitu ada keputusan."
    )
