"""``python -m bench.ktp_ocr``: the KTP reader measured on specimen photos, both splits.

    python -m bench.ktp_ocr [--count 300] [--out docs/benchmarks-ktp.md]

The tuning split (seed 1) is the one the reader's thresholds were chosen on; the held-out
split (seed 1001) is generated the same way with another seed and was never looked at while
tuning. Both are generated afresh in a temporary folder (bench/ktp_corpus.py), read one by
one in this process as the bot reads them, and scored against their ground truth:

- NIK, name (case and spacing normalised), birth date: exact matches over all photos;
- wrong NIK: a NIK proposed that is not the card's but passes validation (the silent,
  dangerous error), over all photos;
- time per photo (median, p95), from the bytes to the fields, as the bot calls it;
- added RSS: the process's peak resident memory after reading, minus before loading the
  engine.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

TUNING_SEED, HELD_OUT_SEED = 1, 1001
TODAY = date(2026, 12, 2)


@dataclass
class Score:
    split: str
    photos: int
    nik: int = 0
    name: int = 0
    birth_date: int = 0
    wrong_nik: int = 0
    times: list[float] | None = None

    def pct(self, n: int) -> str:
        return f"{100 * n / self.photos:.1f} %"

    @property
    def median(self) -> float:
        return statistics.median(self.times or [0.0])

    @property
    def p95(self) -> float:
        times = sorted(self.times or [0.0])
        return times[min(len(times) - 1, int(0.95 * len(times)))]


def _norm(name: str | None) -> str | None:
    return " ".join(name.upper().split()) if name else None


def score(folder: Path, split: str) -> Score:
    from bot.ocr.reader import read_ktp

    truths = [
        json.loads(line) for line in (folder / "truth.jsonl").read_text("utf-8").splitlines()
    ]
    result = Score(split, len(truths), times=[])
    for truth in truths:
        data = (folder / truth["file"]).read_bytes()
        started = time.perf_counter()
        reading = read_ktp(data, TODAY)
        assert result.times is not None
        result.times.append(time.perf_counter() - started)
        result.nik += reading.nik == truth["nik"]
        result.wrong_nik += reading.nik is not None and reading.nik != truth["nik"]
        result.name += _norm(reading.name) == _norm(truth["name"])
        born = reading.birth_date.isoformat() if reading.birth_date else None
        result.birth_date += born == truth["birth_date"]
    return result


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def render(scores: list[Score], added_rss: float, count: int) -> str:
    rows = [
        ("NIK exact", "≥ 97 %", lambda s: s.pct(s.nik)),
        ("Name exact (case and spacing normalised)", "≥ 90 %", lambda s: s.pct(s.name)),
        ("Birth date exact", "≥ 95 %", lambda s: s.pct(s.birth_date)),
        ("Wrong NIK that still passes validation", "≤ 0.5 %", lambda s: s.pct(s.wrong_nik)),
        (
            "Median / p95 time per photo",
            "≤ 1.0 s / ≤ 2.5 s",
            lambda s: f"{s.median:.2f} s / {s.p95:.2f} s",
        ),
    ]
    head = "| Measure | Goal | " + " | ".join(f"{s.split} ({s.photos})" for s in scores) + " |"
    lines = [
        "# KTP reader on specimen photos",
        "",
        f"`python -m bench.ktp_ocr --count {count}` on {platform.machine()}, "
        f"Python {platform.python_version()}, {time.strftime('%Y-%m-%d')}. "
        "Engine: Tesseract (Debian tesseract-ocr-ind model, tesserocr API) after OpenCV "
        "finds and straightens the card. Photos from bench/ktp_corpus.py.",
        "",
        head,
        "|---|---:|" + "---:|" * len(scores),
    ]
    for label, goal, cell in rows:
        lines.append(f"| {label} | {goal} | " + " | ".join(cell(s) for s in scores) + " |")
    lines.append(f"| Added RSS while reading | ≤ 200 MB | {added_rss:.0f} MB (whole run) |")
    lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.ktp_ocr", description=__doc__)
    parser.add_argument("--count", type=int, default=300, help="photos per split (300)")
    parser.add_argument("--out", type=Path, help="write the table here (default: stdout)")
    args = parser.parse_args(argv)
    scores = []
    with tempfile.TemporaryDirectory() as scratch:
        splits = (("tuning", TUNING_SEED), ("held-out", HELD_OUT_SEED))
        for split, seed in splits:
            # Drawn in another process, so this one's memory is the reader's alone.
            command = [sys.executable, "-m", "bench.ktp_corpus", str(Path(scratch) / split)]
            command += ["--count", str(args.count), "--seed", str(seed)]
            subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
        before = _rss_mb()
        for split, _ in splits:
            scores.append(score(Path(scratch) / split, split))
    text = render(scores, _rss_mb() - before, args.count)
    if args.out:
        args.out.write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
