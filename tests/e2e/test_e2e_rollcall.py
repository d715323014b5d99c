"""The evacuation roll call (/darurat): every staff member's copy, the marks, the end."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from bot.app.config import Config
from bot.app.services import Services
from bot.core import callbacks
from bot.core.roles import Role, StaffMember
from bot.core.visits import VisitStatus
from bot.texts import common as common_texts
from bot.texts import rollcall as rollcall_texts
from simulator import BotApiSimulator, SimMessage
from tests.conftest import (
    ADMIN,
    APPROVER,
    ESCORT,
    OFFICER,
    STAFF,
    STRANGER,
    FakeClock,
)
from tests.dbstate import watch
from tests.flows import NIK_MAN, NIK_WOMAN, Visitor, badge_link, register, scan
from tests.strategies import build_nik

ESCORT2 = 3002
EVERYONE = [m.user_id for m in STAFF] + [ESCORT2]
TITLE = "APEL DARURAT"


@pytest.fixture
def config(tmp_path: Path, sim: BotApiSimulator) -> Config:
    """The shared staff and a second escort, so visitors can have different escorts."""
    sim.add_user(ESCORT2, "Eko")
    second = StaffMember(ESCORT2, "Eko Pendamping", frozenset({Role.ESCORT}))
    return Config(
        token=sim.token,
        signing_secret=b"test-signing-secret-0123456789abcdef",
        data_dir=tmp_path / "data",
        staff=(*STAFF, second),
        encryption_key=b"YWtzZXMtdGVzdC1lbmNyeXB0aW9uLWtleS0zMmJ5dGU=",
        audit_key=b"test-audit-key-of-the-hmac-chain-0123456789",
        base_url=sim.base_url,
        base_file_url=sim.base_file_url,
    )


async def inside(sim: BotApiSimulator, visitor: Visitor, escort: int) -> None:
    """Register, approve, and let ``escort`` take the visitor in."""
    await register(sim, visitor)
    approver = sim.user(APPROVER)
    card = await approver.wait_for(
        visitor.name, predicate=lambda m: any("Setujui" in b for r in m.buttons for b in r)
    )
    officer = sim.user(OFFICER)
    floor = max(m.seq for m in officer.messages)
    await approver.tap("Setujui", card)
    await officer.wait_for(predicate=lambda m: m.document_name is not None, since=floor)
    await scan(sim, badge_link(sim), escort)
    await sim.user(escort).tap("Catat MASUK")
    await sim.user(escort).wait_for("MASUK tercatat")


VISITORS = [
    Visitor(nik=NIK_WOMAN, name="Ayu Lestari"),
    Visitor(nik=NIK_MAN, name="Bima Sakti"),
    Visitor(nik=build_nik("350801", date(1991, 3, 4), "L", "0007"), name="Candra Wijaya"),
]


def roll_message(sim: BotApiSimulator, user: int, count: int = 1) -> SimMessage:
    """The newest of the ``count`` roll-call messages in ``user``'s chat (one per roll call:
    each copy is edited, never sent again)."""
    found = [m for m in sim.user(user).bot_messages if TITLE in m.text_or_caption]
    assert len(found) == count, [str(m) for m in found]
    return found[-1]


async def everyone_sees(
    sim: BotApiSimulator, services: Services, *parts: str, count: int = 1
) -> None:
    await services.delivery.wait_idle()
    await sim.settle()
    for user in EVERYONE:
        text = roll_message(sim, user, count).text_or_caption
        assert all(p in text for p in parts), (user, text)


async def test_nobody_inside_says_so_at_once(
    sim: BotApiSimulator, app: object, services: Services
) -> None:
    await sim.user(ESCORT).send_text("/darurat")
    await sim.user(ESCORT).wait_for(TITLE)
    await everyone_sees(sim, services, "Tidak ada pengunjung", "Apel selesai")
    for user in EVERYONE:
        assert roll_message(sim, user).buttons == []
    (roll,) = await services.storage.rollcalls.between(
        services.now().replace(year=2000), services.now().replace(year=2100)
    )
    assert roll.started_by == ESCORT and roll.ended_at == roll.started_at and not roll.entries
    actions = [e.action for e in await services.storage.audit.events()]
    assert [a for a in actions if a.startswith("roll_call")] == [
        "roll_call_started",
        "roll_call_ended",
    ]
    # The next emergency is a new roll call, not "one is running".
    await sim.user(OFFICER).send_text("/darurat")
    await sim.user(OFFICER).wait_for(TITLE)
    await services.delivery.wait_idle()
    assert sum(TITLE in m.text_or_caption for m in sim.user(ADMIN).bot_messages) == 2


async def test_one_visitor_marked_safe_updates_every_copy(
    sim: BotApiSimulator, app: object, services: Services, clock: FakeClock
) -> None:
    await inside(sim, VISITORS[0], ESCORT)
    clock.advance(minutes=5)
    await sim.user(OFFICER).send_text("/darurat")
    await sim.user(OFFICER).wait_for(TITLE)
    await everyone_sees(sim, services, "Ayu Lestari", "Dewi Pendamping", "belum aman: 1")
    for user in EVERYONE:
        message = roll_message(sim, user)
        assert "belum aman: 1" in message.text_or_caption
        assert message.buttons == [["✅ Aman: Ayu Lestari"]]
    clock.advance(minutes=3)
    escort = sim.user(ESCORT)
    tap = await escort.tap("Aman: Ayu", roll_message(sim, ESCORT))
    await everyone_sees(sim, services, "Semua pengunjung aman", "ditandai oleh Dewi Pendamping")
    assert tap.answer is not None and "Semua pengunjung aman" in tap.answer.text
    for user in EVERYONE:
        assert roll_message(sim, user).buttons == []
    roll = await services.storage.rollcalls.current()
    assert roll is None
    (visit,) = await services.storage.visits.with_status(VisitStatus.INSIDE)
    notes = await services.storage.rollcalls.of_visits([visit.id])
    ((done, entry),) = notes[visit.id]
    assert entry.marked_by == ESCORT and entry.safe_at == done.ended_at == clock.now
    events = await services.storage.audit.events()
    actions = [(e.action, e.actor_id) for e in events if e.action.startswith("roll_call")]
    assert actions == [
        ("roll_call_started", OFFICER),
        ("roll_call_marked", ESCORT),
        ("roll_call_ended", ESCORT),
    ]


async def test_a_visitor_checked_out_at_the_door_is_safe_on_the_roll_call(
    sim: BotApiSimulator, app: object, services: Services, clock: FakeClock
) -> None:
    """The escort walks the visitor out and records KELUAR while the roll call runs: the
    visitor is marked safe by that escort on every copy, and the roll call can end, instead
    of "belum aman" for someone the door log says left."""
    await inside(sim, VISITORS[0], ESCORT)
    first = badge_link(sim)
    await inside(sim, VISITORS[1], ESCORT2)
    second = badge_link(sim)
    await sim.user(OFFICER).send_text("/darurat")
    await sim.user(OFFICER).wait_for(TITLE)
    await everyone_sees(sim, services, "belum aman: 2")
    clock.advance(minutes=2)
    escort = sim.user(ESCORT)
    await scan(sim, first, ESCORT)
    await escort.tap("Perangkat sesuai")
    await escort.wait_for("KELUAR tercatat")
    await everyone_sees(sim, services, "belum aman: 1")
    for user in EVERYONE:
        assert roll_message(sim, user).buttons == [["✅ Aman: Bima Sakti"]]
    await scan(sim, second, ESCORT2)
    await sim.user(ESCORT2).tap("Perangkat sesuai")
    await sim.user(ESCORT2).wait_for("KELUAR tercatat")
    await everyone_sees(sim, services, "Semua pengunjung aman")
    assert await services.storage.rollcalls.current() is None
    marks = [
        (e.actor_id, e.visit_id)
        for e in await services.storage.audit.events()
        if e.action == "roll_call_marked"
    ]
    assert marks == [(ESCORT, 1), (ESCORT2, 2)]


async def test_three_inside_two_escorts_double_taps_stale_and_foreign_taps(
    sim: BotApiSimulator, app: object, services: Services, clock: FakeClock
) -> None:
    await inside(sim, VISITORS[0], ESCORT)
    await inside(sim, VISITORS[1], ESCORT2)
    await inside(sim, VISITORS[2], ESCORT)
    await sim.user(APPROVER).send_text("/darurat")
    await sim.user(APPROVER).wait_for(TITLE)
    await everyone_sees(sim, services, "Di dalam saat apel dimulai: 3", "Eko Pendamping")
    message = roll_message(sim, ESCORT2)
    assert sorted(b for row in message.buttons for b in row) == [
        "✅ Aman: Ayu Lestari",
        "✅ Aman: Bima Sakti",
        "✅ Aman: Candra Wijaya",
    ]
    # Each escort's visitors are listed together: Dewi's two, then Eko's one.
    text = message.text_or_caption
    assert text.index("Ayu") < text.index("Candra") < text.index("Bima")

    # Eko marks his visitor, with a double tap: one mark, the second tap says who did it.
    first, second = await sim.user(ESCORT2).double_tap("Aman: Bima", message)
    await everyone_sees(sim, services, "belum aman: 2")
    assert first.answer is not None and "Bima Sakti ditandai aman" in first.answer.text
    assert second.answer is not None and "sudah ditandai aman oleh Eko" in second.answer.text
    assert "terjadi kesalahan" not in second.answer.text
    for user in EVERYONE:
        assert len(roll_message(sim, user).buttons) == 2

    # /darurat again while it runs: pointed to the running one, nothing recorded.
    db = await watch(app, sim)
    await sim.user(ESCORT2).send_text("/darurat")
    await sim.user(ESCORT2).wait_for("sedang berjalan")
    # A tap on a visitor not on this roll call (forged data): stale, nothing changes.
    roll = await services.storage.rollcalls.current()
    assert roll is not None
    forged = callbacks.RollCallTap(roll.id, 999).data
    refused = await sim.user(ESCORT).send_callback(roll_message(sim, ESCORT), forged)
    await sim.settle()
    assert refused.answer is not None and refused.answer.text == common_texts.STALE_BUTTON
    # A stranger can neither start one nor mark anyone.
    stranger = sim.user(STRANGER)
    await stranger.send_text("/darurat")
    refusal = await stranger.wait_for("ID Telegram Anda")
    await stranger.send_callback(refusal, callbacks.RollCallTap(roll.id, 1).data)
    await sim.settle()
    assert not any(TITLE in m.text_or_caption for m in stranger.bot_messages)
    await db.unchanged(new_audit=["stranger_refused"] * 2)

    # An admin marks one of Dewi's (any staff member may), Dewi the last.
    clock.advance(minutes=2)
    await sim.user(ADMIN).tap("Aman: Ayu", roll_message(sim, ADMIN))
    await everyone_sees(sim, services, "belum aman: 1", "ditandai oleh Admin TI")
    clock.advance(minutes=2)
    await sim.user(ESCORT).tap("Aman: Candra", roll_message(sim, ESCORT))
    await everyone_sees(sim, services, "Semua pengunjung aman", "belum aman: 0")
    for user in EVERYONE:
        assert roll_message(sim, user).buttons == []

    # A button from the finished roll call (a copy drawn before the end): nothing changes.
    db = await watch(app, sim)
    late = callbacks.RollCallTap(roll.id, roll.entries[0].visit_id).data
    answer = await sim.user(OFFICER).send_callback(roll_message(sim, OFFICER), late)
    await sim.settle()
    assert answer.answer is not None and "sudah ditandai aman" in answer.answer.text
    await db.unchanged()
    done = await services.storage.rollcalls.get(roll.id)
    assert done is not None and done.ended_at == clock.now
    assert {e.marked_by for e in done.entries} == {ESCORT, ESCORT2, ADMIN}


async def test_roll_call_works_in_the_middle_of_a_form(
    sim: BotApiSimulator, app: object, services: Services
) -> None:
    officer = sim.user(OFFICER)
    await officer.send_text("/daftar")
    await officer.wait_for("langkah 1/")
    await officer.send_text("/darurat")
    await officer.wait_for(TITLE)
    await everyone_sees(sim, services, rollcall_texts.NOBODY)


async def test_roll_calls_are_in_the_reports(
    sim: BotApiSimulator, app: object, services: Services, clock: FakeClock
) -> None:
    await sim.user(ESCORT).send_text("/darurat")  # a drill with nobody inside
    await sim.user(ESCORT).wait_for(TITLE)
    clock.advance(minutes=10)
    await inside(sim, VISITORS[0], ESCORT2)
    clock.advance(minutes=5)  # 09:15 WIB
    await sim.user(OFFICER).send_text("/darurat")
    await sim.user(OFFICER).wait_for(TITLE)
    await services.delivery.wait_idle()
    clock.advance(minutes=4)
    await sim.user(ESCORT2).tap("Aman: Ayu", roll_message(sim, ESCORT2, 2))
    await everyone_sees(sim, services, "Semua pengunjung aman", count=2)

    officer = sim.user(OFFICER)
    await officer.send_text("/laporan")
    await officer.wait_for("Pilih periode")
    await officer.tap("Hari ini")
    xlsx = await officer.wait_for(predicate=lambda m: (m.document_name or "").endswith(".xlsx"))
    pdf = await officer.wait_for(predicate=lambda m: (m.document_name or "").endswith(".pdf"))
    assert xlsx.document_bytes is not None and pdf.document_bytes is not None
    sheet = load_workbook(io.BytesIO(xlsx.document_bytes))[rollcall_texts.REPORT_SECTION]
    header, *rows = list(sheet.iter_rows(values_only=True))
    assert header == rollcall_texts.REPORT_COLUMNS
    (drill, real) = rows
    assert drill[1] == "Dewi Pendamping" and drill[4] == rollcall_texts.REPORT_NOBODY
    assert drill[0] == drill[2] and drill[0].strftime("%H:%M") == "09:00"
    assert real[1] == "Sari Petugas" and real[4] == "Ayu Lestari" and real[5] == "Eko Pendamping"
    assert real[0].strftime("%H:%M") == "09:15" and real[7].strftime("%H:%M") == "09:19"
    assert real[8] == "Eko Pendamping" and real[3].startswith("KRS-")
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.document_bytes)).pages)
    assert rollcall_texts.REPORT_SECTION in text and "28-11-2026 09:19" in text
    # The visit's own row says it too (Catatan), and so does /riwayat.
    note = "Apel darurat 28-11 09:15: aman 09:19"
    log = load_workbook(io.BytesIO(xlsx.document_bytes))["Log akses"]
    header, *visits = list(log.iter_rows(values_only=True))
    assert visits[0][header.index("Catatan")] == note
    assert f"Catatan: {note}" in text.splitlines()  # the PDF: a line under the row
    await officer.send_text("/riwayat Ayu")
    history = await officer.wait_for("Ayu Lestari")
    assert note in history.text_or_caption
