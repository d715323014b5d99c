"""The badge drawn in a worker process (bot/flows/badge_render.py): the same files as
drawn in the bot, the process named, stopped when idle, replaced when it breaks, and gone
when the bot's process is killed."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import AsyncIterator

import pytest

from bot.flows.badge_render import PROCESS_NAME, BadgeRenderer, render_both
from tests.unit.test_badge import make_card
from tests.unit.test_ktp_reader_process import ended, name_of, running


@pytest.fixture
async def renderer() -> AsyncIterator[BadgeRenderer]:
    made = BadgeRenderer(idle_stop=600)
    yield made
    await asyncio.to_thread(made.stop)


async def test_the_worker_draws_the_same_files_as_the_bot(renderer: BadgeRenderer) -> None:
    card = make_card()
    assert renderer.pids == []  # nothing runs before a badge is needed
    assert await renderer.render(card) == render_both(card)
    (pid,) = renderer.pids
    assert pid != os.getpid() and name_of(pid) == PROCESS_NAME.decode()
    other = make_card("Ayu Lestari")
    assert await renderer.render(other) == render_both(other)
    assert renderer.pids == [pid]  # kept for the next badge


async def test_warm_up_starts_the_worker_before_the_first_badge(renderer: BadgeRenderer) -> None:
    renderer.warm_up()
    for _ in range(200):
        if renderer.pids:
            break
        await asyncio.sleep(0.05)
    (pid,) = renderer.pids
    await renderer.render(make_card())
    assert renderer.pids == [pid]


async def test_stopped_after_the_idle_time_and_started_again_by_the_next_badge() -> None:
    renderer = BadgeRenderer(idle_stop=0.5)
    try:
        await renderer.render(make_card())
        (pid,) = renderer.pids
        assert await ended(pid)
        assert renderer.pids == []
        card = make_card("Bima Sakti")
        assert await renderer.render(card) == render_both(card)
        assert renderer.pids not in ([], [pid])
    finally:
        await asyncio.to_thread(renderer.stop)


async def test_a_worker_that_dies_costs_no_badge(renderer: BadgeRenderer) -> None:
    await renderer.render(make_card())
    (pid,) = renderer.pids
    os.kill(pid, signal.SIGKILL)
    assert await ended(pid)
    card = make_card("Candra Wijaya")
    # Drawn in the bot while the broken pool is dropped, then by a fresh worker.
    assert await renderer.render(card) == render_both(card)
    assert await renderer.render(card) == render_both(card)
    assert renderer.pids and pid not in renderer.pids


def test_the_worker_ends_when_the_bots_process_is_killed() -> None:
    script = textwrap.dedent(
        """
        import asyncio, sys, time
        from bot.flows.badge_render import BadgeRenderer
        from tests.unit.test_badge import make_card

        renderer = BadgeRenderer()
        asyncio.run(renderer.render(make_card()))
        print(renderer.pids[0], flush=True)
        time.sleep(60)
        """
    )
    bot = subprocess.Popen(
        [sys.executable, "-c", script],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,  # the killed bot's resource tracker reports its leftovers
        text=True,
    )
    assert bot.stdout is not None
    with bot.stdout:
        try:
            pid = int(bot.stdout.readline())
            assert running(pid)
        finally:
            bot.kill()
            bot.wait()
    for _ in range(200):  # the worker sees its parent gone (it looks every second)
        if not running(pid):
            break
        time.sleep(0.05)
    assert not running(pid)
