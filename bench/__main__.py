"""``python -m bench``: every benchmark, then docs/benchmarks.md. See --help."""

from __future__ import annotations

import argparse
import asyncio
import os
import pickle
import shlex
import sys
import time
from pathlib import Path

from bench import micro, profiles, storage_bench
from bench.load import ROOT, LoadResult, LoadSpec, run_load
from bench.report import Results, render

KINDS = ("baseline", "baseline-aiohttp", "bot", "sequential")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes, about a minute")
    parser.add_argument(
        "--out", type=Path, help="report path (default docs/benchmarks.md; --quick: stdout)"
    )
    parser.add_argument("--officers", type=int, help="concurrent officers (default 50)")
    parser.add_argument("--visits", type=int, help="visits per officer (default 2)")
    parser.add_argument("--latencies", default="0,50,100", help="ms per Bot API call")
    parser.add_argument(
        "--on-duty",
        type=int,
        default=0,
        help="escorts who go on duty (/piket) before the visits; the approvals tell only them"
        " (default 0: nobody on duty, every escort told)",
    )
    parser.add_argument("--window", type=float, help="seconds the sequential bot is measured")
    parser.add_argument("--seed", type=int, help="visits seeded for the RSS check (100000)")
    parser.add_argument(
        "--only", default="micro,db,load", help="comma-separated parts: micro, db, load"
    )
    parser.add_argument(
        "--profile", type=Path, help="py-spy profiles of each bot run into this folder"
    )
    parser.add_argument("--save", type=Path, help="also keep the raw results here (pickle)")
    parser.add_argument(
        "--render", type=Path, help="only rewrite the report from results kept with --save"
    )
    args = parser.parse_args(argv)
    os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")
    os.environ.setdefault("PTB_TIMEDELTA", "1")
    if args.profile is not None:
        args.profile.mkdir(parents=True, exist_ok=True)
    if args.render is not None:
        # Own pickle, written by --save: the method and findings text changed, not the run.
        results = pickle.loads(args.render.read_bytes())
    else:
        argv = argv if argv is not None else sys.argv[1:]
        shown = [a for a in argv if not a.startswith("--save") and a != str(args.save)]
        results = Results(command=shlex.join(["python", "-m", "bench", *shown]), quick=args.quick)
        started = time.perf_counter()
        asyncio.run(_run(args, results))
        results.duration = time.perf_counter() - started
        if args.save is not None:
            args.save.write_bytes(pickle.dumps(results))
    text = render(results)
    out = args.out or (None if results.quick else ROOT / "docs" / "benchmarks.md")
    if out is None:
        print(text)
    else:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")
        _say(f"wrote {out}")
    return 0


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


async def _run(args: argparse.Namespace, results: Results) -> None:
    quick = args.quick
    parts = set(args.only.split(","))
    if "micro" in parts:
        _say("microbenchmarks ...")
        scale = 3 if quick else 1
        results.micro = [
            micro.badge_png(30 // scale),
            micro.badge_pdf(15 // scale),
            micro.badge_both(15 // scale),
            micro.qr_decode(30 // scale),
            micro.qr_decode(10 // scale, size=(2560, 1920), target=None),
            micro.nik_validation(20_000 // scale),
        ]
    if "db" in parts:
        _say("database: seeding, transitions, export ...")
        seeded = args.seed or (10_000 if quick else 100_000)
        await storage_bench.run(results, seeded, quick=quick)
    if "load" in parts:
        officers = args.officers or (6 if quick else 50)
        visits = args.visits or (1 if quick else 2)
        window = args.window or (5.0 if quick else 20.0)
        if not 0 <= args.on_duty <= officers:
            raise SystemExit(f"--on-duty: 0 to {officers} (one escort per officer)")
        for latency in (float(x) for x in args.latencies.split(",")):
            for kind in KINDS:
                spec = LoadSpec(
                    kind=kind,
                    officers=officers,
                    visits=visits,
                    latency_ms=latency,
                    window=window if kind == "sequential" else None,
                    on_duty=args.on_duty,
                )
                results.load.append(await _load(spec, args.profile, results))
        if "db" in parts:
            _say(f"peak RSS with {results.seeded:,} visits in the database ...")
            spec = LoadSpec(
                officers=officers // 5 or 1,
                visits=1,
                seed_visits=results.seeded,
                oversight=True,
            )
            results.rss_100k = await _load(spec, None, results)


async def _load(spec: LoadSpec, profile: Path | None, results: Results) -> LoadResult:
    _say(f"load: {spec.kind}, {spec.latency_ms:.0f} ms, {spec.officers} officers ...")
    output = None
    if profile is not None:
        output = profile / f"{spec.kind}-{spec.latency_ms:.0f}ms.txt"
    result = await run_load(spec, profile=output)
    if output is not None and output.exists():
        label = f"{spec.kind}, {spec.latency_ms:.0f} ms, {spec.officers} officers"
        results.profiles.append((label, profiles.summarise(output)))
    _say(
        f"  {result.visits} visits, {result.updates_per_s:.0f} updates/s, "
        f"p95 {result.percentile(95) * 1000:.0f} ms, "
        f"CPU/update {result.cpu_per_update * 1000:.1f} ms"
    )
    return result


if __name__ == "__main__":
    raise SystemExit(main())
