"""``python -m bot demo --script`` as the README tells users to run it: the walkthrough in
the terminal, from /daftar to the exit, with its badge saved.

It once failed with "Sari sees no button 'Tidak ada surat tugas'": a step tapped before
the bot's question had arrived. Each step now waits for the bot to ask (demo/script.py).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from bot.core.qr import decode_badge_token
from bot.texts import approval as approval_texts
from bot.texts import form as form_texts

ROOT = Path(__file__).resolve().parents[2]


def test_the_scripted_demo_plays_to_the_end(tmp_path: Path) -> None:
    folder = tmp_path / "demo-data"
    result = subprocess.run(
        [sys.executable, "-m", "bot", "demo", "--script", "--dir", str(folder)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "NO_PROXY": "127.0.0.1,localhost"},
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "Traceback" not in result.stderr
    out = result.stdout
    # Every step of the walkthrough, in order, each followed by what the bot answered.
    steps = [
        ">>> Petugas: send text /daftar",
        ">>> Petugas: send photo",
        f">>> Petugas: tap {form_texts.BTN_SUBMIT}",
        f">>> Kepala Seksi: tap {approval_texts.BTN_APPROVE}",
        ">>> Pendamping: memindai QR badge",
        ">>> Pendamping: tap Catat MASUK",
        ">>> Pendamping: memindai QR badge",
        ">>> Pendamping: tap Perangkat sesuai",
    ]
    at = 0
    for step in steps:
        found = out.find(step, at)
        assert found >= 0, (step, out[at : at + 2000])
        at = found + len(step)
        answer = out[at:].split("\n>>> ", 1)[0]
        assert "\n[" in answer, (step, answer)  # someone's phone showed the bot's answer
    last = out[at:]
    assert "KELUAR tercatat" in last and "Kunjungan selesai" in last
    assert f"Demo selesai. Badge: {folder / 'badge.png'}" in last
    # The badge saved is the one the escort scanned: its QR reads back.
    assert decode_badge_token((folder / "badge.png").read_bytes()) is not None
