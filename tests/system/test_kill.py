"""The bot as its own process (`python -m bot run`), killed with SIGKILL at every step of
the flow and started again: every visit completes, SQLite stays consistent, and the
audit chain verifies. Also killed between fetching an update and handling it (after
Telegram forgot it): no update is lost (bot/app/intake.py)."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

from bot.app.intake import HANDLE_DELAY_ENV
from bot.core.form import FORM, Act, Move
from bot.core.qr import decode_qr
from bot.texts import form as form_texts
from simulator import BotApiSimulator, SimMessage
from storage.crypto import Cipher
from tests.conftest import APPROVER, AUDIT_KEY, ESCORT, OFFICER, SECRET, TOKEN
from tests.flows import NIK_WOMAN, Visitor, ktp_image
from tests.strategies import build_nik

ROOT = Path(__file__).resolve().parents[2]
KEY = "YWtzZXMtdGVzdC1lbmNyeXB0aW9uLWtleS0zMmJ5dGU="
REGISTRATION_STEPS = len(FORM) + 2  # /daftar, one answer per field, the submit
DOOR_STEPS = ("approve", "enter", "exit")


class BotProcess:
    def __init__(self, sim: BotApiSimulator, config: Path, env: dict[str, str] | None = None):
        self.sim, self.config, self.proc = sim, config, None  # type: ignore[var-annotated]
        self.log = config.with_name("bot.log")
        self.env = env or {}

    def _spawn(self) -> None:
        env = {**os.environ, "PYTHONPATH": str(ROOT), "PTB_TIMEDELTA": "1", **self.env}
        with self.log.open("ab") as log:  # the child keeps its own copy of the descriptor
            self.proc = subprocess.Popen(  # a child we kill on purpose
                [sys.executable, "-m", "bot", "run", "--config", str(self.config)],
                cwd=ROOT,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=log,
            )

    async def start(self) -> None:
        before = self.sim.call_counts["getUpdates"]
        self._spawn()
        for _ in range(300):  # ready once it polls
            if self.sim.call_counts["getUpdates"] > before:
                return
            await asyncio.sleep(0.05)
        raise TimeoutError("the bot process did not start polling")

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()


def write_config(tmp_path: Path, sim: BotApiSimulator) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(
        f"""
[telegram]
token = "{TOKEN}"
base_url = "{sim.base_url}"
base_file_url = "{sim.base_file_url}"
[storage]
data_dir = "data"
[security]
signing_secret = "{SECRET.decode()}"
encryption_key = "{KEY}"
audit_key = "{AUDIT_KEY.decode()}"
[[staff]]
id = {OFFICER}
name = "Sari"
roles = ["officer"]
[[staff]]
id = {APPROVER}
name = "Budi"
roles = ["approver"]
[[staff]]
id = {ESCORT}
name = "Dewi"
roles = ["escort"]
""",
        encoding="utf-8",
    )
    path.chmod(0o600)
    return path


def script(nik: str, name: str) -> list[Move]:
    """This iteration's answers, in the form's order (the one shared step script)."""
    visitor = Visitor(
        nik=nik,
        name=name,
        organisation="PT Uji Coba",
        assignment_letter="090/7/ST/XI/2026",
        phone="081234567890",
        equipment="Laptop",
    )
    return visitor.script()


# What each question says, whatever the answers: the form's, then the summary's title.
QUESTIONS = (*(move.asked for move in script(NIK_WOMAN, "-")), form_texts.SUMMARY_TITLE)


def current_question(messages: list[SimMessage]) -> SimMessage | None:
    """The newest question the bot asked (a restart repeats it, so this is the state)."""
    for message in reversed(messages):
        if "📨 Permintaan" in message.text_or_caption:  # the summary became the receipt
            return None
        if any(q in message.text_or_caption for q in QUESTIONS):
            return message
    return None


async def answer(sim: BotApiSimulator, question: SimMessage | None, nik: str, name: str) -> None:
    officer = sim.user(OFFICER)
    if question is None:
        await officer.send_text("/daftar")
        return
    for move in script(nik, name):
        if move.asked in question.text_or_caption:
            if move.act == Act.PHOTO:
                await officer.send_photo(ktp_image())
            elif move.act == Act.TAP:
                await officer.tap(move.text, question)
            else:
                await officer.send_text(move.text)
            return
    await officer.tap(form_texts.BTN_SUBMIT, question)


def status(db: Path, name: str) -> str | None:
    """The status of the visit of the visitor named ``name`` (names are stored encrypted)."""
    cipher = Cipher(KEY.encode())
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as raw:
        rows = raw.execute(
            "SELECT v.status, p.name FROM visits v JOIN visitors p ON p.id = v.visitor_id"
        ).fetchall()
    return next((st for st, sealed in rows if cipher.decrypt_text(sealed) == name), None)


async def test_sigkill_at_every_step(tmp_path: Path, sim: BotApiSimulator) -> None:
    config = write_config(tmp_path, sim)
    db = tmp_path / "data" / "akses.sqlite3"
    bot = BotProcess(sim, config)
    await bot.start()
    officer = sim.user(OFFICER)
    try:
        for kill_at in range(REGISTRATION_STEPS + len(DOOR_STEPS)):
            name = f"Tamu Uji {kill_at}"
            nik = build_nik("350801", _date(kill_at), "L", f"{kill_at + 1:04d}")
            step = 0
            while status(db, name) is None:
                question = current_question(officer.bot_messages)
                await answer(sim, question, nik, name)
                if step == kill_at:
                    bot.kill()
                    await bot.start()
                await sim.settle(quiet=0.3)
                step += 1
                assert step < 40, f"{name}: no progress\n{_tail(bot.log)}\n{officer.messages[-4:]}"
            link = await _door(sim, bot, db, name, kill_at - REGISTRATION_STEPS)
            assert link and status(db, name) == "done"
    finally:
        bot.kill()

    with sqlite3.connect(db) as raw:
        assert raw.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        done = raw.execute("SELECT COUNT(*) FROM visits WHERE status = 'done'").fetchone()[0]
        decisions = raw.execute(
            "SELECT visit_id, COUNT(*) FROM audit_events WHERE action = 'approve'"
            " GROUP BY visit_id HAVING COUNT(*) > 1"
        ).fetchall()
    assert done == REGISTRATION_STEPS + len(DOOR_STEPS) and decisions == []
    verify = subprocess.run(  # noqa: ASYNC221 - the bot is stopped; nothing else runs
        [sys.executable, "-m", "bot", "audit", "verify", "--config", str(config)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert verify.returncode == 0, verify.stdout + verify.stderr


async def _door(
    sim: BotApiSimulator, bot: BotProcess, db: Path, name: str, kill_index: int
) -> str:
    """Approve, enter, exit; the step at kill_index (if any) is followed by a SIGKILL."""
    approver, escort = sim.user(APPROVER), sim.user(ESCORT)
    for index, (step, before, after) in enumerate(
        [
            ("approve", "pending", "approved"),
            ("enter", "approved", "inside"),
            ("exit", "inside", "done"),
        ]
    ):
        attempts = 0
        while status(db, name) == before:
            attempts += 1
            assert attempts < 10, f"{step} of {name} does not happen"
            if step == "approve":
                card = await approver.wait_for(
                    predicate=lambda m: name in m.text_or_caption and bool(m.buttons),
                    since=0,
                    timeout=20,
                )
                await approver.tap("Setujui", card)
            else:
                if step == "enter" and attempts == 1:
                    badge = await sim.user(OFFICER).wait_for(
                        predicate=lambda m: (
                            m.photo_bytes is not None and name in m.text_or_caption
                        ),
                        since=0,
                        timeout=20,
                    )
                    (link,) = decode_qr(badge.photo_bytes)
                await escort.open_link(link)
                view = await escort.wait_for(  # the scan's view, not the "waiting" notice
                    "Badge pengunjung",
                    predicate=lambda m: name in m.text_or_caption and bool(m.buttons),
                    timeout=20,
                )
                await escort.tap("Catat MASUK" if step == "enter" else "Perangkat sesuai", view)
            if index == kill_index and attempts == 1:
                bot.kill()
                await bot.start()
            await sim.settle(quiet=0.3)
        assert status(db, name) == after
    return link


# How long each update waits between the queue and its handling in the next test: the
# kill lands in this window, after the bot's next getUpdates confirmed the update.
HANDLE_DELAY = 1.5


async def confirmed(sim: BotApiSimulator) -> None:
    """Until the bot's next getUpdates confirmed every update: Telegram has forgotten them."""
    for _ in range(1000):
        if not sim.state.updates:
            return
        await asyncio.sleep(0.005)
    raise TimeoutError("the bot did not confirm the update")


async def test_sigkill_between_fetch_and_handling_loses_no_update(
    tmp_path: Path, sim: BotApiSimulator
) -> None:
    """Every input of a whole visit is fetched, confirmed to Telegram, and the bot killed
    before handling it; each is still answered after the restart, none sent twice."""
    config = write_config(tmp_path, sim)
    db = tmp_path / "data" / "akses.sqlite3"
    bot = BotProcess(sim, config, env={HANDLE_DELAY_ENV: str(HANDLE_DELAY)})
    officer, approver, escort = sim.user(OFFICER), sim.user(APPROVER), sim.user(ESCORT)
    name = "Tamu Antara"
    moves = script(build_nik("350801", _date(3), "P", "0007"), name)
    kills = 0

    async def killed_before_handling(send: object) -> int:
        """Send one update; once its fetch is confirmed and before the bot has done
        anything with it, SIGKILL and restart. Returns the seq the input left."""
        nonlocal kills
        await handled(db)  # the update before is handled and recorded
        await send  # type: ignore[misc]
        sent_seq = sim.state.seq
        await confirmed(sim)
        assert sim.state.seq == sent_seq, "handled before the kill: the window was missed"
        bot.kill()
        kills += 1
        await bot.start()
        return sent_seq

    await bot.start()
    try:
        since = await killed_before_handling(officer.send_text("/daftar"))
        await officer.wait_for(moves[0].asked, since=since, timeout=20)
        for move in moves:
            question = await officer.wait_for(move.asked, since=0, timeout=20)
            if move.act == Act.PHOTO:
                sending = officer.send_photo(ktp_image())
            elif move.act == Act.TAP:
                sending = officer.tap(move.text, question)
            else:
                sending = officer.send_text(move.text)
            since = await killed_before_handling(sending)
            await officer.wait_for(move.then, since=since, timeout=20)
        summary = officer.bot_messages[-1]
        since = await killed_before_handling(officer.tap(form_texts.BTN_SUBMIT, summary))
        await officer.wait_for("terkirim", since=since, timeout=20)
        assert status(db, name) == "pending"

        card = await approver.wait_for(
            predicate=lambda m: name in m.text_or_caption and bool(m.buttons), timeout=20
        )
        await killed_before_handling(approver.tap("Setujui", card))
        badge = await officer.wait_for(
            predicate=lambda m: m.photo_bytes is not None and name in m.text_or_caption,
            since=0,
            timeout=20,
        )
        (link,) = decode_qr(badge.photo_bytes)
        for label, after in (("Catat MASUK", "inside"), ("Perangkat sesuai", "done")):
            await escort.open_link(link)
            view = await escort.wait_for(  # the scan's view, not the "waiting" notice
                "Badge pengunjung",
                predicate=lambda m: name in m.text_or_caption and bool(m.buttons),
                timeout=20,
            )
            await killed_before_handling(escort.tap(label, view))
            for _ in range(400):
                if status(db, name) == after:
                    break
                await asyncio.sleep(0.05)
            assert status(db, name) == after, _tail(bot.log)
        await handled(db)  # the last update's done mark follows its transition
    finally:
        bot.kill()

    assert kills == len(moves) + 2 + len(DOOR_STEPS)
    with sqlite3.connect(db) as raw:
        assert raw.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        # Every input once: one visit, one decision, one entry, one exit.
        actions = [row[0] for row in raw.execute("SELECT action FROM audit_events")]
        kept = raw.execute(
            "SELECT COUNT(*) FROM incoming_updates WHERE payload IS NOT NULL"
        ).fetchone()[0]
    assert [a for a in actions if a in ("submit", "approve", "enter", "exit")] == [
        "submit",
        "approve",
        "enter",
        "exit",
    ], actions
    assert open_updates(db) == 0 and kept == 0  # all handled, and their data forgotten


async def handled(db: Path) -> None:
    for _ in range(200):
        if not open_updates(db):
            return
        await asyncio.sleep(0.05)
    raise TimeoutError("an update stays open")


def open_updates(db: Path) -> int:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as raw:
        return int(
            raw.execute("SELECT COUNT(*) FROM incoming_updates WHERE done_at IS NULL").fetchone()[
                0
            ]
        )


def _tail(log: Path) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-15:])


def _date(n: int) -> object:
    from datetime import date

    return date(1970 + n, 3, 1 + n)
