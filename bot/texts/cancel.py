"""The officer's cancel (/batalkan): choosing the request, the reason, what the approvers'
cards and the badge say afterwards, and the refusal at the door. Every text that shows the
reason or the visitor's name masks a NIK typed into them (``mask_niks_in``), as the cards do."""

from __future__ import annotations

from datetime import tzinfo
from html import escape

from bot.core.fields import REASON_MAX
from bot.core.nik import mask_niks_in
from bot.core.visits import Visit, VisitStatus
from bot.texts.approval import approval_card
from bot.texts.common import clock, status_name, when

BTN_ABORT = "↩ Tidak jadi"
NOTHING_OPEN = (
    "Tidak ada permintaan yang bisa dibatalkan. Yang bisa dibatalkan hanya permintaan yang "
    "menunggu keputusan, atau yang sudah disetujui tetapi pengunjungnya belum masuk."
)
USAGE_REFERENCE = "Ketik nomor Ref seperti di badge, mis. <code>/batalkan KRS-2026-00042</code>."
REASON_TOO_LONG = (
    f"Alasan pembatalan terlalu panjang (maksimal {REASON_MAX} karakter). Ketik lebih singkat."
)
REASON_TEXT = (
    "Alasan pembatalan harus berupa kata-kata (bukan hanya emoji atau tanda baca). "
    "Silakan ketik alasannya."
)
FORM_STILL_OPEN = "📝 Pendaftaran Anda yang belum selesai masih tersimpan; lanjutkan dari sini:"
BADGE_CANCELLED = (
    "❌ Badge ini sudah tidak berlaku: permintaannya <b>dibatalkan</b> oleh petugas. "
    "Jangan izinkan masuk."
)
CHOSEN_AGAIN = "Ketik alasan pembatalannya."
# Who withdrew a request when no one did: the visitor's data was erased (on request, or at
# the end of its retention), which withdraws whatever was still open.
BY_ERASURE = "sistem (data pengunjung dihapus)"


def choose(count: int, shown: int) -> str:
    more = (
        f"\n\nDitampilkan {shown} dari {count}; untuk yang lain ketik nomor Ref-nya, "
        "mis. <code>/batalkan KRS-2026-00042</code>."
        if count > shown
        else ""
    )
    return (
        "✖ <b>Batalkan permintaan</b>\n\n"
        "Pilih permintaan yang dibatalkan (menunggu keputusan, atau disetujui tetapi pengunjung "
        f"belum masuk).{more}"
    )


def button(visit: Visit) -> str:
    """One request in the list: its reference and the visitor (buttons show plain text)."""
    mark = "⏳" if visit.status == VisitStatus.PENDING else "✅"
    return mask_niks_in(f"{mark} {visit.reference} · {visit.name}")


def ask_reason(visit: Visit) -> str:
    badge = (
        "\nBadge yang sudah diterbitkan akan dinonaktifkan."
        if visit.status == VisitStatus.APPROVED
        else ""
    )
    return mask_niks_in(
        f"Tulis <b>alasan pembatalan</b> {visit.reference} ({escape(visit.name)}), "
        f"mis. pengunjung tidak jadi datang, atau salah tanggal.{badge}"
    )


def unknown_reference(typed: str) -> str:
    return (
        f"Tidak ada permintaan dengan nomor Ref <b>{escape(typed)}</b>. Nomor Ref tertulis "
        "seperti di badge, mis. KRS-2026-00042; atau ketik /batalkan saja untuk memilih "
        "dari daftar."
    )


def not_open(visit: Visit) -> str:
    """A request that can no longer be withdrawn, and where it stands."""
    return (
        f"Permintaan {visit.reference} tidak bisa dibatalkan lagi. Status: {status_name(visit)}."
    )


def aborted(visit: Visit) -> str:
    return f"Tidak jadi dibatalkan. {visit.reference} tetap berlaku."


def interrupted(reference: str, *, by_batal: bool = False) -> str:
    """The reason prompt ended by /batal, another command or a form button."""
    head = f"Pembatalan {reference} tidak dilanjutkan; permintaannya tetap berlaku."
    if by_batal:
        return head
    return f"{head} Kirim lagi perintah atau tekan lagi tombol yang Anda maksud."


def done(visit: Visit) -> str:
    badge = " Badge-nya sudah dinonaktifkan." if visit.decided_at is not None else ""
    return mask_niks_in(
        f"✖ Permintaan <b>{visit.reference}</b> ({escape(visit.name)}) dibatalkan.{badge}\n"
        f"Alasan: {escape(visit.cancel_reason or '-')}"
    )


def _cancelled_line(visit: Visit, canceller: str, tz: tzinfo) -> str:
    return (
        f"✖ <b>DIBATALKAN</b> oleh {escape(canceller)}, {clock(visit.cancelled_at, tz)}\n"
        f"Alasan: {escape(visit.cancel_reason or '-')}"
    )


def card(visit: Visit, officer: str, approver: str | None, canceller: str, tz: tzinfo) -> str:
    """An approver's card once the officer withdrew the request (``approver``: who had
    approved it, if anyone). Like every caption under the KTP photo, it masks a NIK even
    when one was typed into the reason (docs/privacy.md)."""
    lines = [approval_card(visit, officer, tz), ""]
    if approver is not None:
        lines.append(f"✅ Disetujui oleh {escape(approver)}, {clock(visit.decided_at, tz)}")
    lines.append(_cancelled_line(visit, canceller, tz))
    return mask_niks_in("\n".join(lines))


def badge_void(visit: Visit, canceller: str, tz: tzinfo) -> str:
    """The caption the officer's badge photo and PDF get: the badge is dead."""
    return mask_niks_in(
        f"⛔ <b>BADGE TIDAK BERLAKU</b> — {visit.reference} ({escape(visit.name)})\n"
        f"{_cancelled_line(visit, canceller, tz)}\n"
        "Jangan dipakai; pintu menolak badge ini. Musnahkan cetakannya."
    )


def waiting_void(visit: Visit, canceller: str, tz: tzinfo) -> str:
    """An escort's "a visitor waits", once the request is withdrawn: nobody to fetch. No
    name (after an erasure the escort's chat keeps nothing about the person), and no reason
    (it may name people; the escort needs only to know not to go)."""
    return (
        f"🚫 <b>Tidak perlu dijemput</b> — permintaan {visit.reference} "
        f"<b>dibatalkan</b> oleh {escape(canceller)}, {clock(visit.cancelled_at, tz)}.\n"
        "Badge-nya tidak berlaku lagi; pintu menolaknya."
    )


def officer_told(visit: Visit, canceller: str, tz: tzinfo) -> str:
    """The registrant, when another officer withdrew their request."""
    return mask_niks_in(
        f"✖ Permintaan <b>{visit.reference}</b> ({escape(visit.name)}) yang Anda daftarkan "
        f"dibatalkan oleh {escape(canceller)}, {when(visit.cancelled_at, tz)}.\n"
        f"Alasan: {escape(visit.cancel_reason or '-')}"
    )
