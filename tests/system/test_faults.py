"""A flaky Telegram: 20% of Bot API calls fail with 429, 5xx, timeouts or dropped
connections, and every visit still ends right, with every card and badge delivered."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from bot.app.build import build_application, start_polling, stop_polling
from bot.app.config import Config
from bot.app.services import Services
from bot.core.qr import decode_qr
from bot.core.roles import Role, StaffMember
from bot.core.visits import VisitStatus
from bot.texts import form as form_texts
from simulator import BotApiSimulator, Faults, SimMessage
from tests.conftest import AUDIT_KEY, KEY, SECRET, TOKEN, FakeClock
from tests.flows import Visitor, register
from tests.strategies import build_nik

OFFICERS = list(range(1101, 1111))
APPROVERS = [2101, 2102]
ESCORTS = [3101, 3102, 3103, 3104, 3105]
VISITS_PER_OFFICER = 5


@pytest.fixture
async def flaky(tmp_path: Path, clock: FakeClock) -> AsyncIterator[tuple[BotApiSimulator, object]]:
    sim = BotApiSimulator(token=TOKEN, bot_username="AksesServerBot")
    await sim.start()
    staff = [StaffMember(i, f"Petugas {i}", frozenset({Role.OFFICER})) for i in OFFICERS]
    staff += [StaffMember(i, f"Kasi {i}", frozenset({Role.APPROVER})) for i in APPROVERS]
    staff += [StaffMember(i, f"Pendamping {i}", frozenset({Role.ESCORT})) for i in ESCORTS]
    for member in staff:
        sim.add_user(member.user_id, member.name)
    config = Config(
        token=TOKEN,
        signing_secret=SECRET,
        encryption_key=KEY,
        audit_key=AUDIT_KEY,
        data_dir=tmp_path,
        staff=tuple(staff),
        base_url=sim.base_url,
        base_file_url=sim.base_file_url,
    )
    app = build_application(
        config,
        clock=clock,
        rate_limit=False,
        retry_base=0.05,
        request_timeout=1.0,  # a loaded CI machine answers loopback slowly too
        # A call fails 20 % of the time here; it is given up after 1 + retries attempts.
        # With 6 retries, 0.2**7 per call over ~2,000 calls gave up about once in 25 runs,
        # and the officer rightly saw "terjadi kesalahan" (CI, 2026-12-02). 10 retries make
        # that 0.2**11: once in ~25,000 runs. Telegram's real failure rate is far below 20 %.
        request_retries=10,
    )
    await start_polling(app, poll_timeout=1)
    # Polling's own recovery is shown in the simulator's tests; here every other call fails.
    sim.faults = Faults(
        rate=0.2, retry_after=1, timeout_delay=1.5, exclude={"getUpdates"}, seed=20261128
    )
    yield sim, app
    sim.faults = Faults()
    await stop_polling(app)
    await sim.stop()


async def one_visit(
    sim: BotApiSimulator, officer: int, n: int, escort: int, *, leave: bool = True
) -> str:
    """Register, approve (by whichever approver), enter and exit (unless not ``leave``);
    returns the visitor's name."""
    nik = build_nik("350801", _birth(officer, n), "P" if n % 2 else "L", f"{n + 1:04d}")
    name = f"Tamu {officer}-{n}"
    await register(sim, Visitor(nik=nik, name=name), officer_id=officer, timeout=60)
    approver = sim.user(APPROVERS[n % 2])
    # Approvers serve every officer at once: look at their whole chat, not since their last tap.
    card = await approver.wait_for(
        predicate=lambda m: name in m.text_or_caption and bool(m.buttons), since=0, timeout=60
    )
    await approver.tap("Setujui", card)
    badge = await sim.user(officer).wait_for(
        predicate=lambda m: m.photo_bytes is not None and name in m.text_or_caption, timeout=60
    )
    (link,) = decode_qr(badge.photo_bytes)
    person = sim.user(escort)
    steps = [("Catat MASUK", "MASUK tercatat"), ("Perangkat sesuai", "KELUAR tercatat")]
    for label, done in steps if leave else steps[:1]:
        await person.open_link(link)
        # The scan's view (escorts also hold a "visitor waiting" notice with a button), with
        # this step's button: a view sent twice (a timed-out sendMessage that arrived after
        # all, then its retry) may show up late, still offering the step before.
        view = await person.wait_for(
            "Badge pengunjung",
            predicate=lambda m, label=label: (
                name in m.text_or_caption and any(label in b for row in m.buttons for b in row)
            ),
            timeout=60,
        )
        await person.tap(label, view)
        await person.wait_for(predicate=_says(done, name), timeout=60)
    return name


def _says(*parts: str) -> Callable[[SimMessage], bool]:
    return lambda m: all(part in m.text_or_caption for part in parts)


def _birth(officer: int, n: int) -> object:
    from datetime import date

    return date(1960 + n, 1 + officer % 12, 1 + n)


async def test_fifty_visits_through_twenty_percent_faults(
    flaky: tuple[BotApiSimulator, object],
) -> None:
    sim, app = flaky
    services: Services = app.bot_data  # type: ignore[attr-defined]
    escort_locks = {e: asyncio.Lock() for e in ESCORTS}

    async def officer_day(index: int, officer: int) -> list[str]:
        names = []
        for n in range(VISITS_PER_OFFICER):
            escort = ESCORTS[index % len(ESCORTS)]
            async with escort_locks[escort]:  # one escort handles one door scan at a time
                names.append(await one_visit(sim, officer, n, escort))
        return names

    done = await asyncio.gather(*(officer_day(i, o) for i, o in enumerate(OFFICERS)))
    await services.delivery.wait_idle(timeout=60)
    injected = sim.faults.counts.copy()
    sim.faults = Faults()

    visits = await services.storage.visits.with_status(VisitStatus.DONE)
    assert len(visits) == len(OFFICERS) * VISITS_PER_OFFICER == sum(map(len, done))
    for visit in visits:
        actions = Counter(e.action for e in await services.storage.audit.events(visit.id))
        assert actions["approve"] == 1 and actions["enter"] == 1 and actions["exit"] == 1
    outbox = await _outbox_counts(services)
    assert outbox.get("failed", 0) == 0 and outbox.get("pending", 0) == 0

    # Every approver's card of every visit shows the decision, every officer has the badges.
    for approver in APPROVERS:
        messages = sim.user(approver).bot_messages
        cards = [m for m in messages if "Permintaan akses" in (m.caption or "")]
        decided = {_ref(m) for m in cards if "DISETUJUI" in (m.caption or "")}
        assert decided == {v.reference for v in visits}
    for officer in OFFICERS:
        pdfs = {m.document_name for m in sim.user(officer).bot_messages if m.document_name}
        assert len(pdfs) == VISITS_PER_OFFICER

    # A timed-out call that reached Telegram may show once more; nothing else repeats.
    duplicates = sum(_duplicates(sim.user(p).bot_messages) for p in OFFICERS + APPROVERS)
    print(f"faults injected: {dict(injected)}; visible duplicate messages: {duplicates}")
    assert sum(injected.values()) > 100
    assert duplicates <= injected["timeout"]


async def test_roll_call_reaches_every_staff_member_through_faults(
    flaky: tuple[BotApiSimulator, object],
) -> None:
    """/darurat while Telegram is slow and failing: every staff member's copy ends up showing
    that everyone is safe, with no live button left on it."""
    sim, app = flaky
    services: Services = app.bot_data  # type: ignore[attr-defined]
    sim.faults = Faults()  # three visitors go in on a good day ...
    names = [await one_visit(sim, OFFICERS[0], n, ESCORTS[n % 2], leave=False) for n in range(3)]
    # ... and the emergency comes on a bad one: slow, and 30 % of calls failing.
    sim.faults = Faults(
        rate=0.3, latency=0.05, timeout_delay=1.5, exclude={"getUpdates"}, seed=20261202
    )
    await sim.user(APPROVERS[0]).send_text("/darurat")
    for n, name in enumerate(names):
        escort = sim.user(ESCORTS[n % 2])
        copy = await escort.wait_for(
            predicate=lambda m, name=name: (
                "APEL DARURAT" in m.text_or_caption
                and any(name in label for row in m.buttons for label in row)
            ),
            since=0,
            timeout=60,
        )
        await escort.tap(f"Aman: {name}", copy)
    await services.delivery.wait_idle(timeout=120)
    injected = sim.faults.counts.copy()
    sim.faults = Faults()
    print(f"faults injected during the roll call: {dict(injected)}")
    assert sum(injected.values()) >= 10
    staff = OFFICERS + APPROVERS + ESCORTS
    for person in staff:
        copies = [m for m in sim.user(person).bot_messages if "APEL DARURAT" in m.text_or_caption]
        # A send that timed out after Telegram had it may show twice; the bot edits the copy
        # it was told about, the last one.
        assert 1 <= len(copies) <= 1 + injected["timeout"], person
        final = copies[-1]
        assert "Semua pengunjung aman" in final.text_or_caption, (person, final)
        assert final.buttons == [], person
    assert (await services.storage.rollcalls.current()) is None
    outbox = await _outbox_counts(services)
    assert outbox.get("failed", 0) == 0 and outbox.get("pending", 0) == 0


def _ref(message: object) -> str:
    caption = message.caption or ""  # type: ignore[attr-defined]
    return caption.split("Ref: ", 1)[1].split("\n", 1)[0]


def _duplicates(messages: list) -> int:  # type: ignore[type-arg]
    seen = Counter((m.text_or_caption, m.document_name) for m in messages)
    # The form's questions repeat each visit, also once answered ("Keperluan: ...").
    answered = tuple(f"{words.label}: " for words in form_texts.FIELDS.values())
    prompts = ("Langkah", "Periksa data", "Pendaftaran pengunjung", *answered)
    return sum(n - 1 for (text, _), n in seen.items() if not text.startswith(prompts))


async def _outbox_counts(services: Services) -> dict[str, int]:
    return await services.storage.outbox.counts()
