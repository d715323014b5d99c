"""The section head's decision (SOP steps 4-5): the card, its buttons, the deny reason,
and what the officer is told."""

from __future__ import annotations

from datetime import tzinfo
from html import escape

from bot.core.fields import REASON_MAX
from bot.core.nik import mask_niks_in
from bot.core.visits import Visit, VisitStatus
from bot.texts import guests as guest_texts
from bot.texts import watchlist as watchlist_texts
from bot.texts.common import LAPSE_RULE, clock, status_name, visit_details, when

BTN_APPROVE = "✅ Setujui"
BTN_DENY = "❌ Tolak"
BTN_DENY_ABORT = "↩ Batal menolak"
APPROVED_TOAST = "Disetujui. Badge dikirim ke petugas."
DENIED_TOAST = "Permintaan ditolak."
DENY_ABORTED = "Penolakan dibatalkan. Permintaan masih menunggu keputusan."
DENY_REASON_TOO_LONG = (
    f"Alasan terlalu panjang (maksimal {REASON_MAX} karakter). Silakan ketik lebih singkat."
)
DENY_REASON_TEXT = (
    "Alasan penolakan harus berupa kata-kata (bukan hanya emoji atau tanda baca). "
    "Silakan ketik alasannya."
)


def approval_card(visit: Visit, officer: str, tz: tzinfo) -> str:
    """The caption under the KTP photo. The photo shows the NIK (the section head checks the
    person against it); the caption masks it, wherever it was typed (docs/privacy.md)."""
    flag = f"{watchlist_texts.CARD_FLAG}\n\n" if visit.watchlisted else ""
    if visit.self_registered:
        flag = f"{flag}{guest_texts.CARD_MARK}\n\n"
    planned = " — TERJADWAL" if visit.planned else ""
    return mask_niks_in(
        f"🔔 <b>Permintaan akses ruang server{planned}</b>\n\n"
        f"{flag}{visit_details(visit)}\n"
        f"Petugas: {escape(officer)}\nDiajukan: {when(visit.submitted_at, tz)}"
    )


def card_lapsed(visit: Visit, officer: str, tz: tzinfo) -> str:
    """A card whose walk-in request nobody decided before the end of its day."""
    return (
        f"{approval_card(visit, officer, tz)}\n\n⌛ <b>KEDALUWARSA</b>: tidak diputuskan sampai "
        f"batas waktunya ({LAPSE_RULE}); permintaan ditutup."
    )


def officer_lapsed(visit: Visit) -> str:
    """The officer's notice of the same."""
    return mask_niks_in(
        f"⌛ Permintaan {visit.reference} ({escape(visit.name)}) tidak diputuskan Kepala Seksi "
        f"sampai batas waktunya ({LAPSE_RULE}) dan ditutup. Jika pengunjung masih perlu masuk, "
        "daftarkan ulang dengan /daftar."
    )


def card_decided(visit: Visit, officer: str, decider: str, tz: tzinfo) -> str:
    return mask_niks_in(_decided(visit, officer, decider, tz))


def _decided(visit: Visit, officer: str, decider: str, tz: tzinfo) -> str:
    base = approval_card(visit, officer, tz)
    if visit.status == VisitStatus.DENIED:
        reason = escape(visit.deny_reason or "-")
        decided = f"{escape(decider)}, {clock(visit.decided_at, tz)}"
        return f"{base}\n\n❌ <b>DITOLAK</b> oleh {decided}\nAlasan: {reason}"
    return f"{base}\n\n✅ <b>DISETUJUI</b> oleh {escape(decider)}, {clock(visit.decided_at, tz)}"


def already_decided(visit: Visit, decider: str = "") -> str:
    """A tap or a reason that came after the decision: how, and by whom when someone did;
    or that nobody decided it before it lapsed at the end of its day."""
    if visit.status == VisitStatus.EXPIRED and visit.decided_at is None:
        return (
            "Permintaan ini sudah kedaluwarsa: tidak diputuskan sampai batas waktunya "
            f"({LAPSE_RULE}). Petugas perlu mendaftarkannya ulang."
        )
    by = f" oleh {decider}" if decider and visit.decided_by is not None else ""
    return f"Permintaan ini sudah diputuskan{by}: {status_name(visit)}."


DENY_REASON_ASKED = "Ketik alasan penolakannya (pertanyaannya ada di atas)."


def deny_interrupted(reference: str, *, by_batal: bool) -> str:
    """The reason prompt ended by /batal, another command or a form button: nothing decided."""
    head = f"Penolakan {reference} dibatalkan; permintaannya masih menunggu keputusan."
    if by_batal:
        return head
    return f"{head} Kirim lagi perintah atau tekan lagi tombol yang Anda maksud."


def ask_deny_reason(reference: str) -> str:
    return f"Tulis <b>alasan penolakan</b> untuk {reference} (akan diteruskan ke petugas):"


def officer_approved(decider: str) -> str:
    """The approval as the badge photo's caption tells it (the badge names the visit)."""
    return (
        f"✅ Permintaan <b>disetujui</b> oleh {escape(decider)}. Berikan badge ini kepada "
        "pengunjung; badge wajib dipakai selama di ruang server."
    )


def officer_denied(visit: Visit, decider: str) -> str:
    """The officer's notice of a denial; a NIK typed into the reason (or the name) masked,
    as on the card."""
    return mask_niks_in(
        f"❌ Permintaan <b>{visit.reference}</b> ({escape(visit.name)}) <b>ditolak</b> oleh "
        f"{escape(decider)}.\nAlasan: {escape(visit.deny_reason or '-')}\n"
        "Pengunjung tidak dapat masuk ruang server."
    )


OWN_REQUEST = (
    "Permintaan yang Anda daftarkan sendiri diputuskan oleh Kepala Seksi lain "
    "(prinsip empat mata)."
)
