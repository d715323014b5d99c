"""Webhook mode ([telegram] mode = "webhook"): `python -m bot run` serves PTB's webhook
server, the simulator POSTs each update to it through a stand-in for the office's reverse
proxy, and re-sends whatever is not answered 200. Killed mid-update, the bot loses
nothing; a POST without the secret token is refused and changes nothing."""

from __future__ import annotations

import asyncio
import json
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path

import httpx

from bot.app.intake import HANDLE_DELAY_ENV
from bot.texts import form as form_texts
from simulator import BotApiSimulator
from tests.conftest import OFFICER, STRANGER
from tests.flows import Visitor, fill_in, ktp_image
from tests.system.test_kill import ROOT, BotProcess, confirmed, open_updates, write_config

PUBLIC = "https://akses.diskominfo.test"
PATH = "/telegram-akses"
SECRET = "webhook-secret-0123456789abcdefghijklmnopq"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def webhook_config(tmp_path: Path, sim: BotApiSimulator, port: int) -> Path:
    path = write_config(tmp_path, sim)
    text = path.read_text(encoding="utf-8").replace(
        "[storage]",
        f'mode = "webhook"\nwebhook_url = "{PUBLIC}{PATH}"\nwebhook_listen = "127.0.0.1"\n'
        f'webhook_port = {port}\nwebhook_secret = "{SECRET}"\n[storage]',
        1,
    )
    path.write_text(text, encoding="utf-8")
    return path


class WebhookBot(BotProcess):
    """The bot in webhook mode: ready once it set its webhook and its server answers."""

    def __init__(self, sim: BotApiSimulator, config: Path, port: int) -> None:
        super().__init__(sim, config)
        self.port = port

    async def start(self) -> None:
        before = self.sim.call_counts["setWebhook"]
        self._spawn()
        async with httpx.AsyncClient(trust_env=False) as client:
            for _ in range(400):
                if self.sim.call_counts["setWebhook"] > before:
                    try:
                        await client.get(f"http://127.0.0.1:{self.port}{PATH}")
                        return  # listening (a GET is refused with 405, which is fine)
                    except httpx.TransportError:
                        pass
                await asyncio.sleep(0.05)
        raise TimeoutError("the bot did not start its webhook server")


def db_of(tmp_path: Path) -> Path:
    return tmp_path / "data" / "akses.sqlite3"


async def test_webhook_mode_loses_no_update_when_killed_mid_update(
    tmp_path: Path, sim: BotApiSimulator
) -> None:
    sim.webhook.retry_delay = 0.2
    port = free_port()
    sim.webhook.route(PUBLIC, f"http://127.0.0.1:{port}")  # the office's nginx
    bot = WebhookBot(sim, webhook_config(tmp_path, sim, port), port)
    officer = sim.user(OFFICER)
    moves = Visitor(name="Tamu Webhook").script()
    try:
        # Answered 200 once stored, then killed before it is handled.
        bot.env = {HANDLE_DELAY_ENV: "1.5"}
        await bot.start()
        assert sim.state.webhook is not None and sim.state.webhook.url == PUBLIC + PATH
        assert sim.state.webhook.max_connections == 1  # one at a time: each chat in order
        await officer.send_text("/daftar")
        sent = sim.state.seq
        await confirmed(sim)  # Telegram got its 200 and forgot the update
        assert sim.state.seq == sent  # not handled yet
        bot.kill()
        bot.env = {}
        await bot.start()
        await officer.wait_for(moves[0].asked, since=sent, timeout=20)

        # Killed while down, the update is POSTed again until the new process answers 200.
        await _handled(tmp_path)
        bot.kill()
        await officer.send_photo(ktp_image())
        for _ in range(100):
            if len([p for p in sim.webhook.posts if p[1] is None]) >= 2:
                break
            await asyncio.sleep(0.05)
        refused = [status for _, status in sim.webhook.posts if status is None]
        assert len(refused) >= 2 and sim.state.updates  # nobody answered: still queued
        await bot.start()
        await officer.wait_for(moves[0].then, timeout=20)

        summary = await fill_in(officer, moves[1:], timeout=20)
        await officer.tap(form_texts.BTN_SUBMIT, summary)
        await officer.wait_for("terkirim", timeout=20)
        await _handled(tmp_path)
    finally:
        bot.kill()
    with sqlite3.connect(db_of(tmp_path)) as raw:
        (visits,) = raw.execute("SELECT COUNT(*) FROM visits").fetchone()
        kept = raw.execute("SELECT COUNT(*) FROM incoming_updates WHERE payload IS NOT NULL")
        assert (visits, kept.fetchone()[0]) == (1, 0)


async def test_a_post_without_the_secret_token_gets_403_and_changes_nothing(
    tmp_path: Path, sim: BotApiSimulator
) -> None:
    port = free_port()
    sim.webhook.route(PUBLIC, f"http://127.0.0.1:{port}")
    bot = WebhookBot(sim, webhook_config(tmp_path, sim, port), port)
    stranger = sim.user(STRANGER)
    forged = {
        "update_id": 999_999,
        "message": {
            "message_id": 1,
            "date": 1,
            "chat": {"id": OFFICER, "type": "private", "first_name": "Sari"},
            "from": {"id": OFFICER, "is_bot": False, "first_name": "Sari"},
            "text": "/daftar",
        },
    }
    try:
        await bot.start()
        await stranger.send_text("/start")  # the gate answers: the server works
        await stranger.wait_for(timeout=20)
        await _handled(tmp_path)
        before = _rows(tmp_path)
        url = f"http://127.0.0.1:{port}{PATH}"
        async with httpx.AsyncClient(trust_env=False) as client:
            for headers in ({}, {"X-Telegram-Bot-Api-Secret-Token": "wrong-" + SECRET}):
                response = await client.post(
                    url,
                    content=json.dumps(forged),
                    headers={"Content-Type": "application/json", **headers},
                )
                assert response.status_code == 403
            await asyncio.sleep(1.0)  # nothing would be handled anyway; give it the chance
            assert _rows(tmp_path) == before
            assert sim.user(OFFICER).messages == []

            # With the secret it is taken in; the same update delivered again is answered
            # 200 and not handled twice.
            good = {"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": SECRET}
            replies = []
            for _ in range(2):
                response = await client.post(url, content=json.dumps(forged), headers=good)
                assert response.status_code == 200
                await asyncio.sleep(1.0)
                await _handled(tmp_path)
                await sim.settle()
                replies.append(len(sim.user(OFFICER).messages))
            assert replies[0] > 0 and replies[1] == replies[0]
    finally:
        bot.kill()


async def test_a_busy_listen_port_is_one_clear_error(tmp_path: Path, sim: BotApiSimulator) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        config = webhook_config(tmp_path, sim, port)
        result = await asyncio.to_thread(
            subprocess.run,
            [sys.executable, "-m", "bot", "run", "--config", str(config)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert result.returncode == 2, result.stderr
    assert f"Cannot serve the webhook on 127.0.0.1:{port}" in result.stderr
    assert "Traceback" not in result.stderr


async def _handled(tmp_path: Path) -> None:
    for _ in range(200):
        if not open_updates(db_of(tmp_path)):
            return
        await asyncio.sleep(0.05)
    raise TimeoutError("an update stays open")


def _rows(tmp_path: Path) -> dict[str, int]:
    with sqlite3.connect(f"file:{db_of(tmp_path)}?mode=ro", uri=True) as raw:
        tables = [r[0] for r in raw.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        return {t: raw.execute(f'SELECT COUNT(*) FROM "{t}"').fetchone()[0] for t in tables}
