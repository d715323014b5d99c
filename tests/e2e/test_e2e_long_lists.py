"""Lists an audit day fills: more than one message, never refused for their length.

Telegram refuses a message over 4096 characters (the simulator too, simulator/content.py).
An audit team of thirty inside, thirty requests waiting, a vendor's monthly visits, a
watchlist of a few years or the review of the audit day went past it, and the person got
"terjadi kesalahan" (the daily review, sent by the outbox, was lost without a word while
its audit anchor was recorded as sent). Each list now goes as pages, every page whole.

The visits are seeded through storage's own transitions (what the form and the taps would
leave), then the person asks through the simulator.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from bot.core import visits as lifecycle
from bot.core.nik import mask_nik
from bot.core.planning import Plan
from bot.core.visits import EquipmentCheck, Visit, VisitDraft
from bot.texts import common as common_texts
from simulator import BotApiSimulator, SimMessage
from tests.conftest import ADMIN, APPROVER, APPROVER2, ESCORT, OFFICER, FakeClock
from tests.strategies import build_nik

NAMES = ["Ayu Lestari", "Bima Sakti Pratama", "Candra Wijaya Kusuma", "Eka Putri Rahmawati"]
ORGS = [
    "BPK RI Perwakilan Provinsi Jawa Timur",
    "PT Telkom Indonesia (Persero) Tbk",
    "Inspektorat Kabupaten Lumajang",
]
MORE = re.compile(r"\(lanjutan, bagian (\d+) dari (\d+)\)")


def nik(i: int) -> str:
    return build_nik("350801", date(1970 + i % 30, 1 + i % 12, 1 + i % 28), "L", f"{i + 1:04d}")


def draft(i: int, at: datetime, **changes: Any) -> VisitDraft:
    base = VisitDraft(
        nik=nik(i),
        name=f"{NAMES[i % len(NAMES)]} {i}",
        organisation=ORGS[i % len(ORGS)],
        phone="081234567890",
        purpose="Audit TI",
        duration_minutes=120,
        equipment="Laptop",
        ktp_file_id=f"ktp-{i}",
        started_at=at - timedelta(minutes=6),
        form_done_at=at - timedelta(minutes=2),
    )
    return replace(base, **changes)


async def seeded(services: Any, d: VisitDraft, at: datetime, *, until: str) -> Visit:
    """One visit through the real transitions, up to ``until``."""
    store = services.storage.visits
    visit = await store.submit(d, OFFICER, at)
    if until == "pending":
        return visit
    if until == "scheduled":
        return await store.apply(lifecycle.approve_ahead(visit, APPROVER, at)) or visit
    visit = await store.apply(lifecycle.approve(visit, APPROVER, at, at + timedelta(hours=8)))
    visit = await store.apply(lifecycle.enter(visit, ESCORT, at + timedelta(minutes=5)))
    if until == "inside":
        return visit
    done = lifecycle.exit_(visit, ESCORT, at + timedelta(minutes=90), EquipmentCheck.MATCHES)
    return await store.apply(done)


async def ask(sim: BotApiSimulator, user: int, command: str) -> list[SimMessage]:
    """What the bot answered ``command`` with, in order."""
    person = sim.user(user)
    floor = max((m.seq for m in person.messages), default=0)
    await person.send_text(command)
    await sim.settle()
    return [m for m in person.bot_messages if m.seq > floor]


def whole(pages: list[SimMessage], title: str) -> str:
    """The pages of one list: the title on the first, each later one numbered in order."""
    texts = [m.text for m in pages]
    assert texts and title in texts[0], texts[:1]
    assert common_texts.ERROR not in texts
    for n, text in enumerate(texts[1:], start=2):
        found = MORE.match(text)
        assert found is not None, text[:80]
        assert (int(found[1]), int(found[2])) == (n, len(texts))
    assert all(common_texts.shown_length(t) <= common_texts.MESSAGE_MAX for t in texts)
    return "\n".join(texts)


async def test_aktif_with_an_audit_team_of_forty_inside(
    sim: BotApiSimulator, app: object, services: Any, clock: FakeClock
) -> None:
    at = clock() - timedelta(hours=3)  # each one past the planned two hours: flagged too
    inside = [await seeded(services, draft(i, at), at, until="inside") for i in range(40)]
    answer = await ask(sim, APPROVER, "/aktif")
    assert len(answer) > 1
    text = whole(answer, "Di dalam ruang server: 40")
    assert all(v.reference in text and v.name in text for v in inside)
    assert text.count("melewati rencana") == 40


async def test_menunggu_with_thirty_requests_waiting(
    sim: BotApiSimulator, app: object, services: Any, clock: FakeClock
) -> None:
    at = clock() - timedelta(minutes=40)
    waiting = [await seeded(services, draft(i, at), at, until="pending") for i in range(30)]
    answer = await ask(sim, ADMIN, "/menunggu")
    assert len(answer) > 1
    text = whole(answer, "Menunggu keputusan: 30")
    assert all(v.reference in text for v in waiting)


async def test_hari_ini_with_the_audit_team_planned_keeps_a_button_for_each(
    sim: BotApiSimulator, app: object, services: Any, clock: FakeClock
) -> None:
    today = clock().astimezone(services.config.timezone).date()
    at = clock() - timedelta(days=1)
    plan = Plan(today, time(9), time(15))
    planned = [
        await seeded(services, draft(i, at, plan=plan, ktp_file_id=""), at, until="scheduled")
        for i in range(36)
    ]
    answer = await ask(sim, OFFICER, "/hari_ini")
    assert len(answer) > 1
    text = whole(answer, "Kunjungan terjadwal hari ini")
    assert all(v.reference in text for v in planned)
    assert "Saat pengunjung datang" in answer[-1].text  # the how-to ends the list
    # The buttons sit under the last page, where the list ends: one per visit.
    assert [m.buttons for m in answer[:-1]] == [[]] * (len(answer) - 1)
    labels = [label for row in answer[-1].buttons for label in row]
    assert len(labels) == 36 and all(any(v.name in b for b in labels) for v in planned)


async def test_riwayat_of_a_vendor_who_comes_every_month(
    sim: BotApiSimulator, app: object, services: Any, clock: FakeClock
) -> None:
    start = clock() - timedelta(days=20 * 30)
    for month in range(20):
        at = start + timedelta(days=30 * month)
        letter = f"090/{month + 100}/ST/TLK/2026"
        await seeded(services, draft(0, at, assignment_letter=letter), at, until="done")
    answer = await ask(sim, OFFICER, f"/riwayat {nik(0)}")
    assert len(answer) > 1
    text = whole(answer, f"Riwayat kunjungan: {mask_nik(nik(0))}")
    assert all(f"090/{month + 100}/ST/TLK/2026" in text for month in range(20))
    assert nik(0) not in text


async def test_daftar_blokir_of_a_few_years(
    sim: BotApiSimulator, app: object, services: Any, clock: FakeClock
) -> None:
    reason = (
        "Kedapatan memotret rak server tanpa izin pada kunjungan KRS-2026-00042, menolak "
        "menghapus foto saat diminta pendamping, dan mencoba membuka kabinet core switch; "
        "dilaporkan ke Kepala Dinas, lihat Berita Acara No. 090/45/BA/2026."
    )
    for i in range(20):
        await services.storage.watchlist.block(nik(100 + i), f"{i}. {reason}", APPROVER, clock())
    answer = await ask(sim, APPROVER, "/daftar_blokir")
    assert len(answer) > 1
    text = whole(answer, "Daftar blokir")
    assert all(f"{i}. Kedapatan" in text for i in range(20))


async def test_the_review_of_the_audit_day_reaches_the_section_heads_whole(
    sim: BotApiSimulator, app: Any, services: Any, clock: FakeClock
) -> None:
    """Fifty visits yesterday, the section heads slow on half: the review and its audit
    anchor arrive in pages, the anchor at the end; nothing in the outbox failed."""
    refs = []
    for i in range(50):
        at = clock() + timedelta(minutes=i)
        visit = await services.storage.visits.submit(draft(i, at), OFFICER, at)
        decided = at + timedelta(minutes=40 if i % 2 else 3)
        change = lifecycle.approve(visit, APPROVER, decided, decided + timedelta(hours=8))
        visit = await services.storage.visits.apply(change)
        visit = await services.storage.visits.apply(
            lifecycle.enter(visit, ESCORT, decided + timedelta(minutes=5))
        )
        done = decided + timedelta(minutes=65)
        await services.storage.visits.apply(
            lifecycle.exit_(visit, ESCORT, done, EquipmentCheck.MATCHES)
        )
        refs.append(visit.reference)
    clock.now = datetime(2026, 11, 29, 0, 30, tzinfo=UTC)  # 07:30 WIB the next day
    (job,) = [j for j in app.job_queue.jobs() if j.name == "review_job"]
    await job.run(app)
    await services.delivery.wait_idle()
    await sim.settle()
    assert (await services.storage.outbox.counts()).get("failed", 0) == 0
    (event,) = [e for e in await services.storage.audit.events() if e.action == "audit_anchor"]
    anchor = event.detail.removeprefix("head ")
    for head in (APPROVER, APPROVER2):
        pages = [m for m in sim.user(head).bot_messages if "Tinjauan harian" in m.text]
        first = sim.user(head).bot_messages.index(pages[0])
        answer = sim.user(head).bot_messages[first:]
        assert len(answer) > 1
        text = whole(answer, "Tinjauan harian pencatatan akses")
        assert all(ref in text for ref in refs)
        assert "Pelanggaran standar waktu: 25" in text
        # The chain's head, as the anchor event recorded it, ends the last page.
        assert "Sidik jari log audit" in answer[-1].text and anchor in answer[-1].text
