"""bot/texts: limits come from the constants that enforce them, roles key the menus."""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from html import escape
from types import ModuleType
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.core import fields, tokens
from bot.core.nik import NIK_LENGTH
from bot.core.roles import Role
from bot.core.standards import Step, StepTiming
from bot.core.visits import Visit, VisitStatus
from bot.texts import approval as approval_texts
from bot.texts import common as common_texts
from bot.texts import door as door_texts
from bot.texts import reports as reports_texts
from bot.texts import staff as staff_texts
from bot.texts import standards as standards_texts
from tests.unit.test_reports import make_visit


@pytest.fixture
def reloaded(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[ModuleType]]:
    """Text modules re-imported after a limit is changed, restored afterwards."""
    modules: list[ModuleType] = []
    yield modules
    monkeypatch.undo()
    for module in modules:
        importlib.reload(module)


def test_the_deny_reason_limit_is_the_enforced_one(
    monkeypatch: pytest.MonkeyPatch, reloaded: list[ModuleType]
) -> None:
    assert f"maksimal {fields.REASON_MAX} karakter" in approval_texts.DENY_REASON_TOO_LONG
    monkeypatch.setattr(fields, "REASON_MAX", 123)
    reloaded.append(importlib.reload(approval_texts))
    assert "maksimal 123 karakter" in approval_texts.DENY_REASON_TOO_LONG


def test_the_manual_code_texts_follow_the_code_and_its_rate_limit(
    monkeypatch: pytest.MonkeyPatch, reloaded: list[ModuleType]
) -> None:
    assert "Tunggu 10 menit" in door_texts.CODE_RATE_LIMITED
    assert "terdiri dari 8 huruf/angka" in door_texts.CODE_FORMAT
    monkeypatch.setattr(tokens, "CODE_WINDOW", timedelta(minutes=90))
    monkeypatch.setattr(tokens, "CODE_LENGTH", 10)
    reloaded.append(importlib.reload(door_texts))
    assert "Tunggu 1 jam 30 menit" in door_texts.CODE_RATE_LIMITED
    assert "terdiri dari 10 huruf/angka" in door_texts.CODE_FORMAT


def test_the_history_hint_names_the_lengths_it_is_given() -> None:
    text = reports_texts.history_query_too_short(4)
    assert text == f"Ketik paling sedikit 4 huruf nama, atau NIK lengkap {NIK_LENGTH} angka."


def test_refusals_name_the_role_from_one_table(
    monkeypatch: pytest.MonkeyPatch, reloaded: list[ModuleType]
) -> None:
    assert common_texts.ONLY_APPROVER == "Perintah ini khusus untuk Kepala Seksi."
    assert common_texts.ONLY_OFFICER == "Perintah ini khusus untuk Petugas."
    assert door_texts.ONLY_ESCORT.startswith("Hanya Pendamping ")
    monkeypatch.setitem(common_texts.ROLE_NAMES, Role.ESCORT, "Pengawal")
    reloaded.append(importlib.reload(door_texts))
    assert door_texts.ONLY_ESCORT.startswith("Hanya Pengawal ")


def test_menus_are_keyed_by_role_and_listed_once_in_role_order() -> None:
    assert set(common_texts.ROLE_NAMES) == set(Role) == set(common_texts.COMMANDS)
    commands = [c for c, _ in common_texts.commands_for(frozenset({Role.ADMIN, Role.APPROVER}))]
    assert commands == [
        "menunggu", "jadwal", "hari_ini", "laporan", "statistik", "riwayat", "delegasi",
        "blokir", "buka_blokir", "daftar_blokir", "staf", "undang", "aktif", "darurat",
        "bantuan",
    ]  # fmt: skip
    # Stored role sets may still be plain strings: a StrEnum key finds them.
    assert common_texts.commands_for(frozenset({Role.ESCORT}))[0][0] == "kode"
    assert common_texts.roles_text(frozenset({Role.ADMIN, Role.OFFICER})) == "Petugas, Admin"


def test_buttons_built_from_texts() -> None:
    assert staff_texts.role_toggle(Role.ESCORT, True) == "☑️ Pendamping"
    assert staff_texts.role_toggle(Role.ESCORT, False) == "⬜ Pendamping"
    assert [staff_texts.period_button(n) for n in (1, 3, 7)] == ["Hari ini", "3 hari", "7 hari"]
    assert staff_texts.on_behalf("Dewi", "Budi") == "Dewi a.n. Budi"


def _visit() -> Visit:
    now = datetime(2026, 11, 28, 2, 0, tzinfo=UTC)
    return Visit(
        id=1, status=VisitStatus.INSIDE, visitor_id=1, nik="3508015507900002",
        name="Ayu <b>", organisation="PT A", phone="0812", purpose="x", duration_minutes=30,
        equipment="", ktp_file_id="f", officer_id=1, started_at=now, submitted_at=now,
        entered_at=now,
    )  # fmt: skip


def test_a_refused_tap_says_where_the_visit_stands() -> None:
    inside = "Tombol ini sudah tidak berlaku. Status: Di dalam ruang server"
    assert door_texts.stale_tap(_visit()) == inside
    assert door_texts.stale_tap(None) == "Tombol ini sudah tidak berlaku. Status: -"


def test_the_daily_review_writes_breaches_as_the_access_log_does() -> None:
    start = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)
    took = timedelta(minutes=12)
    standard = timedelta(minutes=10)
    timing = StepTiming(Step.DECISION, standard, start, start + took, took, False, True)
    review = standards_texts.daily_review(
        datetime(2026, 11, 27).date(), [], [(_visit(), [timing])], [], [],
        datetime(2026, 11, 28, tzinfo=UTC), UTC,
    )  # fmt: skip
    assert standards_texts.breach_note(timing) == "Keputusan 12 > 10 mnt"
    assert "Ayu &lt;b&gt;: Keputusan 12 &gt; 10 mnt" in review[0]


def test_an_exit_summary_dates_a_visit_that_crossed_midnight() -> None:
    """Without dates, 09:00 in and 09:10 out the next day reads as ten minutes."""
    wib = ZoneInfo("Asia/Jakarta")
    entered = datetime(2026, 11, 28, 2, 0, tzinfo=UTC)  # 09:00 WIB
    visit = replace(
        make_visit(1),
        entered_at=entered,
        exited_at=entered + timedelta(hours=24, minutes=10),
        equipment_check=None,
    )
    text = door_texts.exit_summary(visit, "Rudi", wib)
    assert "Masuk: 28-11-2026 09:00 WIB" in text and "Keluar: 29-11-2026 09:10 WIB" in text
    same_day = replace(visit, exited_at=entered + timedelta(minutes=10))
    text = door_texts.exit_summary(same_day, "Rudi", wib)
    assert "Masuk: 09:00 WIB" in text and "Keluar: 09:10 WIB" in text


@given(
    st.lists(st.text(alphabet="ab<>&é😀\n", min_size=0, max_size=700), max_size=40),
    st.integers(min_value=300, max_value=common_texts.MESSAGE_MAX),
)
def test_pages_keep_every_item_whole_and_in_order_within_the_room(
    items: list[str], room: int
) -> None:
    """A long list is split between items, each page within Telegram's count (UTF-16, after
    the markup), numbered after the first; the items come back whole and in order."""
    escaped = [escape(item) for item in items]
    pages = common_texts.pages("<b>Judul</b>", escaped, "akhir", room=room)
    assert all(common_texts.shown_length(page) <= room for page in pages)
    if len(pages) == 1:
        assert pages[0] == "\n".join(["<b>Judul</b>", *escaped, "akhir"])
        return
    bodies = [pages[0]] + [page.split("\n", 1)[1] if "\n" in page else "" for page in pages[1:]]
    for n, page in enumerate(pages[1:], start=2):
        assert page.startswith(common_texts.continued(n, len(pages)))
    assert "\n".join(bodies) == "\n".join(["<b>Judul</b>", *escaped, "akhir"])


def test_an_item_longer_than_a_page_is_cut_as_text_not_markup() -> None:
    long = "<b>" + "x &amp; " * 1200 + "</b>"  # 4800 characters shown
    (page,) = common_texts.pages("Judul", [long, "berikut"])
    assert common_texts.shown_length(page) <= common_texts.MESSAGE_MAX
    body = page.split("\n")[1]
    assert "<b>" not in body and body.startswith("x &amp; x") and body.endswith(("x", " ", ";"))
    assert page.endswith("\nberikut")
