"""Entry and exit at the door (SOP step 6 and the end): the scanned badge, the escort's
one tap, the manual code and the badge photo, and what the officer is told."""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo
from html import escape

from bot.core.roles import Role
from bot.core.tokens import CODE_ATTEMPTS_ALL, CODE_LENGTH, CODE_WINDOW
from bot.core.visits import Visit, VisitStatus
from bot.texts.common import (
    ROLE_NAMES,
    STALE_BUTTON,
    STATUS_NAMES,
    clock,
    duration,
    visit_details,
    when,
)

BTN_ENTER = "✅ Catat MASUK"
BTN_EXIT = "🚪 Catat KELUAR"
BTN_OPEN_VISIT = "🔎 Buka kunjungan"
SCAN_TO_ENTER = "Pindai QR badge pengunjung di pintu untuk mencatat MASUK."
ONLY_ESCORT = f"Hanya {ROLE_NAMES[Role.ESCORT]} yang dapat mencatat masuk/keluar."
BADGE_UNKNOWN = (
    "❌ Badge tidak dikenal atau palsu. Jangan izinkan masuk; laporkan ke Kepala Seksi."
)
BADGE_FINISHED = "❌ Badge ini sudah tidak berlaku: kunjungannya sudah selesai (check-out)."
BADGE_EXPIRED = "❌ Badge ini sudah kedaluwarsa. Pengunjung harus mendaftar ulang."
CODE_FORMAT = (
    f"Format kode salah. Kode manual terdiri dari {CODE_LENGTH} huruf/angka, "
    "mis. <code>ABCD-EFGH</code>."
)
CODE_RATE_LIMITED = (
    f"⛔ Terlalu banyak kode salah. Tunggu {duration(CODE_WINDOW)}, "
    "atau pindai QR badge / kirim fotonya."
)
CODE_CLOSED = (
    "⛔ Kode manual ditutup sementara untuk semua akun: terlalu banyak kode salah "
    f"dalam {duration(CODE_WINDOW)} terakhir. Pindai QR badge atau kirim fotonya; "
    "Kepala Seksi sudah diberi tahu."
)
CODE_USAGE = (
    "Ketik kode yang tercetak di bawah QR badge, mis. <code>ABCD-EFGH</code>. /batal untuk batal."
)
NO_QR_IN_PHOTO = (
    "Tidak ada QR badge yang terbaca di foto ini. Foto lebih dekat dan tegak lurus, "
    "atau ketik kode manual: <code>/kode ABCD-EFGH</code>."
)
SCAN_AGAIN = (
    "Tombol ini tidak berlaku lagi (hanya untuk satu pindaian, beberapa menit). "
    "Pindai ulang badge pengunjung, lalu tekan tombolnya."
)
PHOTO_TOO_LARGE = "Foto terlalu besar untuk diproses. Kirim foto biasa (bukan file asli)."


def stale_tap(visit: Visit | None) -> str:
    """A MASUK/KELUAR tap the visit's state no longer allows: where it stands now."""
    status = STATUS_NAMES[visit.status] if visit is not None else "-"
    return f"{STALE_BUTTON} Status: {status}"


def forged_badge_alert(escort: str, moment: datetime, tz: tzinfo, earlier: int = 0) -> str:
    """``earlier``: unknown badges scanned since the previous alert that had none of their own
    (alerts are rate-limited; every scan is in the audit log)."""
    more = (
        f"\nSejak peringatan sebelumnya ada {earlier} pindaian badge tidak dikenal lain "
        "(tercatat di log audit)."
        if earlier
        else ""
    )
    return (
        f"⚠️ <b>Badge tidak dikenal/palsu</b> dipindai oleh {escape(escort)} pada "
        f"{clock(moment, tz)}. Pengunjung tidak diizinkan masuk; periksa di pintu.{more}"
    )


def code_guessing_alert(wrong: int, accounts: int, moment: datetime, tz: tzinfo) -> str:
    """To the section heads: wrong manual codes typed from several accounts."""
    closed = (
        " Kode manual kini ditutup untuk semua akun sampai jeda berakhir."
        if wrong >= CODE_ATTEMPTS_ALL
        else ""
    )
    return (
        f"⚠️ <b>Kode manual ditebak?</b> {wrong} kode salah dari {accounts} akun dalam "
        f"{duration(CODE_WINDOW)} terakhir (s.d. {clock(moment, tz)}).{closed} "
        "Periksa siapa yang mengetik kode di log audit."
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


def visitor_waiting(visit: Visit, approver: str, tz: tzinfo) -> str:
    """To every escort when a visit is approved: someone is waiting at the desk."""
    return (
        f"🔔 <b>Pengunjung menunggu di meja petugas</b>\n\n"
        f"{escape(visit.name)} ({escape(visit.organisation)}), Ref {visit.reference}\n"
        f"Keperluan: {escape(visit.purpose)}\n"
        f"Disetujui oleh {escape(approver)}; badge berlaku s.d. {when(visit.valid_until, tz)}.\n\n"
        "Dampingi pengunjung ke ruang server dan pindai QR badgenya di pintu."
    )


def opened_visit(visit: Visit, tz: tzinfo) -> str:
    """The escort's notice, opened: the scan's view, and how entry is recorded."""
    view = scan_view(visit, tz, can_act=True)
    return f"{view}\n\n{SCAN_TO_ENTER}" if visit.status == VisitStatus.APPROVED else view


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
