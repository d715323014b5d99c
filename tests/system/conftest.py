"""The browser tests' shared fixtures: the in-process demo and headless Chromium."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, async_playwright

from demo.web import WebDemo, running_demo
from tests.system.browser import launch


@pytest.fixture
async def demo(tmp_path: Path) -> AsyncIterator[WebDemo]:
    """The demo (simulator, page and the real bot on SQLite in tmp_path), started fresh."""
    async with running_demo(tmp_path / "demo-data") as running:
        yield running


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    """Debian's Chromium, headless (tests/system/browser.py launches it)."""
    async with async_playwright() as playwright:
        chromium = await launch(playwright)
        yield chromium
        await chromium.close()
