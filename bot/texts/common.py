"""Texts every feature shares: roles, the command menu, welcome and help, refusals,
visit statuses, and how times and durations are written.

The rules of the whole package: Bahasa Indonesia; functions take raw values and escape
user input here (messages are sent with parse_mode=HTML); a number in prose comes from
the constant that enforces it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, datetime, timedelta, tzinfo
from html import escape, unescape

from bot.core.planning import Plan
from bot.core.roles import Role
from bot.core.visits import LAPSE_GRACE, Visit, VisitStatus
from bot.texts import form as form_texts

ROLE_NAMES = {
    Role.OFFICER: "Petugas",
    Role.APPROVER: "Kepala Seksi",
    Role.ESCORT: "Pendamping",
    Role.ADMIN: "Admin",
}

# The access log's commands (handlers/reports.py), for officers, section heads and admins.
_REPORT_COMMANDS = [
    ("laporan", "Laporan pencatatan akses (XLSX dan PDF)"),
    ("statistik", "Grafik standar waktu dan pelanggaran"),
    ("riwayat", "Riwayat kunjungan menurut NIK atau nama"),
]
# (command, description) per role, for setMyCommands and the welcome message.
COMMANDS = {
    Role.OFFICER: [
        ("daftar", "Daftarkan pengunjung baru"),
        ("jadwal", "Jadwalkan kunjungan (disetujui lebih dulu)"),
        ("hari_ini", "Kunjungan terjadwal hari ini"),
        ("undang_tamu", "Tautan isi mandiri untuk pengunjung"),
        ("kembali", "Kembali satu langkah di formulir"),
        ("batal", "Batalkan pendaftaran"),
        ("batalkan", "Batalkan permintaan yang belum dipakai"),
        *_REPORT_COMMANDS,
    ],
    Role.APPROVER: [
        ("menunggu", "Permintaan yang menunggu keputusan"),
        ("jadwal", "Jadwalkan kunjungan (disetujui lebih dulu)"),
        ("hari_ini", "Kunjungan terjadwal hari ini"),
        *_REPORT_COMMANDS,
        ("delegasi", "Tunjuk wakil yang menyetujui atas nama Anda"),
        ("blokir", "Blokir NIK: pendaftarannya ditandai ⛔"),
        ("buka_blokir", "Keluarkan NIK dari daftar blokir"),
        ("daftar_blokir", "Daftar NIK yang diblokir"),
    ],
    Role.ESCORT: [
        ("kode", "Masukkan kode manual badge"),
        ("piket", "Mulai atau selesai piket pendamping"),
    ],
    Role.ADMIN: [
        *_REPORT_COMMANDS,
        ("staf", "Daftar staf: ubah peran atau hapus"),
        ("undang", "Undang staf baru (tautan sekali pakai)"),
    ],
}
# Every member's, whatever their roles; listed after the role's own.
EVERYONE_COMMANDS = [
    ("aktif", "Siapa yang sedang di ruang server"),
    ("darurat", "Apel darurat (evakuasi): siapa di dalam, tandai yang aman"),
    ("menunggu", "Permintaan yang menunggu keputusan"),
    ("bantuan", "Petunjuk penggunaan"),
]

STATUS_NAMES = {
    VisitStatus.PENDING: "Menunggu keputusan",
    VisitStatus.SCHEDULED: "Disetujui, terjadwal (pengunjung belum datang)",
    VisitStatus.APPROVED: "Disetujui, belum masuk",
    VisitStatus.DENIED: "Ditolak",
    VisitStatus.CANCELLED: "Dibatalkan",
    VisitStatus.INSIDE: "Di dalam ruang server",
    VisitStatus.DONE: "Selesai",
    VisitStatus.EXPIRED: "Badge kedaluwarsa",
}
# When an undecided walk-in request lapses (bot/core/visits.py lapses_at), in words.
LAPSE_RULE = (
    "akhir hari pengajuan, dan paling cepat "
    f"{int(LAPSE_GRACE.total_seconds() // 3600)} jam setelah diajukan"
)
LAPSED = "Kedaluwarsa, tidak diputuskan sampai batas waktunya"


def status_name(visit: Visit) -> str:
    """Where a visit stands, in words: an expired request nobody decided had no badge."""
    if visit.status == VisitStatus.EXPIRED and visit.decided_at is None:
        return LAPSED
    return STATUS_NAMES[visit.status]


# What a person reads about the bot before pressing Start (setMyDescription, at most 512
# characters) and on its profile and in shared links (setMyShortDescription, at most 120).
DESCRIPTION = (
    "Bot prosedur akses ruang server Diskominfo Kabupaten Lumajang.\n\n"
    "Petugas mendaftarkan pengunjung, Kepala Seksi menyetujui, badge QR dipindai saat "
    "masuk dan keluar, dan setiap langkah tercatat di log akses.\n\n"
    "Khusus staf yang terdaftar. Tekan Mulai, lalu /bantuan untuk petunjuk."
)
SHORT_DESCRIPTION = (
    "Akses ruang server Diskominfo Kabupaten Lumajang: pendaftaran, persetujuan, badge QR."
)
ERROR = "⚠️ Maaf, terjadi kesalahan di sistem. Silakan coba lagi."
STALE_BUTTON = "Tombol ini sudah tidak berlaku."


def late_alert(alert: str) -> str:
    """An alert Telegram no longer takes (the tap waited too long), sent as a reply instead."""
    return f"ℹ️ {escape(alert)}"


NOT_ALLOWED = "Maaf, Anda tidak berwenang untuk tindakan ini."


def edit_not_read(*, in_form: bool) -> str:
    """A message edited after it was sent: the bot already used its first text."""
    fix = (
        "Untuk memperbaiki jawaban formulir, tekan /kembali sampai pertanyaannya, atau pilih "
        "yang diubah di ringkasan sebelum Kirim."
        if in_form
        else "Kirim ulang sebagai pesan baru bila perlu."
    )
    return f"✏️ Pesan yang diedit tidak dibaca: bot sudah memakai isi pertamanya. {fix}"


UNKNOWN_COMMAND = "Perintah tidak dikenal."
ARGUMENT_ABANDONED = "Baik, dibatalkan."
BTN_TODAY = "Hari ini"
HELP_STEPS = (
    "<b>Cara kerja</b>\n"
    "1. Petugas: /daftar, isi data pengunjung dan foto KTP, lalu kirim.\n"
    "2. Kepala Seksi menekan <b>Setujui</b> atau <b>Tolak</b>.\n"
    "3. Petugas menerima badge QR dan memberikannya kepada pengunjung.\n"
    "4. Pendamping memindai QR badge dengan kamera HP saat masuk dan saat keluar "
    "(atau kirim foto badge, atau ketik /kode KODE)."
)
HELP_PLANNED = (
    "<b>Kunjungan terjadwal</b>\n"
    "/jadwal — Petugas atau Kepala Seksi mengisi tanggal, jam, dan data pengunjung (tanpa "
    "foto KTP); Kepala Seksi memutuskan lebih dulu.\n"
    "/hari_ini — pada harinya petugas membuka kunjungan, memotret KTP dan mencocokkannya "
    "dengan orangnya; badge langsung terbit."
)
HELP_INVITE = (
    "/undang_tamu — petugas membuat tautan sekali pakai (24 jam) untuk tanggal dan jam "
    "tertentu; pengunjung yang punya Telegram mengisi sendiri data dan foto KTP-nya, lalu "
    "permintaannya dikirim ke Kepala Seksi. Pada harinya KTP tetap dicocokkan lewat "
    "/hari_ini."
)
HELP_EMERGENCY = (
    "<b>Apel darurat</b>: /darurat — semua staf menerima daftar pengunjung di dalam, lalu "
    "pendamping menandai setiap pengunjung yang sudah aman."
)
HELP_DUTY = (
    "<b>Piket pendamping</b>: /piket — pendamping menandai mulai dan selesai piket. "
    "Pemberitahuan pengunjung yang disetujui dikirim ke pendamping yang sedang piket "
    "(jika tidak ada, ke semua pendamping). Piket berakhir sendiri pukul 24.00."
)
HELP_WATCHLIST = (
    "<b>Daftar blokir</b>: /blokir NIK alasan, /buka_blokir NIK, /daftar_blokir. "
    "Pendaftaran dengan NIK yang diblokir ditandai ⛔ blokir, dan menyetujuinya perlu "
    "konfirmasi kedua."
)


def help_for(roles: frozenset[Role] | frozenset[str]) -> str:
    """/bantuan: how the procedure runs, this person's own commands (as in their menu), and
    the parts of the procedure their roles take part in."""
    parts = [HELP_STEPS]
    mine = [f"/{command} — {escape(text)}" for command, text in commands_for(roles)]
    parts.append("<b>Perintah Anda</b>\n" + "\n".join(mine))
    if Role.OFFICER in roles:
        parts.append(f"{HELP_PLANNED}\n{HELP_INVITE}")
    elif Role.APPROVER in roles:
        parts.append(HELP_PLANNED)
    parts.append(HELP_EMERGENCY)
    if Role.ESCORT in roles:
        parts.append(HELP_DUTY)
    if Role.APPROVER in roles:
        parts.append(HELP_WATCHLIST)
    return "\n\n".join(parts)


def only_for(role: Role) -> str:
    """The refusal of a command or button that one role alone may use."""
    return f"Perintah ini khusus untuk {ROLE_NAMES[role]}."


ONLY_OFFICER = only_for(Role.OFFICER)
ONLY_APPROVER = only_for(Role.APPROVER)
ONLY_ADMIN = only_for(Role.ADMIN)


PRIVATE_ONLY = "Bot ini hanya melayani obrolan pribadi, tidak di grup."


def group_left(who: str, user_id: int | None, title: str, chat_id: int, added: bool) -> str:
    """To every admin: the bot found itself in a group and left it."""
    how = "menambahkan bot ke grup" if added else "memakai bot di grup"
    person = f"{escape(who)} (ID <code>{user_id}</code>)" if user_id is not None else "Seseorang"
    return (
        f"⚠️ {person} {how} <b>{escape(title)}</b> (ID <code>{chat_id}</code>). "
        "Bot langsung keluar dari grup itu: bot hanya bekerja di obrolan pribadi, "
        "agar data pengunjung tidak tersebar."
    )


def stranger(user_id: int) -> str:
    return (
        "Maaf, bot ini hanya untuk petugas Diskominfo yang terdaftar.\n\n"
        f"ID Telegram Anda: <code>{user_id}</code>\n"
        "Jika Anda petugas, sampaikan ID ini kepada admin agar didaftarkan."
    )


def roles_text(roles: frozenset[Role] | frozenset[str]) -> str:
    """A member's roles in the menu's order, e.g. 'Petugas, Admin'."""
    return ", ".join(name for role, name in ROLE_NAMES.items() if role in roles) or "-"


def welcome(name: str, roles: frozenset[Role] | frozenset[str]) -> str:
    lines = [f"Selamat datang, <b>{escape(name)}</b>.", f"Peran Anda: {roles_text(roles)}.", ""]
    for command, description in commands_for(roles):
        lines.append(f"/{command} — {escape(description)}")
    return "\n".join(lines)


def guide(roles: frozenset[Role] | frozenset[str], *, unknown_command: bool = False) -> str:
    """The answer to a message no flow expects: this person's own commands, as in the menu."""
    lines = [UNKNOWN_COMMAND] if unknown_command else []
    lines.append("Pilih perintah dari menu, atau ketik salah satu:")
    lines += [
        f"/{command} — {escape(description)}" for command, description in commands_for(roles)
    ]
    return "\n".join(lines)


def commands_for(roles: frozenset[Role] | frozenset[str]) -> list[tuple[str, str]]:
    """Commands one person sees in the menu, in a stable order, without repeats."""
    result: list[tuple[str, str]] = []
    lists = [COMMANDS[role] for role in ROLE_NAMES if role in roles]
    for command in [c for commands in [*lists, EVERYONE_COMMANDS] for c in commands]:
        if command[0] not in {c for c, _ in result}:
            result.append(command)
    return result


def date_text(moment: date) -> str:
    """A date as the office writes it, e.g. 28-11-2026."""
    return moment.strftime("%d-%m-%Y")


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


DAY_NAMES = ("Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu")


def plan_text(plan: Plan) -> str:
    """A planned visit's day and window, e.g. Kamis, 03-12-2026, 09:00-12:00."""
    return f"{DAY_NAMES[plan.day.weekday()]}, {date_text(plan.day)}, {plan.window}"


def visit_details(visit: Visit) -> str:
    """The visit as staff see it on the approval card and on a scanned badge."""
    lines = "\n".join(form_texts.card_lines(vars(visit)))
    planned = f"\n📅 Terjadwal: <b>{plan_text(visit.plan)}</b>" if visit.plan else ""
    return f"Ref: <b>{visit.reference}</b>{planned}\n{lines}"


# --- messages longer than Telegram takes -----------------------------------------------------
# https://core.telegram.org/bots/api#sendmessage: 1-4096 characters after entities parsing,
# counted in UTF-16 code units as Telegram counts text.
MESSAGE_MAX = 4096


def shown_length(html: str) -> int:
    """How long Telegram counts ``html``: the text left once the markup is parsed, in UTF-16
    code units."""
    plain = unescape(re.sub(r"<[^>]*>", "", html))
    return len(plain.encode("utf-16-le")) // 2


def continued(page: int, pages: int) -> str:
    """The first line of every page of a long list after the first."""
    return f"<i>(lanjutan, bagian {page} dari {pages})</i>"


# Room kept on each page for its "lanjutan" line (two numbers up to 999 and the newline).
_CONTINUED_ROOM = shown_length(continued(999, 999)) + 2


def pages(
    head: str, items: Sequence[str], tail: str = "", *, room: int = MESSAGE_MAX
) -> list[str]:
    """``head``, each of ``items`` and ``tail`` on lines of their own, as one message when
    that fits Telegram's limit and as several otherwise: a list is never refused for its
    length (an office's audit day fills any list). Pages break between items, never inside
    one, so each item's markup stays whole; every page after the first says which part of
    how many it is. An item too long for a page by itself (never one of the bot's own
    lists) is cut at the room left."""
    blocks = [head, *items] + ([tail] if tail else [])
    limit = room - _CONTINUED_ROOM
    parts: list[list[str]] = [[]]
    used = 0
    for block in blocks:
        size = shown_length(block)
        if size > limit:  # cannot happen with the lists' own items; never refused anyway
            block = escape(unescape(re.sub(r"<[^>]*>", "", block))[: limit // 2])
            size = shown_length(block)
        if parts[-1] and used + 1 + size > limit:
            parts.append([])
            used = 0
        used += size + (1 if parts[-1] else 0)
        parts[-1].append(block)
    if len(parts) == 1:
        return ["\n".join(parts[0])]
    total = len(parts)
    return [
        "\n".join(part if n == 1 else [continued(n, total), *part])
        for n, part in enumerate(parts, start=1)
    ]
