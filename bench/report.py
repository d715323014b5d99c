"""docs/benchmarks.md from one run's results: the machine, the figures, the targets."""

from __future__ import annotations

import importlib.metadata
import math
import os
import platform
import sqlite3
import subprocess
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from bench.load import ROOT, LoadResult
from bench.micro import Timing, seconds_text

PACKAGES = (
    "python-telegram-bot",
    "httpx",
    "httpcore",
    "aiohttp",
    "aiosqlite",
    "pillow",
    "qrcode",
    "zxing-cpp",
)
# Hand-written parts, kept beside the code and copied in: the method, and what the figures
# showed (profiles, fixes with before and after).
METHOD = Path(__file__).with_name("method.md")
FINDINGS = Path(__file__).with_name("findings.md")
KTP = Path(__file__).with_name("ktp.md")  # written by `python -m bench.ktp_ocr` (its own run)


@dataclass
class Results:
    command: str
    quick: bool
    started: datetime = field(default_factory=lambda: datetime.now(UTC))
    load_average: tuple[float, float, float] = field(default_factory=os.getloadavg)
    machine: list[str] = field(default_factory=lambda: machine())  # as the run found it
    load: list[LoadResult] = field(default_factory=list)
    transport: list[LoadResult] = field(default_factory=list)  # old runs' experiment
    profiles: list[tuple[str, list[tuple[str, float]]]] = field(default_factory=list)
    micro: list[Timing] = field(default_factory=list)
    database: list[tuple[str, str]] = field(default_factory=list)  # (what, figure)
    rss_100k: LoadResult | None = None
    seeded: int = 0
    export: Timing | None = None
    export_pdf: Timing | None = None
    export_note: str = ""
    duration: float = 0.0

    def run(self, kind: str, latency_ms: float) -> LoadResult | None:
        return _find(self.load, kind, latency_ms)


def _find(results: list[LoadResult], kind: str, latency_ms: float) -> LoadResult | None:
    return next(
        (r for r in results if r.spec.kind == kind and r.spec.latency_ms == latency_ms), None
    )


def machine() -> list[str]:
    cpu = _cpuinfo_model() or platform.processor() or "unknown CPU"
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    versions = ", ".join(f"{name} {_version(name)}" for name in PACKAGES)
    return [
        f"- CPU: {cpu}, {cores} cores available to the run; RAM {_mem_total()}",
        f"- OS: {platform.platform()}",
        f"- Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}",
        f"- Packages: {versions}",
        f"- Code: {_git_describe()}",
    ]


def _cpuinfo_model() -> str | None:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return None


def _mem_total() -> str:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 2**20:.1f} GiB"
    except OSError:
        pass
    return "unknown"


def _version(name: str) -> str:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def _git_describe() -> str:
    def git(*args: str) -> str:
        done = subprocess.run(
            ["git", *args], cwd=ROOT, capture_output=True, text=True, check=False
        )
        return done.stdout.strip()

    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    # New files count too: an uncommitted module can be what the bench imports.
    dirty = git("status", "--porcelain", "--", "bot", "handlers", "storage", "simulator", "bench")
    return f"commit {commit}" + (" with uncommitted changes" if dirty else "")


def _ms(seconds: float, digits: int = 0) -> str:
    return "-" if math.isnan(seconds) else f"{seconds * 1000:.{digits}f}"


def _mb(size: int) -> str:
    return f"{size / 2**20:.0f} MB"


def _ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}" if b else "-"


def _mark(met: bool | None) -> str:
    return {True: "✅ met", False: "❌ missed", None: "-"}[met]


LOAD_HEADER = [
    "| Latency | Bot | Visits | Time | Visits/s | Updates/s | p50 ms | p95 ms | p99 ms "
    "| CPU/visit | CPU/update | Calls/update | Peak RSS | Harness CPU |",
    "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
]


def load_rows(results: list[LoadResult]) -> list[str]:
    rows = list(LOAD_HEADER)
    for r in results:
        window = " (window)" if r.spec.window else ""
        rows.append(
            f"| {r.spec.latency_ms:.0f} ms | {r.spec.kind} | {r.visits} "
            f"| {r.elapsed:.1f} s{window} "
            f"| {r.visits_per_s:.2f} | {r.updates_per_s:.0f} | {_ms(r.percentile(50))} "
            f"| {_ms(r.percentile(95))} | {_ms(r.percentile(99))} "
            f"| {_ms(r.cpu_per_visit)} ms | {_ms(r.cpu_per_update, 1)} ms "
            f"| {r.calls_per_update:.2f} | {_mb(r.peak_rss)} "
            f"| {r.harness_cpu / r.elapsed:.0%} |"
        )
    return rows


def role_rows(results: list[LoadResult]) -> list[str]:
    rows = [
        "| Latency | Bot | officer p50 / p95 ms | section head p50 / p95 ms "
        "| escort p50 / p95 ms |",
        "|---:|---|---:|---:|---:|",
    ]
    for r in results:
        cells = [
            f"{_ms(r.percentile(50, role))} / {_ms(r.percentile(95, role))}"
            for role in ("officer", "approver", "escort")
        ]
        rows.append(f"| {r.spec.latency_ms:.0f} ms | {r.spec.kind} | " + " | ".join(cells) + " |")
    return rows


def ratio_rows(results: list[LoadResult]) -> list[str]:
    rows = [
        "| Latency | Updates/s bot / baseline | CPU per update bot / baseline "
        "| CPU per update bot / baseline on aiohttp | Updates/s sequential / bot |",
        "|---:|---:|---:|---:|---:|",
    ]
    for latency in sorted({r.spec.latency_ms for r in results}):
        bot, base = _find(results, "bot", latency), _find(results, "baseline", latency)
        same = _find(results, "baseline-aiohttp", latency)
        seq = _find(results, "sequential", latency)
        if bot is None or base is None:
            continue
        rows.append(
            f"| {latency:.0f} ms | {_ratio(bot.updates_per_s, base.updates_per_s)} "
            f"| {_ratio(bot.cpu_per_update, base.cpu_per_update)} "
            f"| {_ratio(bot.cpu_per_update, same.cpu_per_update) if same else '-'} "
            f"| {_ratio(seq.updates_per_s, bot.updates_per_s) if seq else '-'} |"
        )
    return rows


def target_rows(res: Results) -> list[str]:
    """Issue 13's targets; "baseline" is a bare PTB bot on PTB's default client."""
    rows = ["| Target | Measured | |", "|---|---|---|"]
    bot100, base100 = res.run("bot", 100), res.run("baseline", 100)
    if bot100 and base100:
        share = bot100.updates_per_s / base100.updates_per_s
        rows.append(
            f"| 100 ms, {bot100.spec.officers} officers: updates/s bot / baseline >= 1.0 "
            f"| {share:.2f} ({bot100.updates_per_s:.0f} vs {base100.updates_per_s:.0f}) "
            f"| {_mark(share >= 1.0)} |"
        )
        p95 = bot100.percentile(95)
        rows.append(
            f"| 100 ms: p95 per-update latency <= 250 ms | {_ms(p95)} ms | {_mark(p95 <= 0.250)} |"
        )
        heads = bot100.percentile(95, "approver")
        rows.append(
            f"| 100 ms: section heads' p95 <= 400 ms | {_ms(heads)} ms | {_mark(heads <= 0.400)} |"
        )
    bot0, base0 = res.run("bot", 0), res.run("baseline", 0)
    if bot0:
        cpu = bot0.cpu_per_update
        rows.append(
            f"| 0 ms: CPU per update <= 5 ms | {cpu * 1000:.1f} ms | {_mark(cpu <= 0.005)} |"
        )
        rows.append(
            f"| 0 ms: >= 150 updates/s | {bot0.updates_per_s:.0f}"
            + (f" (baseline {base0.updates_per_s:.0f})" if base0 else "")
            + f" | {_mark(bot0.updates_per_s >= 150)} |"
        )
        same0 = res.run("baseline-aiohttp", 0)
        if same0:
            ratio = cpu / same0.cpu_per_update
            rows.append(
                f"| 0 ms: CPU per update <= 3 x a bare bot on the same client | {ratio:.2f} x "
                f"({cpu * 1000:.1f} vs {same0.cpu_per_update * 1000:.1f} ms) "
                f"| {_mark(ratio <= 3)} |"
            )
    bots = [r for r in res.load if r.spec.kind == "bot" and r.visits]
    if bots:
        per_visit = max(r.calls / r.visits for r in bots)
        per_update = max(r.calls_per_update for r in bots)
        # The goal's visit has one escort; the harness gives every officer one, and each
        # approval tells the escorts on duty, or every escort when none is (--on-duty;
        # bot/flows/workflow.py): a sendMessage each, and its edit once one of them takes
        # the visitor in. Without the other escorts' calls, as tests/e2e/test_e2e_calls.py
        # counts a visit:
        own = [(r.calls - r.other_escorts_calls, r) for r in bots]
        own_visit = max(calls / r.visits for calls, r in own)
        own_update = max(calls / r.updates for calls, r in own)
        told = sorted({r.escorts_told for r in bots})
        whom = " or ".join(str(n) for n in told)
        rows.append(
            f"| Bot API calls per visit <= 24, per update <= 1.6 | {own_visit:.1f} / "
            f"{own_update:.2f} as the goal's visit (one escort told of the approval); "
            f"{per_visit:.1f} / {per_update:.2f} with the harness's {whom} escorts told of "
            f"each approval (the highest of the bot's runs) "
            f"| {_mark(own_visit <= 24 and own_update <= 1.6)} |"
        )
    for timing in res.micro:
        if timing.target is not None:
            rows.append(
                f"| {timing.name} <= {seconds_text(timing.target)} "
                f"| {seconds_text(timing.median)} median | {_mark(timing.met)} |"
            )
    for timing in (res.export, getattr(res, "export_pdf", None)):
        if timing is not None and timing.target is not None:
            rows.append(
                f"| {timing.name.split(' (')[0]} <= {seconds_text(timing.target)} "
                f"| {seconds_text(timing.median)} median of {len(timing.samples)} "
                f"| {_mark(timing.median <= timing.target)} |"
            )
    if res.export is None:
        rows.append(f"| Export of 10,000 visits to XLSX | {res.export_note} | pending |")
    if res.rss_100k is not None:
        rss = res.rss_100k.peak_rss
        rows.append(
            f"| Peak RSS <= 150 MB with {res.seeded:,} visits in the database | {_mb(rss)} "
            f"| {_mark(rss <= 150 * 2**20)} |"
        )
        rows.append(
            "| KTP reader process, beside the bot (not in the row above) "
            f"| {_reader_figure(res.rss_100k)} | no target |"
        )
    return rows


def _reader_figure(r: LoadResult) -> str:
    """The KTP reader's own process (bot/ocr/process.py), which the bot's RSS leaves out."""
    from bot.flows.ktp_read import IDLE_STOP

    peak = getattr(r, "reader_peak_rss", None)  # results kept before it was measured
    if peak is None:
        return "not measured in this run"
    idle = f"{IDLE_STOP / 60:.0f} min"
    return f"{_mb(peak)} peak while reading; it stops after {idle} without a photo"


def _harness_line(load: list[LoadResult]) -> list[str]:
    """Who the harness's people are, and how many escorts the approvals tell."""
    bots = [r for r in load if r.spec.kind in ("bot", "sequential")]
    if not bots:
        return []
    spec = bots[0].spec
    duty = {getattr(r.spec, "on_duty", 0) for r in bots}  # results kept before --on-duty
    told = (
        "nobody is on duty (`--on-duty 0`), so every approval tells every escort"
        if duty == {0}
        else f"{', '.join(str(n) for n in sorted(duty))} of the escorts on duty "
        "(`--on-duty`), and the approvals tell only those"
    )
    return [
        f"{spec.officers} officers, each with an escort of their own, and {spec.approvers} "
        f"section heads; {told}.",
        "",
    ]


def render(res: Results) -> str:
    quick = " (a `--quick` run: small and noisy, not the reference figures)" if res.quick else ""
    out = [
        "# Benchmarks",
        "",
        f"Figures from one run of `{res.command}`{quick}, started "
        f"{res.started:%Y-%m-%d %H:%M} UTC, {res.duration / 60:.1f} minutes in all. "
        "Regenerate this file with the same command "
        "(see [How it is measured](#how-it-is-measured)).",
        "",
        "## Machine",
        "",
        *res.machine,
        f"- Load average when the run started: {' / '.join(f'{x:.2f}' for x in res.load_average)}"
        " (1 / 5 / 15 min). The machine is shared with other work, so absolute rates move "
        "between runs; compare the ratios, which come from runs made back to back.",
        "",
        "## Targets",
        "",
        *target_rows(res),
        "",
        "## Load: complete visits",
        "",
        *_harness_line(res.load),
        *load_rows(res.load),
        "",
        "Ratios from the same run:",
        "",
        *ratio_rows(res.load),
        "",
        "Per-update latency by who acted:",
        "",
        *role_rows(res.load),
        "",
    ]
    if res.profiles:
        out += [
            "### Where the CPU goes (py-spy, `--profile`)",
            "",
            "Busy samples of the bot's process by the library at work (bench/profiles.py); "
            "sampling costs the machine CPU, so these runs' rates are not the reference.",
            "",
        ]
        for label, shares in res.profiles:
            parts = ", ".join(f"{name} {share:.0%}" for name, share in shares if share >= 0.01)
            out.append(f"- {label}: {parts}")
        out.append("")
    out += [
        "## Microbenchmarks",
        "",
        "| Operation | Median | p95 | Runs | Target | |",
        "|---|---:|---:|---:|---:|---|",
        *(
            f"| {t.name} | {seconds_text(t.median)} | {seconds_text(t.p95)} | {len(t.samples)} "
            f"| {seconds_text(t.target) if t.target else '-'} | {_mark(t.met)} |"
            for t in res.micro
        ),
        "",
        "## Database",
        "",
        *(f"- {what}: {figure}" for what, figure in res.database),
    ]
    for e in (res.export, getattr(res, "export_pdf", None)):
        if e is not None:
            out.append(
                f"- {e.name}, on the seeded log: median {seconds_text(e.median)}, "
                f"slowest {seconds_text(max(e.samples))} of {len(e.samples)}"
            )
    if res.rss_100k is not None:
        r = res.rss_100k
        out += [
            f"- Bot peak RSS with {res.seeded:,} visits in the database, after {r.visits} more "
            f"visits and every staff member asking /aktif and /menunggu: **{_mb(r.peak_rss)}**",
            f"- KTP reader process (its own, beside the bot's; the server needs both): "
            f"**{_reader_figure(r)}**",
        ]
    for part in (KTP, METHOD, FINDINGS):
        if part.exists():
            out += ["", part.read_text(encoding="utf-8").strip()]
    return "\n".join(out) + "\n"
