"""The load driver: N officers, section heads and escorts running complete visits.

The simulator and the people run in this process; the bot under test runs in its own
(bench/botproc.py) against the simulator over HTTP, with its SQLite file in a temporary
folder, so its CPU time and peak RSS are measured alone and the two processes get a core
each. Latency is injected on every Bot API call, getUpdates included.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import os
import secrets
import signal
import sys
import tempfile
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

from bench import procstat
from bench.inbox import Inbox
from bench.visits import (
    UPDATES_PER_VISIT,
    Harness,
    baseline_visit,
    go_on_duty,
    prime_baseline,
    real_visit,
    visitor,
)
from simulator import BotApiSimulator
from simulator.timing import UpdateTimer, UpdateTiming

TOKEN = "700000002:BENCH-simulated-token-not-valid-on-telegram"
BOT_USERNAME = "AksesBenchBot"
OFFICER, APPROVER, ESCORT = 100_000, 200_000, 300_000
ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class LoadSpec:
    kind: str = "bot"  # bot | sequential | baseline | baseline-aiohttp (bench/botproc.py)
    officers: int = 50  # and as many escorts, one per officer
    approvers: int = 2
    visits: int = 2  # per officer
    latency_ms: float = 0.0
    window: float | None = None  # measure this many seconds of load, then stop
    seed_visits: int = 0  # finished visits in the database before the bot starts
    oversight: bool = False  # then every officer asks /aktif and /menunggu
    # Escorts who go on duty (/piket) before the visits: the approvals tell only them. 0:
    # nobody on duty, so every escort is told (the bot's behaviour for an office without
    # /piket). The real bot only; the baselines have no duty roster.
    on_duty: int = 0
    warmup: bool = True


@dataclass
class LoadResult:
    spec: LoadSpec
    visits: int
    updates: int  # answered inside the measured time
    elapsed: float
    samples: list[UpdateTiming] = field(repr=False)
    bot_cpu: float
    harness_cpu: float
    peak_rss: int
    unanswered: int
    calls: int  # Bot API calls other than getUpdates
    polls: int  # getUpdates calls
    # The KTP reader's own process (bot/ocr/process.py), a child of the bot: its peak RSS,
    # apart from the bot's (None: no photo started one).
    reader_peak_rss: int | None = None
    # Visits whose escort (each officer's own, in the harness) was among those told.
    taken_in_by_told: int = 0

    @property
    def escorts_told(self) -> int:
        """How many escorts each approval tells: those on duty, or all when none is."""
        return (
            self.spec.on_duty
            if self.spec.on_duty and _has_roster(self.spec)
            else self.spec.officers
        )

    @property
    def other_escorts_calls(self) -> int:
        """The calls beyond the goal's visit (one escort, told and taking the visitor in):
        the "visitor waiting" notice of each other escort told, and each told escort's
        notice edited to "taken in by ..." when someone else takes the visitor in
        (bot/flows/workflow.py waiting_taken). With --on-duty the harness's escort of a
        visit may be off duty, so the edits are counted by who took each visitor in."""
        notices = (self.escorts_told - 1) * self.visits
        edits = self.escorts_told * self.visits - self.taken_in_by_told
        return notices + edits

    @property
    def calls_per_update(self) -> float:
        return self.calls / self.updates if self.updates else float("nan")

    @property
    def visits_per_s(self) -> float:
        return self.visits / self.elapsed

    @property
    def updates_per_s(self) -> float:
        return self.updates / self.elapsed

    @property
    def cpu_per_visit(self) -> float:
        return self.bot_cpu / self.visits if self.visits else float("nan")

    @property
    def cpu_per_update(self) -> float:
        return self.bot_cpu / self.updates if self.updates else float("nan")

    def percentile(self, q: float, role: str | None = None) -> float:
        """Nearest-rank percentile of per-update latency in seconds, for one role or all."""
        ordered = sorted(s.latency for s in self.samples if role in (None, role_of(s.chat_id)))
        if not ordered:
            return float("nan")
        return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


def _has_roster(spec: LoadSpec) -> bool:
    return not spec.kind.startswith("baseline")


def role_of(user_id: int) -> str:
    return "escort" if user_id > ESCORT else "approver" if user_id > APPROVER else "officer"


class BotProcess:
    """The bot under test as a subprocess, with its log kept for errors."""

    def __init__(self, kind: str, config: Path, log: Path) -> None:
        self.kind, self.config, self.log = kind, config, log
        self.proc: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        env = dict(os.environ, NO_PROXY="127.0.0.1,localhost", no_proxy="127.0.0.1,localhost")
        with self.log.open("wb") as log:
            self.proc = await asyncio.create_subprocess_exec(
                *(sys.executable, "-m", "bench.botproc", self.kind, "--config", str(self.config)),
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=asyncio.subprocess.STDOUT,
            )

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def check_alive(self) -> None:
        assert self.proc is not None
        if self.proc.returncode is not None:
            raise RuntimeError(f"the {self.kind} bot exited:\n{self.tail()}")

    def tail(self, lines: int = 30) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    async def profile(self, output: Path) -> asyncio.subprocess.Process:
        """Sample the bot with py-spy (a development tool, not needed to run the bench)."""
        return await asyncio.create_subprocess_exec(
            *(_py_spy(), "record", "--pid", str(self.pid), "--format", "raw", "--nonblocking"),
            *("--rate", "250", "--output", str(output)),
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )

    async def stop(self, *, kill: bool = False) -> None:
        if self.proc is None or self.proc.returncode is not None:
            return
        self.proc.send_signal(signal.SIGKILL if kill else signal.SIGTERM)
        try:
            await asyncio.wait_for(self.proc.wait(), 20)
        except TimeoutError:
            self.proc.kill()
            await self.proc.wait()


def _py_spy() -> str:
    beside = Path(sys.executable).with_name("py-spy")
    return str(beside) if beside.exists() else "py-spy"


def config_text(base_url: str, base_file_url: str, staff: list[tuple[int, str, str]]) -> str:
    """A config.toml for the bot under test; `staff` holds (id, name, role)."""
    lines = [
        "[telegram]",
        f'token = "{TOKEN}"',
        f'base_url = "{base_url}"',
        f'base_file_url = "{base_file_url}"',
        "[storage]",
        'data_dir = "data"',
        "[security]",
        f'signing_secret = "{secrets.token_urlsafe(32)}"',
        # A Fernet key: 32 random bytes, url-safe base64.
        f'encryption_key = "{base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()}"',
        f'audit_key = "{secrets.token_urlsafe(32)}"',
    ]
    for user_id, name, role in staff:
        lines += ["[[staff]]", f"id = {user_id}", f'name = "{name}"', f'roles = ["{role}"]']
    return "\n".join(lines) + "\n"


def staff(officers: int, approvers: int) -> list[tuple[int, str, str]]:
    """(id, name, role) of every person: officers, section heads, one escort per officer."""
    people = []
    for first, label, role, count in (
        (OFFICER, "Petugas", "officer", officers),
        (APPROVER, "Kasi", "approver", approvers),
        (ESCORT, "Pendamping", "escort", officers),
    ):
        people += [(first + i, f"{label}{i}", role) for i in range(1, count + 1)]
    return people


async def _ready(sim: BotApiSimulator, bot: BotProcess) -> None:
    """The bot is ready once it polls (post_init, with its database, has run)."""
    deadline = time.monotonic() + 60
    while not sim.call_counts["getUpdates"]:
        bot.check_alive()
        if time.monotonic() > deadline:
            raise TimeoutError(f"the {bot.kind} bot did not start polling:\n{bot.tail()}")
        await asyncio.sleep(0.05)


async def run_load(spec: LoadSpec, *, profile: Path | None = None) -> LoadResult:
    """One measured run; raises with the bot's log if a visit does not complete.

    With `profile`, the measured part of the run is sampled with py-spy into that file.
    """
    with tempfile.TemporaryDirectory(prefix="akses-bench-") as tmp:
        sim = BotApiSimulator(token=TOKEN, bot_username=BOT_USERNAME)
        await sim.start()
        bot = BotProcess(spec.kind, Path(tmp) / "config.toml", Path(tmp) / "bot.log")
        killed = False
        try:
            people = staff(spec.officers, spec.approvers)
            for user_id, name, _ in people:
                sim.add_user(user_id, name)
            text = config_text(sim.base_url, sim.base_file_url, people)
            bot.config.write_text(text, encoding="utf-8")
            if spec.seed_visits:
                from bench.storage_bench import seed

                await seed(bot.config, spec.seed_visits)
            await bot.start()
            await _ready(sim, bot)
            watch = asyncio.create_task(_watch_reader(bot.pid, peaks := {}))
            try:
                async with Inbox(sim) as inbox:
                    result = await _measure(sim, bot, inbox, spec, profile)
            finally:
                watch.cancel()
            if peaks:
                result = replace(result, reader_peak_rss=max(peaks.values()))
            killed = spec.window is not None
            return result
        except BaseException as exc:
            killed = True
            exc.add_note(f"the {spec.kind} bot's log ends:\n{bot.tail()}")
            raise
        finally:
            sim.faults.latency = 0
            await bot.stop(kill=killed)
            await sim.stop()


READER_NAME = "ktp-reader"  # its /proc/PID/comm (bot/ocr/worker.py)


async def _watch_reader(bot_pid: int, peaks: dict[int, int]) -> None:
    """Every reader process the bot starts, sampled until it ends: pid -> its VmHWM."""
    while True:
        _sample_readers(bot_pid, peaks)
        await asyncio.sleep(0.2)


def _sample_readers(bot_pid: int, peaks: dict[int, int]) -> None:
    for child in _children(bot_pid):
        try:
            if Path(f"/proc/{child}/comm").read_text().strip() == READER_NAME:
                peaks[child] = max(peaks.get(child, 0), procstat.usage(child).peak_rss)
        except (FileNotFoundError, ProcessLookupError, ValueError):
            pass  # ended meanwhile


def _children(pid: int) -> list[int]:
    children = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat[stat.rindex(")") + 2 :].split()[1]) == pid:  # field 4: ppid
                children.append(int(entry.name))
    return children


async def _measure(
    sim: BotApiSimulator, bot: BotProcess, inbox: Inbox, spec: LoadSpec, profile: Path | None
) -> LoadResult:
    harness = Harness(inbox)
    people = {uid: sim.user(uid) for uid in sim.users}
    officers = [people[OFFICER + i] for i in range(1, spec.officers + 1)]
    escorts = [people[ESCORT + i] for i in range(1, spec.officers + 1)]
    approvers = [people[APPROVER + i] for i in range(1, spec.approvers + 1)]
    script = baseline_visit if spec.kind.startswith("baseline") else real_visit
    if spec.kind.startswith("baseline"):
        await prime_baseline(harness, approvers)
    if _has_roster(spec):  # before the visits and the warm-up: not measured
        for escort in escorts[: spec.on_duty]:
            await go_on_duty(harness, escort)
    numbers = itertools.count(1)
    if spec.warmup:  # fonts, caches, connections; at 0 ms, not measured
        await asyncio.gather(
            *(
                script(harness, officers[i], approvers[0], escorts[i], visitor(next(numbers)))
                for i in range(min(2, spec.officers))
            )
        )

    # What the duty roster and the warm-up caused is over before the count starts: the
    # escorts' notices go last, and a tap's answer goes out beside its edit (answer_tap), so
    # the last of either may still be on its way when the harness saw what it waited for.
    await sim.settle(quiet=0.2, timeout=60)
    sim.faults.latency = spec.latency_ms / 1000
    timer = sim.update_timer = UpdateTimer()
    harness.sent = 0
    done: list[float] = []
    by_told: list[float] = []  # visits taken in by an escort the approval told
    roster = spec.on_duty and _has_roster(spec)

    async def officer_day(i: int) -> None:
        officer = officers[i]
        for _ in range(spec.visits):
            n = next(numbers)
            approver = approvers[n % len(approvers)]
            await script(harness, officer, approver, escorts[i], visitor(n))
            done.append(time.perf_counter())
            if not roster or i < spec.on_duty:
                by_told.append(done[-1])
        if spec.oversight:
            for command in ("/aktif", "/menunggu"):
                await harness.step(officer, officer.send_text(command))

    profiler = await bot.profile(profile) if profile else None
    calls_before = sim.call_counts.copy()
    before, harness_before = procstat.usage(bot.pid), procstat.own_cpu()
    start = time.perf_counter()
    tasks = [asyncio.create_task(officer_day(i)) for i in range(spec.officers)]
    try:
        if spec.window is None:
            await asyncio.gather(*tasks)
            if spec.oversight:
                # A person's next step waits for the bot's message, not for every answer to
                # reach the wire: a tap's answerCallbackQuery may still be on its way. The
                # last answers are counted when they come (a bound keeps a lost one visible).
                for _ in range(500):  # up to 5 s
                    if not timer.unanswered:
                        break
                    await asyncio.sleep(0.01)
            end = time.perf_counter() if spec.oversight else max(done)
            # The work the visits caused is counted whole: messages still queued when the
            # last person finished (the escorts' notices go last) are sent first.
            await sim.settle(quiet=0.5, timeout=120)
        else:
            await asyncio.wait(tasks, timeout=spec.window)
            end = time.perf_counter()
            for task in tasks:
                if task.done() and task.exception() is not None:
                    raise task.exception()  # type: ignore[misc]
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    after, harness_after = procstat.usage(bot.pid), procstat.own_cpu()
    calls = sim.call_counts - calls_before
    bot.check_alive()
    if profiler is not None:
        profiler.send_signal(signal.SIGINT)  # py-spy writes its file on SIGINT
        await profiler.wait()
    sim.update_timer = None
    answered = [s for s in timer.samples if s.answered <= end]
    visits = sum(1 for t in done if t <= end)
    extra = 2 * spec.officers if spec.oversight else 0
    if spec.window is None and visits * UPDATES_PER_VISIT + extra != harness.sent:
        raise AssertionError(f"{harness.sent} updates sent for {visits} visits")
    return LoadResult(
        spec=spec,
        visits=visits,
        taken_in_by_told=sum(1 for t in by_told if t <= end),
        updates=len(answered),
        elapsed=end - start,
        samples=answered,
        bot_cpu=after.cpu - before.cpu,
        harness_cpu=harness_after - harness_before,
        peak_rss=after.peak_rss,
        unanswered=timer.unanswered,
        calls=sum(calls.values()) - calls["getUpdates"],
        polls=calls["getUpdates"],
    )
