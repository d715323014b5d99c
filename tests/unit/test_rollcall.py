"""The roll call's message: every visitor, who is safe, and a length Telegram accepts."""

from __future__ import annotations

from datetime import timedelta

from bot.core.rollcall import Entry, RollCall
from bot.texts import form as form_texts
from bot.texts import rollcall as rollcall_texts
from tests.unit.test_reports import T0, WIB, make_visit

NAMES = {3001: "Dewi Pendamping", 3002: "Eko Pendamping", 1001: "Sari Petugas"}


def roll(count: int, safe: int = 0) -> RollCall:
    entries = tuple(
        Entry(
            visit_id=n,
            escort_id=3001 + n % 2,
            entered_at=T0 + timedelta(minutes=n),
            safe_at=T0 + timedelta(hours=2) if n <= safe else None,
            marked_by=3001 if n <= safe else None,
        )
        for n in range(1, count + 1)
    )
    ended = T0 + timedelta(hours=2) if safe == count else None
    return RollCall(7, T0 + timedelta(hours=1), 1001, ended, entries)


def test_each_escorts_visitors_together_and_who_is_safe() -> None:
    visits = {n: make_visit(n, name=f"Tamu <{n}>") for n in range(1, 4)}
    text = rollcall_texts.message(roll(3, safe=1), visits, NAMES, WIB)
    assert "Dimulai 02-11-2026 09:00 WIB oleh Sari Petugas" in text
    assert "belum aman: <b>2</b>" in text and "Tamu &lt;1&gt;" in text  # escaped
    # Grouped by escort: Dewi's visitor 2 first, then Eko's 1 and 3.
    assert text.index("Tamu &lt;2&gt;") < text.index("Tamu &lt;1&gt;")
    assert "aman 10:00 WIB, ditandai oleh Dewi Pendamping" in text
    assert "Semua pengunjung aman" not in text
    done = rollcall_texts.message(roll(3, safe=3), visits, NAMES, WIB)
    assert "Semua pengunjung aman</b> pukul 10:00 WIB" in done


def test_many_visitors_still_fit_one_message() -> None:
    visits = {n: make_visit(n, name="N" * 60, organisation="O" * 80) for n in range(1, 61)}
    text = rollcall_texts.message(roll(60, safe=10), visits, NAMES, WIB)
    assert len(form_texts.plain(text)) <= 4096
    assert text.count("⬜") == 50 and text.count("✅ N") == 10


def test_buttons_name_the_visitor_in_one_short_line() -> None:
    assert rollcall_texts.safe_button(make_visit(1, name="Ayu")) == "✅ Aman: Ayu"
    long = rollcall_texts.safe_button(make_visit(1, name="A" * 80))
    assert len(long) <= len("✅ Aman: ") + rollcall_texts.BUTTON_NAME_MAX and long.endswith("…")
