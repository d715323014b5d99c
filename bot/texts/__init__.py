"""Every user-facing text, in Bahasa Indonesia, in one place.

Functions take raw values and escape them here, so user input can never become
HTML markup (messages are sent with parse_mode=HTML).
"""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo
from html import escape

from bot.core.nik import mask_nik
from bot.core.visits import Visit, VisitStatus

ROLE_NAMES = {
    "officer": "Petugas",
    "approver": "Kepala Seksi",
    "escort": "Pendamping",
    "admin": "Admin",
}

# The access log's commands (handlers/reports.py), for officers, section heads and admins.
REPORT_COMMANDS = [
    ("laporan", "Laporan pencatatan akses (XLSX dan PDF)"),
    ("statistik", "Grafik standar waktu dan pelanggaran"),
    ("riwayat", "Riwayat kunjungan menurut NIK atau nama"),
]
# (command, description) per role, for setMyCommands and the welcome message.
COMMANDS = {
    "officer": [
        ("daftar", "Daftarkan pengunjung baru"),
        ("batal", "Batalkan pendaftaran"),
        *REPORT_COMMANDS,
    ],
    "approver": [("menunggu", "Permintaan yang menunggu keputusan"), *REPORT_COMMANDS],
    "escort": [("kode", "Masukkan kode manual badge")],
    "admin": REPORT_COMMANDS,
    "all": [
        ("aktif", "Siapa yang sedang di ruang server"),
        ("menunggu", "Permintaan yang menunggu keputusan"),
        ("bantuan", "Petunjuk penggunaan"),
    ],
}
# Staff administration (handlers/staff.py).
COMMANDS["admin"] = [
    *COMMANDS.get("admin", []),
    ("staf", "Daftar staf: ubah peran atau hapus"),
    ("undang", "Undang staf baru (tautan sekali pakai)"),
]
COMMANDS["approver"] = [
    *COMMANDS["approver"],
    ("delegasi", "Tunjuk wakil yang menyetujui atas nama Anda"),
]

STATUS_NAMES = {
    VisitStatus.PENDING: "Menunggu keputusan",
    VisitStatus.APPROVED: "Disetujui, belum masuk",
    VisitStatus.DENIED: "Ditolak",
    VisitStatus.CANCELLED: "Dibatalkan",
    VisitStatus.INSIDE: "Di dalam ruang server",
    VisitStatus.DONE: "Selesai",
    VisitStatus.EXPIRED: "Badge kedaluwarsa",
}

# --- buttons -------------------------------------------------------------------------------
BTN_APPROVE = "✅ Setujui"
BTN_DENY = "❌ Tolak"
BTN_DENY_ABORT = "↩ Batal menolak"
BTN_ENTER = "✅ Catat MASUK"
BTN_EXIT = "🚪 Catat KELUAR"

# --- general -------------------------------------------------------------------------------
ERROR = "⚠️ Maaf, terjadi kesalahan di sistem. Silakan coba lagi."
STALE_BUTTON = "Tombol ini sudah tidak berlaku."
NOT_ALLOWED = "Maaf, Anda tidak berwenang untuk tindakan ini."
ONLY_OFFICER = "Perintah ini khusus untuk Petugas."
ONLY_APPROVER = "Hanya Kepala Seksi yang dapat memutuskan permintaan."
ONLY_ESCORT = "Hanya Pendamping yang dapat mencatat masuk/keluar."
UNKNOWN_COMMAND = "Perintah tidak dikenal. Ketik /bantuan untuk daftar perintah."
HELP = (
    "<b>Cara kerja</b>\n"
    "1. Petugas: /daftar, isi data pengunjung dan foto KTP, lalu kirim.\n"
    "2. Kepala Seksi menekan <b>Setujui</b> atau <b>Tolak</b>.\n"
    "3. Petugas menerima badge QR dan memberikannya kepada pengunjung.\n"
    "4. Pendamping memindai QR badge dengan kamera HP saat masuk dan saat keluar "
    "(atau kirim foto badge, atau ketik /kode KODE).\n\n"
    "/aktif — siapa di dalam ruang server\n/menunggu — permintaan yang menunggu"
)


def stranger(user_id: int) -> str:
    return (
        "Maaf, bot ini hanya untuk petugas Diskominfo yang terdaftar.\n\n"
        f"ID Telegram Anda: <code>{user_id}</code>\n"
        "Jika Anda petugas, sampaikan ID ini kepada admin agar didaftarkan."
    )


def welcome(name: str, roles: frozenset[str]) -> str:
    role_text = ", ".join(ROLE_NAMES[r] for r in ROLE_NAMES if r in roles)
    lines = [f"Selamat datang, <b>{escape(name)}</b>.", f"Peran Anda: {role_text}.", ""]
    for command, description in commands_for(roles):
        lines.append(f"/{command} — {escape(description)}")
    return "\n".join(lines)


def commands_for(roles: frozenset[str]) -> list[tuple[str, str]]:
    """Commands one person sees in the menu, in a stable order, without repeats."""
    result: list[tuple[str, str]] = []
    for role in [*ROLE_NAMES, "all"]:
        if role in roles or role == "all":
            for command in COMMANDS.get(role, []):
                if command[0] not in {c for c, _ in result}:
                    result.append(command)
    return result


def when(moment: datetime | None, tz: tzinfo) -> str:
    """Date and time in the office's zone, e.g. 28-11-2026 14:05 WIB."""
    return "-" if moment is None else moment.astimezone(tz).strftime("%d-%m-%Y %H:%M %Z")


def clock(moment: datetime | None, tz: tzinfo) -> str:
    return "-" if moment is None else moment.astimezone(tz).strftime("%H:%M %Z")


def duration(delta: timedelta) -> str:
    minutes = max(0, int(delta.total_seconds() // 60))
    hours, minutes = divmod(minutes, 60)
    if hours and minutes:
        return f"{hours} jam {minutes} menit"
    return f"{hours} jam" if hours else f"{minutes} menit"


# --- approval ------------------------------------------------------------------------------
def visit_details(visit: Visit, *, full_nik: bool = False) -> str:
    nik = visit.nik if full_nik else mask_nik(visit.nik)
    return (
        f"Ref: <b>{visit.reference}</b>\n"
        f"Nama: <b>{escape(visit.name)}</b>\n"
        f"NIK: <code>{nik}</code>\n"
        f"Instansi: {escape(visit.organisation)}\n"
        f"HP: {escape(visit.phone)}\n"
        f"Keperluan: {escape(visit.purpose)}\n"
        f"Durasi rencana: {visit.duration_minutes} menit\n"
        f"Perangkat: {escape(visit.equipment or '-')}"
    )


def approval_card(visit: Visit, officer: str, tz: tzinfo) -> str:
    return (
        "🔔 <b>Permintaan akses ruang server</b>\n\n"
        f"{visit_details(visit)}\n"
        f"Petugas: {escape(officer)}\nDiajukan: {clock(visit.submitted_at, tz)}"
    )


def card_decided(visit: Visit, officer: str, decider: str, tz: tzinfo) -> str:
    base = approval_card(visit, officer, tz)
    if visit.status == VisitStatus.DENIED:
        reason = escape(visit.deny_reason or "-")
        decided = f"{escape(decider)}, {clock(visit.decided_at, tz)}"
        return f"{base}\n\n❌ <b>DITOLAK</b> oleh {decided}\nAlasan: {reason}"
    if visit.status == VisitStatus.CANCELLED:
        return f"{base}\n\n✖ <b>DIBATALKAN</b> oleh petugas"
    return f"{base}\n\n✅ <b>DISETUJUI</b> oleh {escape(decider)}, {clock(visit.decided_at, tz)}"


def already_decided(visit: Visit) -> str:
    return f"Permintaan ini sudah diputuskan: {STATUS_NAMES[visit.status]}."


APPROVED_TOAST = "Disetujui. Badge dikirim ke petugas."
DENIED_TOAST = "Permintaan ditolak."


def ask_deny_reason(reference: str) -> str:
    return f"Tulis <b>alasan penolakan</b> untuk {reference} (akan diteruskan ke petugas):"


DENY_ABORTED = "Penolakan dibatalkan. Permintaan masih menunggu keputusan."
DENY_REASON_TOO_LONG = (
    "Alasan terlalu panjang (maksimal 300 karakter). Silakan ketik lebih singkat."
)
DENY_REASON_TEXT = "Alasan penolakan harus berupa teks. Silakan ketik alasannya."


def officer_approved(visit: Visit, decider: str, tz: tzinfo) -> str:
    return (
        f"✅ Permintaan <b>{visit.reference}</b> ({escape(visit.name)}) <b>disetujui</b> oleh "
        f"{escape(decider)}.\nBerikan badge di bawah kepada pengunjung; badge wajib dipakai "
        f"selama di ruang server. Berlaku s.d. {when(visit.valid_until, tz)}."
    )


def badge_caption(visit: Visit, code: str, tz: tzinfo) -> str:
    return (
        f"🪪 Badge {visit.reference} — {escape(visit.name)}\n"
        f"Berlaku s.d. {when(visit.valid_until, tz)}\nKode manual: <code>{code}</code>"
    )


def officer_denied(visit: Visit, decider: str) -> str:
    return (
        f"❌ Permintaan <b>{visit.reference}</b> ({escape(visit.name)}) <b>ditolak</b> oleh "
        f"{escape(decider)}.\nAlasan: {escape(visit.deny_reason or '-')}\n"
        "Pengunjung tidak dapat masuk ruang server."
    )


# --- entry and exit ------------------------------------------------------------------------
BADGE_UNKNOWN = (
    "❌ Badge tidak dikenal atau palsu. Jangan izinkan masuk; laporkan ke Kepala Seksi."
)
BADGE_FINISHED = "❌ Badge ini sudah tidak berlaku: kunjungannya sudah selesai (check-out)."
BADGE_EXPIRED = "❌ Badge ini sudah kedaluwarsa. Pengunjung harus mendaftar ulang."
CODE_FORMAT = (
    "Format kode salah. Kode manual terdiri dari 8 huruf/angka, mis. <code>ABCD-EFGH</code>."
)
CODE_RATE_LIMITED = (
    "⛔ Terlalu banyak kode salah. Tunggu 10 menit, atau pindai QR badge / kirim fotonya."
)
CODE_USAGE = "Ketik kode yang tercetak di bawah QR badge, mis. <code>/kode ABCD-EFGH</code>."
NO_QR_IN_PHOTO = (
    "Tidak ada QR badge yang terbaca di foto ini. Foto lebih dekat dan tegak lurus, "
    "atau ketik kode manual: <code>/kode ABCD-EFGH</code>."
)
PHOTO_TOO_LARGE = "Foto terlalu besar untuk diproses. Kirim foto biasa (bukan file asli)."


def forged_badge_alert(escort: str, moment: datetime, tz: tzinfo) -> str:
    return (
        f"⚠️ <b>Badge tidak dikenal/palsu</b> dipindai oleh {escape(escort)} pada "
        f"{clock(moment, tz)}. Pengunjung tidak diizinkan masuk; periksa di pintu."
    )


def badge_expired_notice(visit: Visit) -> str:
    return (
        f"⌛ Badge {visit.reference} ({escape(visit.name)}) kedaluwarsa sebelum dipakai masuk. "
        "Jika pengunjung masih perlu masuk, daftarkan ulang dengan /daftar."
    )


def scan_view(visit: Visit, tz: tzinfo, *, can_act: bool) -> str:
    status = STATUS_NAMES[visit.status]
    lines = [f"🪪 <b>Badge pengunjung</b>\n\n{visit_details(visit)}", f"Status: <b>{status}</b>"]
    if visit.status == VisitStatus.APPROVED:
        lines.append(f"Berlaku s.d. {when(visit.valid_until, tz)}")
    if visit.status == VisitStatus.INSIDE:
        lines.append(f"Masuk: {clock(visit.entered_at, tz)}")
    if not can_act:
        lines.append(f"\n{ONLY_ESCORT}")
    return "\n".join(lines)


def entered(visit: Visit, escort: str, tz: tzinfo) -> str:
    return (
        f"✅ <b>MASUK</b> tercatat {clock(visit.entered_at, tz)} — {escape(visit.name)} "
        f"({visit.reference}), didampingi {escape(escort)}.\n"
        "Pindai badge lagi saat pengunjung keluar."
    )


def exited(visit: Visit, escort: str, tz: tzinfo) -> str:
    return (
        f"🚪 <b>KELUAR</b> tercatat {clock(visit.exited_at, tz)} — {escape(visit.name)} "
        f"({visit.reference}). Badge dinonaktifkan."
    )


def officer_entered(visit: Visit, escort: str, tz: tzinfo) -> str:
    return (
        f"🔓 {escape(visit.name)} ({visit.reference}) masuk ruang server "
        f"{clock(visit.entered_at, tz)}, didampingi {escape(escort)}."
    )


def exit_summary(visit: Visit, escort: str, tz: tzinfo) -> str:
    assert visit.entered_at is not None and visit.exited_at is not None
    spent = visit.exited_at - visit.entered_at
    over = spent > timedelta(minutes=visit.duration_minutes)
    note = " ⚠️ melebihi rencana" if over else ""
    return (
        f"🏁 <b>Kunjungan selesai</b> — {visit.reference}\n"
        f"Nama: {escape(visit.name)}\nInstansi: {escape(visit.organisation)}\n"
        f"Masuk: {clock(visit.entered_at, tz)}\nKeluar: {clock(visit.exited_at, tz)}\n"
        f"Lama: {duration(spent)} (rencana {visit.duration_minutes} menit){note}\n"
        f"Pendamping: {escape(escort)}"
    )


# --- oversight -----------------------------------------------------------------------------
NOBODY_INSIDE = "Tidak ada pengunjung di dalam ruang server saat ini."
NOTHING_PENDING = "Tidak ada permintaan yang menunggu keputusan."


def inside_list(visits: list[Visit], now: datetime, names: dict[int, str], tz: tzinfo) -> str:
    lines = [f"🔓 <b>Di dalam ruang server: {len(visits)}</b>"]
    for visit in visits:
        spent = visit.time_inside(now) or timedelta()
        flag = " ⚠️ <b>melewati rencana</b>" if visit.overstayed(now) else ""
        escort = escape(names.get(visit.entry_escort_id or 0, "-"))
        lines.append(
            f"\n• <b>{escape(visit.name)}</b> ({escape(visit.organisation)}) — {visit.reference}\n"
            f"  masuk {clock(visit.entered_at, tz)}, {duration(spent)} dari "
            f"{visit.duration_minutes} menit{flag}\n  pendamping: {escort}"
        )
    return "\n".join(lines)


def pending_list(visits: list[Visit], now: datetime, standard: int, tz: tzinfo) -> str:
    lines = [f"⏳ <b>Menunggu keputusan: {len(visits)}</b>"]
    for visit in visits:
        waited = now - visit.submitted_at
        flag = " ⚠️ <b>melewati standar</b>" if waited > timedelta(minutes=standard) else ""
        lines.append(
            f"\n• <b>{escape(visit.name)}</b> ({escape(visit.organisation)}) — {visit.reference}\n"
            f"  diajukan {clock(visit.submitted_at, tz)}, menunggu {duration(waited)} "
            f"(standar {standard} menit){flag}"
        )
    return "\n".join(lines)
