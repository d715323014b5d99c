"""The demo harms nothing on the host: it empties only folders it created, and its page
answers only the tab opened from the printed address (demo/guard.py)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from demo.app import MARKER, OFFICER, prepare_folder
from demo.guard import COOKIE
from demo.web import WebDemo, running_demo

ROOT = Path(__file__).resolve().parents[2]


def test_demo_refuses_a_folder_it_did_not_create(tmp_path: Path) -> None:
    precious = tmp_path / "home"
    precious.mkdir()
    (precious / "thesis.txt").write_text("years of work", encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "bot", "demo", "--dir", str(precious), "--port", "0"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)},
        timeout=60,
        check=False,
    )
    assert result.returncode == 2 and "not created by the demo" in result.stderr
    assert "Traceback" not in result.stderr
    assert (precious / "thesis.txt").read_text(encoding="utf-8") == "years of work"
    assert sorted(p.name for p in precious.iterdir()) == ["thesis.txt"]
    a_file = tmp_path / "notes.txt"
    a_file.write_text("x", encoding="utf-8")
    assert "not a folder" in (prepare_folder(a_file) or "")


def test_a_folder_the_demo_made_is_emptied_and_an_empty_one_taken(tmp_path: Path) -> None:
    folder = tmp_path / "demo-data"
    assert prepare_folder(folder) is None and (folder / MARKER).is_file()
    (folder / "akses.sqlite3").write_text("old run", encoding="utf-8")
    assert prepare_folder(folder) is None
    assert sorted(p.name for p in folder.iterdir()) == [MARKER]
    empty = tmp_path / "empty"
    empty.mkdir()
    assert prepare_folder(empty) is None and (empty / MARKER).is_file()


@pytest.fixture
async def demo(tmp_path: Path) -> AsyncIterator[WebDemo]:
    async with running_demo(tmp_path / "demo-data") as running:
        yield running


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(trust_env=False) as session:
        yield session


async def test_the_page_needs_the_key_of_this_run(
    demo: WebDemo, http: aiohttp.ClientSession
) -> None:
    base = demo.sim.url
    async with http.get(f"{base}/") as response:
        assert response.status == 403
    async with http.get(f"{base}/?key=wrong") as response:
        assert response.status == 403
    async with http.get(demo.url) as response:
        assert response.status == 200 and "<html" in (await response.text()).lower()
        cookie = response.cookies[COOKIE]
        assert cookie.value == demo.key and cookie["httponly"] and cookie["samesite"] == "Strict"
    async with http.get(f"{base}/sim/people", headers={"Cookie": f"{COOKIE}={demo.key}"}) as r:
        assert r.status == 200
    async with http.get(f"{base}/sim/people") as response:
        assert response.status == 403
    # Another run has another key, and another bot token.
    async with running_demo(demo.directory.with_name("other")) as other:
        assert other.key != demo.key and other.token != demo.token


async def test_cross_origin_posts_sockets_and_foreign_hosts_are_refused(
    demo: WebDemo, http: aiohttp.ClientSession
) -> None:
    base, port = demo.sim.url, demo.sim.port
    own = {"Cookie": f"{COOKIE}={demo.key}", "Origin": base}
    officer = demo.sim.user(OFFICER)
    post = f"{base}/sim/chats/{OFFICER}/text"
    refused = [
        {**own, "Origin": "http://evil.example"},  # a page elsewhere POSTs to localhost
        # DNS rebinding: the attacker's page, under its own name, reaches this server.
        {**own, "Host": f"evil.example:{port}", "Origin": f"http://evil.example:{port}"},
        {**own, "Host": f"127.0.0.1:{port + 1}", "Origin": f"http://127.0.0.1:{port + 1}"},
        {"Origin": base},  # no key
    ]
    for headers in refused:
        async with http.post(post, json={"text": "/start"}, headers=headers) as response:
            assert response.status == 403, headers
    assert officer.messages == []  # nobody acted as the officer
    with pytest.raises(aiohttp.WSServerHandshakeError) as caught:
        await http.ws_connect(f"{base}/sim/ws", headers={**own, "Origin": "http://evil.example"})
    assert caught.value.status == 403

    # The page's own requests pass, and the bot (on the Bot API routes) still answers.
    async with http.post(post, json={"text": "/start"}, headers=own) as response:
        assert response.status == 200
    await officer.wait_for("Selamat datang")
    async with http.ws_connect(f"{base}/sim/ws", headers=own) as socket:
        assert not socket.closed
