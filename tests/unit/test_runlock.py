"""The data folder's lock (bot/app/runlock.py): one holder at a time, gone with its holder,
and a lock file made by root stays usable by the bot's own user."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.app import runlock


def test_one_holder_at_a_time_and_free_again_after(tmp_path: Path) -> None:
    with runlock.held(tmp_path, "the bot"):
        with pytest.raises(runlock.Busy) as busy, runlock.held(tmp_path, "keys rotate"):
            pass
        assert busy.value.holder == f"the bot (pid {os.getpid()})"
    with runlock.held(tmp_path, "keys rotate"):  # released when the block ended
        pass
    assert (tmp_path / runlock.LOCK_NAME).stat().st_mode & 0o777 == 0o600


def test_a_killed_holder_leaves_no_lock_behind(tmp_path: Path) -> None:
    code = (
        "import os, sys; from pathlib import Path; from bot.app import runlock\n"
        f"with runlock.held(Path({str(tmp_path)!r}), 'the bot'):\n"
        "    print('held', flush=True); os.kill(os.getpid(), 9)\n"
    )
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=False
    )
    assert done.stdout.strip() == "held" and done.returncode == -9
    with runlock.held(tmp_path, "keys rotate"):
        pass


def test_a_missing_folder_is_not_locked(tmp_path: Path) -> None:
    with runlock.held(tmp_path / "nothing-yet", "restore"):
        assert not (tmp_path / "nothing-yet").exists()


@pytest.mark.skipif(os.geteuid() != 0, reason="only root can give a file away")
def test_a_lock_file_made_by_root_belongs_to_the_folders_owner(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    os.chown(folder, 65534, 65534)
    with runlock.held(folder, "keys rotate"):
        pass
    assert (folder / runlock.LOCK_NAME).stat().st_uid == 65534
