"""The load driver still completes visits against the real bot (timings are not asserted).

Keeps bench/ from rotting as the bot changes: the scripted people, the waits on the bot's
messages, the bot in its own process, the seeded database and the baseline.
"""

from __future__ import annotations

import pytest

from bench.load import LoadSpec, run_load
from bench.visits import UPDATES_PER_VISIT


async def test_two_officers_complete_a_visit_each_on_a_seeded_database() -> None:
    spec = LoadSpec(officers=2, visits=1, seed_visits=30, oversight=True, warmup=False)
    result = await run_load(spec)
    assert result.visits == 2
    # Each officer also asked /aktif and /menunggu, over the seeded visits.
    assert result.updates == 2 * UPDATES_PER_VISIT + 2 * 2
    assert result.unanswered == 0
    assert result.bot_cpu > 0 and result.peak_rss > 0
    assert result.calls > result.updates


async def test_escorts_on_duty_are_the_only_ones_told_and_the_visit_is_counted_alike() -> None:
    """--on-duty: the approvals tell only the escorts on duty; the report's calls per visit,
    less the other escorts' notices, is the same whoever is told (bench/report.py)."""
    everyone = await run_load(LoadSpec(officers=3, visits=1, warmup=False))
    one = await run_load(LoadSpec(officers=3, visits=1, warmup=False, on_duty=1))
    assert everyone.visits == one.visits == 3 and one.updates == 3 * UPDATES_PER_VISIT
    assert (everyone.escorts_told, one.escorts_told) == (3, 1)
    # Per approval, two escorts fewer told: their notices and their "taken in" edits; with
    # one on duty, the two visits another escort takes in edit the on-duty escort's notice.
    assert everyone.calls - one.calls == (3 - 1) * 2 * 3 - 2
    own = [r.calls - r.other_escorts_calls for r in (everyone, one)]
    assert own[0] == own[1]


@pytest.mark.parametrize("kind", ["baseline", "baseline-aiohttp"])
async def test_the_baseline_answers_the_same_updates(kind: str) -> None:
    result = await run_load(LoadSpec(kind=kind, officers=2, visits=1, warmup=False))
    assert result.visits == 2 and result.updates == 2 * UPDATES_PER_VISIT
    assert result.calls == result.updates  # one call per update, nothing else


def test_the_ktp_section_replaces_its_old_self_in_the_benchmarks_page() -> None:
    from bench.ktp_ocr import HEADING, splice

    page = "# Benchmarks\n\n## Database\n\nx\n\n## How it is measured\n\ny\n"
    first = splice(page, f"{HEADING}\n\nold table\n")
    assert first.index(HEADING) < first.index("## How it is measured")
    again = splice(first, f"{HEADING}\n\nnew table\n")
    assert "old table" not in again and again.count(HEADING) == 1
    assert again == first.replace("old table", "new table")


def test_the_backup_benchmark_runs_both_trees(capsys: pytest.CaptureFixture[str]) -> None:
    from bench.backup_memory import main

    assert main(["--visits", "30", "--photos", "2", "--rounds", "1", "--before", "HEAD"]) == 0
    medians = capsys.readouterr().out.split("medians:")[1]
    for run in ("before create", "before restore", "after  create", "after  restore v1"):
        assert run in medians and "MB peak RSS" in medians
