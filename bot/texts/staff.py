"""Staff administration (/staf, /undang, the invitation link) and delegation (/delegasi)."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, tzinfo
from html import escape

from bot.core.roles import Role, StaffMember
from bot.core.visits import Visit
from bot.texts.common import BTN_TODAY, ROLE_NAMES, clock, roles_text

INVITE_CHOOSE = (
    "<b>Undang staf baru</b>\nPilih peran (boleh lebih dari satu), lalu tekan <b>Buat tautan</b>."
)
INVITE_NO_ROLE = "Pilih setidaknya satu peran."
BTN_MAKE_LINK = "🔗 Buat tautan"
INVITE_INVALID = (
    "Tautan undangan ini tidak berlaku (sudah dipakai atau kedaluwarsa). "
    "Mintalah tautan baru kepada admin."
)
INVITE_ALREADY_STAFF = "Anda sudah terdaftar sebagai staf."
INVITE_WAIT = "Terima kasih. Admin akan mengonfirmasi pendaftaran Anda sebentar lagi."
BTN_CONFIRM = "✅ Konfirmasi"
BTN_DECLINE = "❌ Tolak"
INVITE_DECLINED_TO_PERSON = "Maaf, admin tidak mengonfirmasi pendaftaran Anda."
BTN_REMOVE = "🗑 Hapus dari staf"
STAFF_GONE = "Orang ini sudah bukan staf."
CANNOT_DROP_ADMIN = "Admin dari berkas konfigurasi selalu tetap admin."
CANNOT_REMOVE_SELF = "Anda tidak dapat menghapus diri sendiri."
NEED_ONE_ROLE = "Setidaknya satu peran; untuk mencabut semua, gunakan Hapus."
BTN_HANDOVER_CANCEL = "❌ Batalkan semuanya"
HANDOVER_NOT_OFFICER = f"Orang ini bukan {ROLE_NAMES[Role.OFFICER]} lagi. Pilih yang lain."
DELEGATE_CHOOSE = (
    f"<b>Delegasi</b>\nPilih {ROLE_NAMES[Role.APPROVER]} lain yang mewakili Anda "
    "menyetujui permintaan:"
)
DELEGATE_NOBODY = f"Tidak ada {ROLE_NAMES[Role.APPROVER]} lain yang dapat ditunjuk."
DELEGATE_ONLY_APPROVERS = (
    f"Delegasi hanya kepada {ROLE_NAMES[Role.APPROVER]} lain: petugas yang mendaftarkan "
    "pengunjung tidak boleh ikut memutuskan."
)


def _until(moment: datetime, tz: tzinfo) -> str:
    return f"{moment.astimezone(tz):%d-%m-%Y %H:%M}"


def period_button(days: int) -> str:
    """A delegation period of whole days; one day means until tonight."""
    return BTN_TODAY if days == 1 else f"{days} hari"


def role_toggle(role: Role, chosen: bool) -> str:
    """A role's button on an invitation or a member's page, ticked when chosen."""
    return f"{'☑️' if chosen else '⬜'} {ROLE_NAMES[role]}"


def staff_list(members: list[StaffMember], not_opened: Collection[int] = ()) -> str:
    """Everyone active; who never wrote to the bot is marked (Telegram delivers them nothing)."""
    lines = ["<b>Daftar staf</b>", ""]
    for m in members:
        mark = f" {NOT_OPENED_MARK}" if m.user_id in not_opened else ""
        lines.append(f"• {escape(m.name)} (<code>{m.user_id}</code>): {roles_text(m.roles)}{mark}")
    if any(m.user_id in not_opened for m in members):
        lines += ["", NOT_OPENED_NOTE]
    lines += ["", "Tekan nama untuk mengubah peran atau menghapus. Tambah staf: /undang"]
    return "\n".join(lines)


NOT_OPENED_MARK = "⚠️ belum membuka bot"
NOT_OPENED_NOTE = (
    "⚠️ belum membuka bot: Telegram tidak menyampaikan pesan apa pun kepadanya (kartu, "
    "badge, peringatan) sampai dia membuka bot dan menekan Start."
)


def member_view(member: StaffMember, note: str = "") -> str:
    """``note``: what the change just made needs of the admin (``escort_left_inside``)."""
    return (
        f"<b>{escape(member.name)}</b> (<code>{member.user_id}</code>)\n"
        f"Peran: {roles_text(member.roles)}\n\nTekan peran untuk menambah/mencabutnya."
        + (f"\n\n{note}" if note else "")
    )


def invite_link(link: str, roles: frozenset[Role], until: datetime, tz: tzinfo) -> str:
    return (
        f"Tautan undangan untuk peran <b>{roles_text(roles)}</b>:\n{escape(link)}\n\n"
        f"Berlaku sekali pakai sampai {_until(until, tz)}. "
        "Kirimkan kepada orang yang diundang; setelah ia membukanya Anda diminta konfirmasi."
    )


def invite_claimed(name: str, user_id: int, roles: frozenset[Role]) -> str:
    return (
        f"<b>{escape(name)}</b> (ID <code>{user_id}</code>) membuka tautan undangan untuk "
        f"peran <b>{roles_text(roles)}</b>. Konfirmasi?"
    )


def invite_accepted(name: str, roles: frozenset[Role]) -> str:
    return f"✅ {escape(name)} kini terdaftar sebagai {roles_text(roles)}."


def invite_declined(name: str) -> str:
    return f"❌ Undangan untuk {escape(name)} ditolak."


def removed(name: str, note: str = "") -> str:
    """``note``: visitors they let in still inside (``escort_left_inside``)."""
    return f"🗑 {escape(name)} dihapus dari staf." + (f"\n\n{note}" if note else "")


def delegate_period(name: str) -> str:
    return f"Berapa lama <b>{escape(name)}</b> mewakili Anda?"


def delegated(delegate: str, until: datetime, tz: tzinfo) -> str:
    return (
        f"✅ {escape(delegate)} dapat menyetujui/menolak atas nama Anda "
        f"sampai {_until(until, tz)}."
    )


def delegated_to_you(approver: str, until: datetime, tz: tzinfo) -> str:
    return (
        f"Anda ditunjuk mewakili {escape(approver)} menyetujui permintaan akses "
        f"sampai {_until(until, tz)}."
    )


def on_behalf(delegate: str, approver: str) -> str:
    """'<delegate> a.n. <approver>': atas nama, how a delegate's decision is signed."""
    return f"{delegate} a.n. {approver}"


def withheld_notice(former: str, reference: str) -> str:
    """To the admins: a message for a visit's officer was not sent, since that person is no
    longer an officer and the visit was not moved to another."""
    return (
        f"⚠️ Pesan untuk {escape(former)} tentang {reference} ditahan: ia bukan lagi "
        f"{ROLE_NAMES[Role.OFFICER]}. Pindahkan kunjungan ke petugas lain lewat /staf, "
        "atau minta petugas jaga membatalkannya (/batalkan)."
    )


def handover_to(name: str) -> str:
    return f"➡️ Pindahkan ke {name}"


def handover_prompt(name: str, references: list[str], *, removing: bool) -> str:
    """Before an officer leaves: where their open requests go."""
    change = "dihapus dari staf" if removing else f"tidak lagi menjadi {ROLE_NAMES[Role.OFFICER]}"
    listed = "\n".join(f"• {ref}" for ref in references)
    return (
        f"<b>{escape(name)}</b> masih memegang {len(references)} permintaan terbuka "
        f"(menunggu keputusan, atau disetujui dan belum dipakai):\n{listed}\n\n"
        f"Sebelum {escape(name)} {change}, pindahkan semuanya ke petugas lain (badge dan "
        "pemberitahuannya akan ke sana), atau batalkan semuanya (Kepala Seksi melihatnya di "
        "kartu). Pengunjung yang sudah di dalam tetap didampingi sampai keluar."
    )


def handover_cancel_reason(name: str) -> str:
    return f"{name} tidak lagi bertugas sebagai petugas"


def handed_over(name: str, references: list[str], to: str | None, *, removed: bool) -> str:
    what = ", ".join(references) or "-"
    where = f"dipindahkan ke {escape(to)}" if to else "dibatalkan"
    change = "dihapus dari staf" if removed else "tidak lagi menjadi petugas"
    return f"✅ Permintaan {what} {where}. {escape(name)} {change}."


def handed_to_you(former: str, references: list[str]) -> str:
    """To the officer who takes over a departing officer's open requests."""
    return (
        f"📋 Anda kini menangani permintaan {', '.join(references)} yang sebelumnya dipegang "
        f"{escape(former)}. Pemberitahuan dan badge berikutnya dikirim kepada Anda. Jika badge "
        "sudah terbit sebelumnya dan tidak ada di meja, batalkan (/batalkan) lalu daftarkan ulang."
    )


def self_approval_alert(admin: str, member: str, roles: frozenset[Role], own: bool) -> str:
    """To every approver and the other admins: a role grant that lets someone approve what
    they (or the granter) control."""
    who = "dirinya sendiri" if own else escape(member)
    return (
        f"⚠️ <b>Perubahan peran perlu diperhatikan</b>\n{escape(admin)} memberi {who} peran "
        f"<b>{roles_text(roles)}</b>. Dengan peran ini ia dapat mendaftarkan dan/atau "
        "menyetujui permintaan akses (permintaannya sendiri tetap tidak dapat ia putuskan). "
        "Jika ini tidak disepakati, hubungi admin lain."
    )


def escort_left_inside(name: str, visits: list[Visit], tz: tzinfo) -> str:
    """To the admin who removed an escort, or took the escort role away, while visitors they
    let in are still inside: someone else must accompany them."""
    lines = [f"⚠️ <b>Masih di ruang server</b>, masuk bersama {escape(name)} sebagai pendamping:"]
    lines += [
        f"• {v.reference} {escape(v.name)} (masuk {clock(v.entered_at, tz)})" for v in visits
    ]
    lines.append(
        "Pastikan pendamping lain mendampingi mereka sampai KELUAR dicatat. Peringatan "
        "melebihi waktu kini dikirim ke pendamping yang sedang piket (atau semua pendamping "
        "bila tidak ada yang piket)."
    )
    return "\n".join(lines)
