"""Words for looking up stored personal data: the returning visitor's phone, on a tap."""

from __future__ import annotations

BTN_SHOW_PHONE = "📞 Lihat nomor HP"


def phone_alert(phone: str) -> str:
    """The full number, in a pop-up that stays out of the chat (the tap is recorded)."""
    return f"Nomor HP pengunjung: {phone}\n(Tercatat di log audit.)"
