"""The visitor form's words, keyed by field name (the form itself: bot/core/form.py).

Functions take raw values and escape them here, so user input can never become HTML
markup (messages are sent with parse_mode=HTML).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from html import escape, unescape
from typing import Any

from bot.core.fields import (
    DURATION_MAX,
    DURATION_MIN,
    PHONE_MAX,
    PHONE_MIN,
    FieldProblem,
    mask_phone,
)
from bot.core.form import (
    ARRIVAL_FORM,
    DECLARED,
    FORM,
    INVITE_FORM,
    PLAN_FORM,
    Act,
    Field,
    Form,
    Kind,
    Move,
    Problem,
)
from bot.core.nik import NikProblem, mask_nik
from bot.core.planning import HORIZON_DAYS

PURPOSES = [
    "Pemeliharaan server",
    "Instalasi perangkat",
    "Perbaikan jaringan",
    "Audit / pemeriksaan",
    "Pengambilan / penyerahan perangkat",
]
# An anonymized visit's purpose when it was typed, not chosen: the text may name someone.
PURPOSE_TYPED = "Lainnya (teks dihapus saat anonimisasi)"
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

BTN_BACK = "« Kembali"
BTN_CANCEL = "✖ Batal"
BTN_SUBMIT = "📨 Kirim ke Kepala Seksi"
BTN_RESUME = "▶️ Lanjutkan isian"
BTN_RESTART = "🗑 Buang, mulai baru"
RESUMING = "▶️ Isian dilanjutkan."
RESTARTED = "🗑 Isian sebelumnya dibuang."


AT_SUMMARY = "di ringkasan"


def at_step(step: int, total: int) -> str:
    return f"langkah {step}/{total}"


def open_form(where: str) -> str:
    """A form started again (/daftar, /jadwal, /undang_tamu) while one with answers is open:
    ``where`` is how far that one got ("langkah 3/9", "ringkasan")."""
    at = f" ({where})" if where else ""
    return (
        f"📝 Masih ada isian yang belum selesai{at}. Lanjutkan isian itu, atau buang dan "
        "mulai baru?"
    )


BTN_REUSE = "✅ Pakai data ini"
BTN_FRESH = "✏️ Isi ulang"
BTN_NO_EQUIPMENT = "Tidak membawa perangkat"
BTN_NO_LETTER = "Tidak ada surat tugas"
BTN_READ_OK = "✅ Benar"
BTN_READ_FIX_NIK = "✏️ Ubah NIK"
BTN_READ_FIX_NAME = "✏️ Ubah nama"
BTN_ONE_BY_ONE = "📝 Isi satu per satu"

BAD_PHONE = (
    f"Nomor HP tidak valid. Gunakan {PHONE_MIN}–{PHONE_MAX} angka, boleh diawali +62 atau 0."
)
BAD_DURATION = f"Durasi harus berupa angka menit antara {DURATION_MIN} dan {DURATION_MAX}."


def _shown(value: Any) -> str:
    return escape(str(value)) if value not in ("", None) else "-"


BTN_RULES_AGREED = "✅ Pengunjung setuju"
RULES_BAD_INPUT = (
    f"Langkah ini dijawab dengan tombol <b>{BTN_RULES_AGREED}</b>, setelah pengunjung membaca "
    "dan menyetujui tata tertib."
)


def _agreed(value: Any) -> str:
    """'✅ disetujui 28-11-2026 09:05' (the time as recorded, in the office's zone)."""
    if not value:
        return "-"
    return f"✅ disetujui {datetime.fromisoformat(value).strftime('%d-%m-%Y %H:%M')}"


@dataclass(frozen=True)
class FieldText:
    question: str  # after "Langkah n/N — "
    label: str  # before the value in the summary and in a returning visitor's details
    button: str  # the summary's edit button
    noun: str = ""  # how an error names the field, when not by its label
    invalid: str = ""  # the answer to FieldProblem.INVALID
    suggested: tuple[str, ...] = ()  # Kind.CHOICE: a tap answers as if the label were typed
    per_row: int = 1  # suggested buttons side by side
    none: str = ""  # an optional field's button for "nothing"
    show: Callable[[Any], str] = _shown  # the value, escaped, in the summary and on the card
    # A stored visit's views (where each field appears: the Field's card/log/history flags):
    card: str = ""  # its label on the card, when not the summary's
    column: str = ""  # its column title in the access log, when not the summary's label
    masked: Callable[[str], str] | None = None  # hides part of it on the card, log, history
    history: str = ", {}"  # its part of a /riwayat entry, after the previous field's
    # The answers to the other problems a field's reading may raise (a planned day past).
    problems: Mapping[FieldProblem, str] = dataclasses.field(default_factory=dict)
    hint: str = ""  # under the one-reply template (rest_in_one_reply): how to fill it in


def _day(iso: Any) -> str:
    """A planned day as the office writes dates (the draft keeps it as ISO text)."""
    text = str(iso or "")
    return f"{text[8:10]}-{text[5:7]}-{text[:4]}" if len(text) == 10 else _shown(text)


WINDOWS = ["08:00-12:00", "09:00-12:00", "13:00-16:00"]

FIELDS: dict[str, FieldText] = {
    # A visit planned ahead (bot/core/form.py PLAN_FORM): when the visitor is expected.
    "planned_date": FieldText(
        "Tanggal kunjungan? Ketik <b>DD-MM-YYYY</b> (mis. 03-12-2026).",
        label="Tanggal",
        button="Tanggal",
        invalid="Tanggal tidak dikenali. Ketik seperti 03-12-2026 (atau 2026-12-03).",
        show=lambda iso: f"<b>{_day(iso)}</b>",
        problems={
            FieldProblem.PAST: "Tanggal itu sudah lewat. Ketik hari ini atau tanggal berikutnya.",
            FieldProblem.TOO_FAR: (
                f"Kunjungan hanya bisa dijadwalkan paling lama {HORIZON_DAYS} hari ke depan."
            ),
        },
    ),
    "window": FieldText(
        "Jam kunjungan? Pilih, atau ketik rentang jam seperti <b>09:00-12:00</b>.",
        label="Jam",
        button="Jam",
        invalid="Jam tidak dikenali. Ketik rentang seperti 09:00-12:00 (jam 00-23, menit 00-59).",
        suggested=tuple(WINDOWS),
        per_row=len(WINDOWS),
        problems={FieldProblem.ORDER: "Jam selesai harus setelah jam mulai, mis. 09:00-12:00."},
    ),
    "ktp": FieldText(
        "Kirim <b>foto KTP</b> pengunjung. Pastikan NIK dan nama terbaca jelas.",
        label="Foto KTP",
        button="📷 Foto KTP",
        show=lambda _file_id: "✅ terlampir",
    ),
    "nik": FieldText(
        "Ketik <b>NIK</b> (16 angka) sesuai KTP.",
        label="NIK",
        button="NIK",
        show=lambda nik: f"<code>{escape(nik)}</code>",  # full, to compare with the KTP
        masked=mask_nik,
        history=" (<code>{}</code>)",
    ),
    "name": FieldText(
        "Ketik <b>nama lengkap</b> sesuai KTP.",
        label="Nama",
        button="Nama",
        show=lambda name: f"<b>{escape(name)}</b>",
        history="{}",
    ),
    "organisation": FieldText(
        "Ketik <b>instansi / perusahaan</b> pengunjung.",
        label="Instansi",
        button="Instansi",
        noun="Nama instansi",
    ),
    "assignment_letter": FieldText(
        "Ketik <b>nomor surat tugas</b> dari instansi pengunjung (mis. 090/123/ST/XI/2026), "
        "atau tekan tombol jika tidak ada.",
        label="No. Surat Tugas",
        hint="mis. 090/123/ST/XI/2026; kosongkan bila tidak ada",
        button="No. Surat Tugas",
        noun="Nomor surat tugas",
        none=BTN_NO_LETTER,
        history=", surat tugas {}",
    ),
    "phone": FieldText(
        "Ketik <b>nomor HP</b> pengunjung (mis. 0812xxxxxxx).",
        label="HP",
        hint="mis. 0812xxxxxxx",
        button="No. HP",
        invalid=BAD_PHONE,
        masked=mask_phone,  # the card and a scanned badge need no full number (privacy.md)
    ),
    "purpose": FieldText(
        "Pilih <b>keperluan</b> kunjungan, atau ketik sendiri.",
        label="Keperluan",
        hint="mis. " + PURPOSES[0] + ", atau tulis sendiri",
        button="Keperluan",
        suggested=tuple(PURPOSES),
        history="\n  {}",  # the visit's own line, which its entry and exit times follow
    ),
    "duration": FieldText(
        "Berapa lama rencana kunjungan? Pilih, atau ketik jumlah menit.",
        label="Durasi",
        hint="jumlah menit, mis. 60",
        button="Durasi",
        invalid=BAD_DURATION,
        suggested=tuple(f"{minutes} mnt" for minutes in DURATIONS),
        per_row=len(DURATIONS),
        show=lambda minutes: f"{minutes} menit",
        card="Durasi rencana",
    ),
    "equipment": FieldText(
        "Perangkat yang dibawa masuk (laptop, hard disk, alat ukur, ...)? "
        "Ketik daftarnya, atau tekan tombol jika tidak ada.",
        label="Perangkat",
        hint="mis. laptop, hard disk; kosongkan bila tidak ada",
        button="Perangkat",
        noun="Daftar perangkat",
        none=BTN_NO_EQUIPMENT,
    ),
    "rules": FieldText(
        "Minta pengunjung membaca <b>tata tertib ruang server</b> berikut. Tekan tombol "
        "setelah pengunjung menyatakan setuju (wajib, tidak dapat dilewati).",
        label="Tata tertib",
        button="Tata tertib",
        invalid=RULES_BAD_INPUT,
        suggested=(BTN_RULES_AGREED,),
        show=_agreed,
    ),
}


PLAN_TITLE = "📅 <b>Jadwal kunjungan</b>"
INVITE_TITLE = "🔗 <b>Tautan isi mandiri</b>"
ARRIVAL_TITLE = "🛂 <b>Pengunjung terjadwal datang</b>"


# The questions a visitor filling in their own form (/undang_tamu's link) reads in their own
# person, where the officer's version speaks of "the visitor".
VISITOR_QUESTIONS = {
    "ktp": "Kirim <b>foto KTP</b> Anda. Pastikan NIK dan nama terbaca jelas.",
    "organisation": "Ketik <b>instansi / perusahaan</b> Anda.",
    "assignment_letter": (
        "Ketik <b>nomor surat tugas</b> dari instansi Anda (mis. 090/123/ST/XI/2026), "
        "atau tekan tombol jika tidak ada."
    ),
    "phone": "Ketik <b>nomor HP</b> Anda (mis. 0812xxxxxxx).",
    "rules": (
        "Baca <b>tata tertib ruang server</b> berikut, lalu tekan tombol bila Anda setuju "
        "(wajib, tidak dapat dilewati)."
    ),
}


def question(field: Field, form: Form = FORM, rules: str = "", *, visitor: bool = False) -> str:
    """The question for ``field``, numbered by its place in the form; the rules step shows
    ``rules`` (the config's text) under it. ``visitor``: asked of the visitor themselves."""
    step, total, asked = form.number(field.name), len(form), FIELDS[field.name].question
    if visitor:
        asked = VISITOR_QUESTIONS.get(field.name, asked)
    if field.kind == Kind.AGREE and rules:
        asked = f"{asked}\n\n📜 <b>Tata tertib</b>\n{escape(rules)}"
    if form is ARRIVAL_FORM:
        return f"{ARRIVAL_TITLE}\n\n{asked}"
    if step == 1:
        title = {PLAN_FORM: PLAN_TITLE, INVITE_FORM: INVITE_TITLE}.get(
            form, "📝 <b>Pendaftaran pengunjung</b>"
        )
        return f"{title} (langkah 1/{total})\n\n{asked}"
    return f"Langkah {step}/{total} — {asked}"


WANT_PHOTO = (
    "Yang dibutuhkan di langkah ini adalah <b>foto KTP</b>. "
    "Kirim sebagai foto (ikon kamera / galeri), bukan teks."
)
WANT_PHOTO_NOT_FILE = (
    "File ini bukan foto yang bisa dipakai. Kirim foto KTP sebagai <b>Foto</b> "
    "(bukan sebagai File/Dokumen)."
)
ALBUM_REST = (
    "📷 Dari beberapa foto yang dikirim sekaligus, hanya yang <b>pertama</b> dipakai sebagai "
    "foto KTP. Bila yang pertama bukan sisi depan KTP, tekan /kembali lalu kirim satu foto "
    "saja."
)
REPLY_TO_EARLIER = (
    "↩️ Pesan ini membalas pesan yang lebih lama, jadi tidak dipakai sebagai jawaban "
    "pertanyaan sekarang. Untuk mengubah jawaban sebelumnya, tekan /kembali (atau ubah di "
    "ringkasan); untuk pertanyaan sekarang, ketik jawabannya tanpa membalas."
)
# An image sent "as File" (Android's way to keep the quality): usable, but not as a photo.
WANT_PHOTO_NOT_IMAGE_FILE = (
    "📎 Foto KTP ini terkirim sebagai <b>File</b>, bukan sebagai Foto, jadi tidak bisa "
    "ditampilkan di kartu persetujuan. Kirim ulang sebagai <b>Foto</b>: tekan 📎, pilih "
    "<b>Galeri</b> (bukan File), pilih fotonya, lalu kirim."
)
WANT_TEXT = (
    "Langkah ini meminta jawaban yang <b>diketik</b> (bukan foto, file, stiker, suara atau "
    "lokasi). Silakan ketik jawabannya."
)
RESUMED = "♻️ Bot baru saja dimulai ulang. Pendaftaran Anda tersimpan; lanjutkan dari sini:"
USE_BUTTONS = "Silakan pilih dengan menekan salah satu tombol di bawah pertanyaan."
CANCELLED = "Pendaftaran dibatalkan. Tidak ada data yang disimpan. Mulai lagi dengan /daftar."


def draft_expired(started: str, hours: int) -> str:
    """Told once, when an unfinished form (``started``: when, as the office writes it) is
    discarded after ``hours`` (config drafts.expire_after_hours)."""
    return (
        f"🗑 Pendaftaran yang Anda mulai {started} tidak diselesaikan dalam {hours} jam, jadi "
        "dihapus beserta data yang sudah diisi. Mulai lagi dengan /daftar bila tamu masih "
        "menunggu."
    )


def draft_discarded_role(started: str) -> str:
    """Told once, when an unfinished form is discarded because its owner's role changed."""
    return (
        f"🗑 Pendaftaran yang Anda mulai {started} dihapus beserta data yang sudah diisi, "
        "karena peran Anda tidak lagi mencakup pendaftaran ini."
    )


NO_LONGER_ALLOWED = (
    "Peran Anda tidak lagi mencakup pendaftaran ini: isian tidak dikirim dan datanya dihapus."
)
NOTHING_TO_CANCEL = "Tidak ada isian atau pertanyaan yang sedang menunggu jawaban Anda."
NOTHING_TO_GO_BACK = "Tidak ada formulir yang sedang diisi, jadi tidak ada langkah untuk kembali."

# Under a question answered by typing (it has no buttons): the way back and out as commands,
# which Telegram shows as links that send themselves on a tap.
GO_BACK = "↩️ /kembali ke langkah sebelumnya"
GO_BACK_TO_SUMMARY = "↩️ /kembali ke ringkasan"
CANCEL_COMMAND = "✖ /batal"


def with_commands(question: str, *, back: bool, editing: bool = False) -> str:
    """A typed question with its command line: /kembali (not on the first step, where there
    is nothing before it) and /batal."""
    commands = [GO_BACK_TO_SUMMARY if editing else GO_BACK] if back else []
    return f"{question}\n\n{' · '.join([*commands, CANCEL_COMMAND])}"


def too_long(field: str, limit: int) -> str:
    return f"{field} terlalu panjang (maksimal {limit} karakter). Silakan ketik lebih singkat."


def no_words(field: str) -> str:
    return f"{field} harus berisi huruf, bukan hanya emoji atau tanda baca. Silakan ketik ulang."


def too_short(field: str) -> str:
    return f"{field} terlalu pendek. Silakan ketik dengan lengkap."


def bad_nik(problem: NikProblem) -> str:
    return f"❗ {NIK_PROBLEMS[problem]} Periksa KTP dan ketik ulang NIK."


def rejected(field: Field, problem: Problem) -> str:
    """Why an answer was refused, in the officer's words."""
    if isinstance(problem, NikProblem):
        return bad_nik(problem)
    words = FIELDS[field.name]
    if problem in words.problems:
        return words.problems[problem]
    if problem == FieldProblem.INVALID:
        return words.invalid
    if problem == FieldProblem.TOO_LONG:
        return too_long(words.noun or words.label, field.max_len)
    if problem == FieldProblem.NO_WORDS:
        return no_words(words.noun or words.label)
    return too_short(words.noun or words.label)


def _line(field: Field, draft: Mapping[str, Any]) -> str:
    words = FIELDS[field.name]
    return f"{words.label}: {words.show(draft.get(field.name, ''))}"


def answered(field: Field, value: Any) -> str:
    """A question answered by a tap, as it then stands: "Keperluan: Pemeliharaan server"."""
    return _line(field, {field.name: value})


def returning_visitor(draft: Mapping[str, Any]) -> str:
    details = "\n".join(_line(field, draft) for field in FORM.remembered)
    return f"Pengunjung ini pernah terdaftar:\n{details}\n\nPakai data ini, atau isi ulang?"


def ktp_read(read: Mapping[str, Any]) -> str:
    """What the KTP reader found, for the officer to check against the card in hand."""
    sex = {"L": "LAKI-LAKI", "P": "PEREMPUAN"}.get(read.get("sex") or "", "—")
    born = read.get("birth_date")
    born_text = f"{born[8:10]}-{born[5:7]}-{born[:4]}" if born else "—"
    rows = [
        f"NIK: {read.get('nik') or '— (ketik manual)'}",
        f"Nama: {escape(read.get('name') or '— (ketik manual)')}",
        f"Tempat/Tgl lahir: {escape(read.get('birth_place') or '—')}, {born_text}",
        f"Jenis kelamin: {sex}",
    ]
    return (
        "📷 Terbaca dari foto KTP. Cocokkan dengan KTP aslinya:\n"
        + "\n".join(rows)
        + "\n\nSudah benar?"
    )


# --- the rest of the form in one reply, after a KTP read -------------------------------------
# An optional field answered with one of these means "none" (as its button would).
NOTHING = ("-", "tidak ada", "tidak", "tdk ada", "nihil", "kosong")
REPLY_NOT_UNDERSTOOD = (
    "Balasan ini tidak memuat baris templat (mis. <code>Instansi: ...</code>). Salin "
    "templat di atas, isi setelah tanda titik dua, lalu kirim; atau tekan "
    f"<b>{BTN_ONE_BY_ONE}</b>."
)


def template_label(field: Field) -> str:
    """The field's label in the one-reply template: its edit button's, which names it fully."""
    return FIELDS[field.name].button


def reply_labels(fields: tuple[Field, ...]) -> dict[str, tuple[str, ...]]:
    """The labels a reply may use for each field: the template's and the summary's."""
    return {f.name: (template_label(f), FIELDS[f.name].label) for f in fields}


def _hint(field: Field) -> str:
    return FIELDS[field.name].hint


def rest_in_one_reply(fields: tuple[Field, ...], form: Form = FORM) -> str:
    """The remaining fields asked at once: a template to copy (a tap copies a code block in
    Telegram), fill in after the colons and send back as one message."""
    first, last = form.number(fields[0].name), form.number(fields[-1].name)
    template = "\n".join(f"{template_label(f)}: " for f in fields)
    hints = "\n".join(f"• {template_label(f)}: {_hint(f)}" for f in fields if _hint(f))
    steps = f"{first}–{last}" if last > first else str(first)
    return (
        f"Langkah {steps}/{len(form)} — Ketuk templat di bawah untuk menyalinnya, isi setelah "
        f"tanda titik dua, lalu kirim dalam <b>satu pesan</b>:\n\n"
        f"<code>{escape(template)}</code>\n\n{hints}\n\n"
        f"Isian wajib yang kosong atau keliru akan ditanyakan lagi satu per satu."
    )


def reply_problems(problems: Mapping[str, Problem], form: Form = FORM) -> str:
    """What was refused in a one-message reply; each is then asked alone."""
    lines = []
    for name, problem in problems.items():
        field = form.get(name)
        assert field is not None
        lines.append(f"• {template_label(field)}: {rejected(field, problem)}")
    return "Sebagian isian belum bisa dipakai dan akan ditanyakan lagi:\n" + "\n".join(lines)


# --- a stored visit's views: the card, the access log, /riwayat --------------------------------
def shown_value(field: Field, value: Any) -> Any:
    """The value as staff see it outside the officer's own summary (the NIK masked)."""
    masked = FIELDS[field.name].masked
    return masked(value) if masked is not None else value


def card_lines(values: Mapping[str, Any], form: Form = DECLARED) -> list[str]:
    """'Label: value' for each field on the card, from the visit's values by attribute; a
    switched field (the rules) only when the visit was asked it."""
    lines = []
    for field in form.shown:
        if field.card and not (field.switch and not values.get(field.visit_attr)):
            words = FIELDS[field.name]
            value = words.show(shown_value(field, values[field.visit_attr]))
            lines.append(f"{words.card or words.label}: {value}")
    return lines


def column_title(field: Field) -> str:
    words = FIELDS[field.name]
    return words.column or words.label


def history_details(values: Mapping[str, Any], form: Form = FORM) -> str:
    """A visit's details in /riwayat, from the visit's values by attribute; an optional
    field left empty is left out."""
    parts = []
    for field in form.shown:
        value = values[field.visit_attr]
        if field.history and not (field.optional and not value):
            shown = escape(str(shown_value(field, value)))
            parts.append(FIELDS[field.name].history.format(shown))
    return "".join(parts)


SUMMARY_TITLE = "Periksa data pengunjung"
INVITE_SUMMARY_TITLE = "Periksa tanggal dan jam kunjungan"


def summary(draft: Mapping[str, Any], form: Form = FORM) -> str:
    """The officer's summary before submitting; photos are listed after what was typed."""
    fields = sorted(form, key=lambda field: field.kind == Kind.PHOTO)
    lines = "\n".join(_line(field, draft) for field in fields)
    planned = (
        "\n\nFoto KTP diambil pada hari kunjungan (/hari_ini). Kepala Seksi memutuskan "
        "sekarang; badge terbit saat pengunjung datang dan KTP dicocokkan."
        if form is PLAN_FORM
        else ""
    )
    if form is INVITE_FORM:  # the day and the window of a self-registration link
        return (
            f"<b>{INVITE_SUMMARY_TITLE}</b>\n\n{lines}\n\n"
            "Tekan nama kolom untuk mengubah, atau buat tautannya. Pengunjung mengisi "
            "datanya sendiri; permintaannya baru dikirim ke Kepala Seksi setelah itu."
        )
    return (
        f"<b>{SUMMARY_TITLE}</b>\n\n{lines}{planned}\n\n"
        "Tekan nama kolom untuk mengubah, atau kirim ke Kepala Seksi."
    )


def sent_summary(draft: Mapping[str, Any], form: Form, receipt: str) -> str:
    """The summary once sent: what was sent, and the receipt under it (no buttons)."""
    fields = sorted(form, key=lambda field: field.kind == Kind.PHOTO)
    lines = "\n".join(_line(field, draft) for field in fields)
    return f"<b>{SUMMARY_TITLE}</b>\n\n{lines}\n\n{receipt}"


def submitted(reference: str, approvers: int) -> str:
    return (
        f"📨 Permintaan <b>{reference}</b> terkirim ke {approvers} Kepala Seksi.\n"
        "Anda akan diberi tahu begitu ada keputusan."
    )


# --- the form as a person fills it in --------------------------------------------------------
def plain(html: str) -> str:
    """A message as the person reads it, without markup (to wait for it in tests)."""
    return unescape(re.sub(r"<[^>]+>", "", html))


def script(
    values: Mapping[str, str | None], form: Form = FORM, *, visitor: bool = False
) -> list[Move]:
    """How a person fills in the form with these answers, by field name: a photo, the text
    typed, or a tap on the button that says it; no answer to an optional field taps "none".

    Tests, the bench and the demo all follow this one script, so none of them repeats the
    form's order.
    """
    moves: list[Move] = []
    for index, field in enumerate(form):
        later = form.fields[index + 1 : index + 2]
        summary = INVITE_SUMMARY_TITLE if form is INVITE_FORM else SUMMARY_TITLE
        then = plain(question(later[0], form, visitor=visitor)) if later else summary
        asked = plain(question(field, form, visitor=visitor))
        value = values.get(field.name)
        words = FIELDS[field.name]
        if field.kind == Kind.PHOTO:
            moves.append(Move(field.name, Act.PHOTO, "", asked, then))
        elif value is None:
            if not field.optional:
                raise ValueError(f"no answer for the required field {field.name!r}")
            moves.append(Move(field.name, Act.TAP, words.none, asked, then))
        else:
            act = Act.TAP if value in words.suggested else Act.TYPE
            moves.append(Move(field.name, act, value, asked, then))
    return moves


def chose(asked: str, label: str) -> str:
    """A question answered by a tap that keeps what it showed: the question, then the
    button's label ("Sudah benar? ✅ Benar")."""
    return f"{asked} <b>{escape(label)}</b>"


ONE_BY_ONE_CHOSEN = f"<b>{BTN_ONE_BY_ONE}</b>: sisa isian ditanyakan satu per satu."


def answered_then(answered: str, then: str) -> str:
    """A question's message once answered by a tap: the answer, and what comes next."""
    return f"{answered}\n\n{then}"
