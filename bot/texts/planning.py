"""Visits planned ahead (/jadwal, /hari_ini): the day's list, opening one at the desk, the
check of the KTP against the person, refusals, notices and the day-before reminder.

The planning form's own questions (the day, the window) are the form's words, in
bot/texts/form.py.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, tzinfo
from html import escape

from bot.core.nik import mask_nik
from bot.core.planning import Opening
from bot.core.visits import Visit, VisitStatus
from bot.texts.common import clock, date_text, pages, plan_text, status_name

APPROVED_AHEAD_TOAST = "Disetujui. Badge terbit saat pengunjung datang dan KTP dicocokkan."
BTN_ISSUE = "✅ Cocok — terbitkan badge"
BTN_RETAKE = "📷 Foto ulang"
NOTHING_TODAY = "Tidak ada kunjungan terjadwal hari ini. Jadwalkan dengan /jadwal."
OPEN_CANCELLED = "Baik, kunjungan terjadwal tidak dibuka. Tidak ada yang berubah."
PLAN_CANCELLED = "Jadwal kunjungan dibatalkan. Tidak ada data yang disimpan."
ONLY_PLANNERS = "Perintah ini khusus untuk Petugas dan Kepala Seksi."
WINDOW_PASSED = (
    "Jam kunjungan hari ini sudah lewat. Ubah tanggal atau jamnya, atau daftarkan pengunjung "
    "yang sudah datang dengan /daftar."
)


def issued(reference: str) -> str:
    return f"🪪 Badge {reference} diterbitkan (dikirim di bawah). Pendamping sudah diberi tahu."


def plan_submitted(reference: str, plan: str, approvers: int) -> str:
    """After /jadwal: the request is with the section heads, decided before the day."""
    return (
        f"📨 Kunjungan terjadwal <b>{reference}</b> ({plan}) terkirim ke {approvers} Kepala "
        "Seksi untuk diputuskan lebih dulu.\nPada harinya buka lewat /hari_ini: foto KTP, "
        "cocokkan dengan orangnya, dan badge langsung terbit."
    )


def officer_approved_ahead(visit: Visit, decider: str, tz: tzinfo) -> str:
    assert visit.plan is not None
    return (
        f"✅ Kunjungan terjadwal <b>{visit.reference}</b> ({escape(visit.name)}) "
        f"<b>disetujui</b> oleh {escape(decider)} untuk {plan_text(visit.plan)}.\n"
        "Pada harinya buka lewat /hari_ini; badge terbit setelah KTP dicocokkan."
    )


def officer_badge_issued(decider: str) -> str:
    """The badge photo's caption heading, on the day of a planned visit."""
    return (
        f"✅ KTP dicocokkan; kunjungan ini sudah <b>disetujui lebih dulu</b> oleh "
        f"{escape(decider)}. Berikan badge ini kepada pengunjung; badge wajib dipakai selama "
        "di ruang server."
    )


def missed_notice(visit: Visit, tz: tzinfo) -> str:
    assert visit.plan is not None
    return (
        f"⌛ Kunjungan terjadwal {visit.reference} ({escape(visit.name)}, "
        f"{plan_text(visit.plan)}) lewat tanpa pengunjung datang, jadi tidak berlaku lagi. "
        "Jadwalkan ulang dengan /jadwal bila perlu."
    )


def _today_line(visit: Visit) -> str:
    assert visit.plan is not None
    mark = "✅" if visit.status == VisitStatus.SCHEDULED else "⏳"
    return (
        f"{mark} <b>{visit.plan.window}</b> {escape(visit.name)} — "
        f"{escape(visit.organisation)}\n   {visit.reference}, {status_name(visit)}"
    )


def today_list(visits: list[Visit], day: date) -> list[str]:
    """/hari_ini, as one message or several (the buttons go under the last)."""
    return pages(
        f"📅 <b>Kunjungan terjadwal hari ini</b> ({date_text(day)})\n",
        [_today_line(v) for v in visits],
        "\nSaat pengunjung datang, tekan namanya: foto KTP, cocokkan, badge langsung terbit "
        "(✅ sudah disetujui; ⏳ masih menunggu Kepala Seksi).",
    )


def open_button(visit: Visit) -> str:
    assert visit.plan is not None
    return f"{visit.plan.window} {visit.name}"


def open_refused(state: Opening, visit: Visit | None, tz: tzinfo, grace: timedelta) -> str:
    """Why a planned visit cannot be opened at the desk now; nothing was changed."""
    if visit is None or state is Opening.NOT_PLANNED or visit.plan is None:
        return "Kunjungan ini tidak ditemukan sebagai kunjungan terjadwal."
    ref = f"{visit.reference} ({escape(visit.name)})"
    if state is Opening.NOT_APPROVED and visit.status == VisitStatus.PENDING:
        return (
            f"⏳ {ref} <b>belum disetujui</b> Kepala Seksi, jadi belum bisa dibuka. Tunggu "
            "keputusannya, atau daftarkan pengunjung biasa dengan /daftar."
        )
    if visit.status == VisitStatus.EXPIRED and visit.checked_at is None:
        state = Opening.LATE  # the window passed without the visitor: expired by the sweep
    if state is Opening.NOT_APPROVED and visit.checked_at is not None:
        return f"{ref} sudah dibuka pukul {clock(visit.checked_at, tz)}; badge sudah terbit."
    if state is Opening.NOT_APPROVED:
        return (
            f"{ref} tidak bisa dibuka: {status_name(visit)}. "
            "Daftarkan pengunjung biasa dengan /daftar bila masih perlu masuk."
        )
    if state is Opening.BARRED:
        return (
            f"⛔ {ref}: NIK pengunjung ini masuk <b>daftar blokir</b> setelah jadwalnya "
            "disetujui. Badge tidak diterbitkan; hubungi Kepala Seksi."
        )
    minutes = int(grace.total_seconds() // 60)
    window = plan_text(visit.plan)
    if state is Opening.EARLY:
        return (
            f"🕘 {ref} terjadwal {window}: belum waktunya. Bisa dibuka mulai {minutes} menit "
            "sebelum jam mulai."
        )
    return (
        f"⌛ {ref} terjadwal {window}: waktunya sudah lewat (lebih dari {minutes} menit "
        "setelah jam selesai). Daftarkan dengan /daftar bila pengunjung masih perlu masuk."
    )


def arrival_heading(visit: Visit) -> str:
    """Above the KTP question, on the day: which planned visit is being opened."""
    assert visit.plan is not None
    return (
        f"{visit.reference}: <b>{escape(visit.name)}</b> — {escape(visit.organisation)}, "
        f"{plan_text(visit.plan)}"
    )


def arrival_check(visit: Visit, arrived_at: datetime, tz: tzinfo) -> str:
    """SOP step 2 for a planned visitor: the photo taken, the person checked against it."""
    assert visit.plan is not None
    return (
        f"🛂 <b>Cocokkan KTP dengan orangnya</b>\n\n{arrival_heading(visit)}\n"
        f"NIK terdaftar: <code>{mask_nik(visit.nik)}</code>\n"
        f"Keperluan: {escape(visit.purpose)}\nDatang: {clock(arrived_at, tz)}\n\n"
        "Wajah pada KTP sama dengan orangnya, dan nama serta NIK pada KTP sama dengan data "
        "di atas? Bila ya, badge langsung terbit (sudah disetujui lebih dulu)."
    )


def reminder(visit: Visit) -> str:
    """The day before, to the officer who planned it and to every escort."""
    assert visit.plan is not None
    state = "sudah disetujui" if visit.status == VisitStatus.SCHEDULED else "BELUM disetujui"
    return (
        f"⏰ Besok ada kunjungan terjadwal: <b>{escape(visit.name)}</b> — "
        f"{escape(visit.organisation)}, {plan_text(visit.plan)} ({visit.reference}, {state}).\n"
        f"Keperluan: {escape(visit.purpose)}"
    )
