"""Entry and exit at the door (SOP step 6 and the end): the scanned badge, the escort's
one tap, the manual code and the badge photo, and what the officer is told."""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo
from html import escape

from bot.core import callbacks
from bot.core.fields import REASON_MAX
from bot.core.nik import mask_niks_in
from bot.core.roles import Role
from bot.core.tokens import CODE_ATTEMPTS_ALL, CODE_LENGTH, CODE_WINDOW, DOOR_NONCE_TTL
from bot.core.visits import EquipmentCheck, Visit, VisitStatus
from bot.texts.common import (
    ROLE_NAMES,
    STALE_BUTTON,
    clock,
    duration,
    shown_length,
    status_name,
    visit_details,
    when,
)

BTN_ENTER = "✅ Catat MASUK"
BTN_EXIT = "🚪 Catat KELUAR"
BTN_OPEN_VISIT = "🔎 Buka kunjungan"
# KELUAR of a visit that listed equipment: the escort records it with what they found.
BTN_EXIT_OK = "✅ Perangkat sesuai"
BTN_EXIT_DIFF = "⚠️ Ada selisih"
# Under the scanned badge: the KTP photo is there to compare the face (PCI DSS 9.3.1).
COMPARE_FACE = "👤 Cocokkan wajah pengunjung dengan foto KTP."
KTP_PURGED = "🗑 Foto KTP sudah dihapus sesuai retensi. Periksa KTP asli pengunjung."
KTP_UNAVAILABLE = "Foto KTP tidak dapat ditampilkan. Periksa KTP asli pengunjung."
CHECK_EQUIPMENT = "Periksa <b>perangkat</b> yang dibawa keluar, lalu catat KELUAR di bawah."
NOTE_TOO_LONG = (
    f"Catatan terlalu panjang (maksimal {REASON_MAX} karakter). Silakan ketik lebih singkat."
)
NOTE_TEXT = (
    "Catatan selisih perangkat harus berupa kata-kata (bukan hanya emoji atau tanda baca). "
    "Silakan ketik."
)
NOTE_AWAITED = "Ketik catatan selisihnya di chat ini."
NOTE_CANCELLED = (
    "Catatan selisih dibatalkan; KELUAR belum tercatat. Pindai ulang badge untuk mencatat KELUAR."
)
NOTE_SAVED = "✅ Catatan selisih tersimpan; KELUAR tercatat dan Kepala Seksi sudah diberi tahu."
NOTE_TOO_LATE = (
    "Catatan tidak dicatat: tombol KELUAR sudah tidak berlaku. Pindai ulang badge "
    "pengunjung, lalu tekan tombolnya lagi."
)
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


def already_recorded(visit: Visit | None, action: str, tz: tzinfo) -> str:
    """A second tap on the MASUK or KELUAR button whose first tap recorded it."""
    if action == callbacks.DOOR_ENTER:
        return f"✅ MASUK sudah tercatat {clock(visit.entered_at if visit else None, tz)}."
    return f"✅ KELUAR sudah tercatat {clock(visit.exited_at if visit else None, tz)}."


def stale_tap(visit: Visit | None) -> str:
    """A MASUK/KELUAR tap the visit's state no longer allows: where it stands now."""
    status = status_name(visit) if visit is not None else "-"
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


def ktp_line(visit: Visit, *, shown: bool) -> str:
    """What the scan says about the KTP photo: shown above it, purged, or not to be had."""
    if shown:
        return COMPARE_FACE
    return KTP_PURGED if not visit.ktp_file_id else KTP_UNAVAILABLE


CAPTION_MAX = 1024  # https://core.telegram.org/bots/api#sendphoto: 0-1024 characters


def fits_caption(html: str) -> bool:
    """Whether Telegram takes ``html`` as a caption (counted as Telegram counts)."""
    return shown_length(html) <= CAPTION_MAX


BARRED = (
    "⛔ <b>NIK pengunjung ini masuk daftar blokir setelah badge terbit.</b> Jangan izinkan "
    "masuk; hubungi Kepala Seksi."
)
BARRED_TAP = "⛔ NIK ini masuk daftar blokir setelah badge terbit: MASUK tidak dicatat."


def scan_view(
    visit: Visit,
    tz: tzinfo,
    *,
    can_act: bool,
    ktp: str = "",
    buttons: bool = True,
    barred: bool = False,
) -> str:
    """The scanned badge, as the caption under the KTP photo (at most 1024 characters, the
    caption limit: every field at its longest fits) or as a text when there is no photo.
    The photo shows the NIK; the words mask it wherever it was typed (docs/privacy.md).
    ``buttons``: the door buttons are under it (a scan), not an opened notice. ``barred``:
    the NIK went on the watchlist after the approval, and the door refuses entry."""
    status = status_name(visit)
    lines = [f"🪪 <b>Badge pengunjung</b>\n\n{visit_details(visit)}", f"Status: <b>{status}</b>"]
    if visit.status == VisitStatus.APPROVED:
        lines.append(f"Berlaku s.d. {when(visit.valid_until, tz)}")
    if visit.status == VisitStatus.INSIDE:
        lines.append(f"Masuk: {clock(visit.entered_at, tz)}")
    if ktp:
        lines.append(ktp)
    if barred:
        lines.append(f"\n{BARRED}")
    if not can_act:
        lines.append(f"\n{ONLY_ESCORT}")
    elif buttons and visit.status == VisitStatus.INSIDE and visit.needs_equipment_check:
        lines.append(f"\n{CHECK_EQUIPMENT}")
    return mask_niks_in("\n".join(lines))


def ask_note(visit: Visit) -> str:
    """After ⚠️ Ada selisih: the note is typed next; KELUAR is recorded with it."""
    return (
        f"⚠️ <b>Selisih perangkat</b> — {escape(visit.name)} ({visit.reference})\n"
        f"Ketik catatannya: perangkat apa yang kurang atau lebih (maksimal {REASON_MAX} "
        f"karakter, dalam {duration(DOOR_NONCE_TTL)}). KELUAR dicatat setelah catatan terkirim."
    )


def equipment_result(visit: Visit) -> str:
    """The escort's check as the exit and its summary show it; empty when none was listed."""
    if visit.equipment_check == EquipmentCheck.MATCHES:
        return f"\n{BTN_EXIT_OK}"
    if visit.equipment_check == EquipmentCheck.DIFFERS:
        return f"\n⚠️ <b>Selisih perangkat:</b> {escape(visit.equipment_note or '-')}"
    return ""


def visitor_waiting(visit: Visit, approver: str, tz: tzinfo) -> str:
    """To every escort when a visit is approved: someone is waiting at the desk."""
    return (
        f"🔔 <b>Pengunjung menunggu di meja petugas</b>\n\n"
        f"{escape(visit.name)} ({escape(visit.organisation)}), Ref {visit.reference}\n"
        f"Keperluan: {escape(visit.purpose)}\n"
        f"Disetujui oleh {escape(approver)}; badge berlaku s.d. {when(visit.valid_until, tz)}.\n\n"
        "Dampingi pengunjung ke ruang server dan pindai QR badgenya di pintu."
    )


def waiting_expired(visit: Visit, tz: tzinfo) -> str:
    """An escort's "a visitor waits", once the badge ran out unused: nobody to fetch."""
    return (
        f"⌛ <b>Tidak perlu dijemput</b> — badge {visit.reference} kedaluwarsa "
        f"{clock(visit.valid_until, tz)} sebelum dipakai masuk; pintu menolaknya."
    )


def opened_visit(visit: Visit, tz: tzinfo) -> str:
    """The escort's notice, opened: the scan's view, and how entry is recorded."""
    view = scan_view(visit, tz, can_act=True, buttons=False)
    return f"{view}\n\n{SCAN_TO_ENTER}" if visit.status == VisitStatus.APPROVED else view


def entered(visit: Visit, escort: str, tz: tzinfo) -> str:
    return (
        f"✅ <b>MASUK</b> tercatat {clock(visit.entered_at, tz)} — {escape(visit.name)} "
        f"({visit.reference}), didampingi {escape(escort)}.\n"
        "Pindai badge lagi saat pengunjung keluar."
    )


def exited(visit: Visit, escort: str, tz: tzinfo) -> str:
    return mask_niks_in(
        f"🚪 <b>KELUAR</b> tercatat {clock(visit.exited_at, tz)} — {escape(visit.name)} "
        f"({visit.reference}). Badge dinonaktifkan.{equipment_result(visit)}"
    )


def late_discrepancy(visit: Visit, reporter: str, recorder: str, note: str, tz: tzinfo) -> str:
    """To the section heads and the officer: a discrepancy reported by one escort after
    another had recorded KELUAR as matching."""
    return mask_niks_in(
        f"⚠️ <b>Selisih perangkat dilaporkan setelah KELUAR</b> — {visit.reference} "
        f"({escape(visit.name)})\n{escape(recorder)} mencatat KELUAR "
        f"{clock(visit.exited_at, tz)} dengan perangkat sesuai; {escape(reporter)} "
        f"melaporkan selisih: {escape(note)}"
    )


def note_after_exit(visit: Visit, recorder: str, tz: tzinfo) -> str:
    """To the escort whose note came after another escort recorded KELUAR as matching."""
    return (
        f"KELUAR {visit.reference} sudah dicatat oleh {escape(recorder)} pukul "
        f"{clock(visit.exited_at, tz)} dengan perangkat sesuai. Catatan selisih Anda tetap "
        "tersimpan pada kunjungan ini dan sudah dikirim ke Kepala Seksi dan petugas."
    )


def officer_entered(visit: Visit, escort: str, tz: tzinfo) -> str:
    return (
        f"🔓 {escape(visit.name)} ({visit.reference}) masuk ruang server "
        f"{clock(visit.entered_at, tz)}, didampingi {escape(escort)}."
    )


def exit_summary(visit: Visit, escort: str, tz: tzinfo) -> str:
    assert visit.entered_at is not None and visit.exited_at is not None
    # A visit past midnight dates both times: "09:00 - 09:10" would read as ten minutes.
    one_day = visit.entered_at.astimezone(tz).date() == visit.exited_at.astimezone(tz).date()
    stamp = clock if one_day else when
    spent = visit.exited_at - visit.entered_at
    over = spent > timedelta(minutes=visit.duration_minutes)
    note = " ⚠️ melebihi rencana" if over else ""
    alert = (
        "⚠️ <b>Ada selisih perangkat saat keluar</b>\n"
        if visit.equipment_check == EquipmentCheck.DIFFERS
        else ""
    )
    return mask_niks_in(
        f"{alert}🏁 <b>Kunjungan selesai</b> — {visit.reference}\n"
        f"Nama: {escape(visit.name)}\nInstansi: {escape(visit.organisation)}\n"
        f"Masuk: {stamp(visit.entered_at, tz)}\nKeluar: {stamp(visit.exited_at, tz)}\n"
        f"Lama: {duration(spent)} (rencana {visit.duration_minutes} menit){note}\n"
        f"Pendamping: {escape(escort)}{equipment_result(visit)}"
    )
