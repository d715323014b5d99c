"""deploy/requirements.lock pins what pyproject.toml asks for (deploy/lockcheck.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CHECK = ROOT / "deploy" / "lockcheck.py"
LOCK = ROOT / "deploy" / "requirements.lock"
PYPROJECT = ROOT / "pyproject.toml"


def check(pyproject: Path, lock: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(CHECK), str(pyproject), str(lock)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_the_committed_lock_matches_pyproject() -> None:
    result = check(PYPROJECT, LOCK)
    assert result.returncode == 0, result.stderr
    text = LOCK.read_text(encoding="utf-8")
    assert "--generate-hashes" in text  # pip-compile's own header: made with hashes


def test_a_raised_floor_the_lock_does_not_meet_is_named(tmp_path: Path) -> None:
    pyproject = tmp_path / "pyproject.toml"
    text = PYPROJECT.read_text(encoding="utf-8").replace('"aiohttp>=', '"aiohttp>=99,<100,>=')
    pyproject.write_text(text, encoding="utf-8")
    result = check(pyproject, LOCK)
    assert result.returncode == 1
    assert "aiohttp==" in result.stderr and "does not satisfy aiohttp" in result.stderr
    assert "make lock" in result.stderr and "Traceback" not in result.stderr


def test_a_requirement_missing_from_the_lock_or_its_hash(tmp_path: Path) -> None:
    lines = LOCK.read_text(encoding="utf-8").splitlines(keepends=True)
    without_qrcode, skipping = [], False
    for line in lines:
        if line.startswith("qrcode=="):
            skipping = True
        elif skipping and not line.startswith(" "):
            skipping = False
        if not skipping:
            without_qrcode.append(line)
    lock = tmp_path / "requirements.lock"
    lock.write_text("".join(without_qrcode).replace("tzdata==", "tzdata==0+nohash #"))
    unhashed = "".join(without_qrcode)
    unhashed = unhashed.replace("    --hash=sha256:", "    # hash removed ", -1)
    result = check(PYPROJECT, lock)
    assert result.returncode == 1
    assert "qrcode (<9,>=8.0) is not pinned" in result.stderr
    assert "tzdata==0+nohash does not satisfy" in result.stderr

    lock.write_text(unhashed)
    result = check(PYPROJECT, lock)
    assert result.returncode == 1 and "has no --hash" in result.stderr


def test_missing_files_get_one_line_each(tmp_path: Path) -> None:
    result = check(PYPROJECT, tmp_path / "none.lock")
    assert result.returncode == 1
    assert "none.lock: no such file" in result.stderr and "Traceback" not in result.stderr
