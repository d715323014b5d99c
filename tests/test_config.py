"""Config: the example file loads; each bad value gets one clear error naming its key."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import ConfigError, load_config

ROOT = Path(__file__).resolve().parent.parent
SECRET = "x" * 40


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_example_config_loads_with_secrets_from_environment() -> None:
    env = {"BOT_TOKEN": "123:abc", "AKSES_SIGNING_SECRET": SECRET}
    config = load_config(ROOT / "config.example.toml", env=env)
    assert config.token == "123:abc"
    assert config.signing_secret == SECRET.encode()
    assert {m.name for m in config.with_role("approver")} == {"Budi Kepala Seksi"}
    assert config.standards.decision == 10
    assert config.data_dir == ROOT / "data"


VALID = f"""
[telegram]
token = "123:abc"
[security]
signing_secret = "{SECRET}"
[[staff]]
id = 5
name = "Budi"
roles = ["approver"]
"""


@pytest.mark.parametrize(
    ("change", "key"),
    [
        (('token = "123:abc"', 'token = ""'), "telegram.token"),
        ((f'signing_secret = "{SECRET}"', 'signing_secret = "short"'), "security.signing_secret"),
        (('roles = ["approver"]', 'roles = ["boss"]'), "staff[0].roles"),
        (('roles = ["approver"]', 'roles = ["officer"]'), "approver"),
        (("id = 5", 'id = "five"'), "staff[0].id"),
        (("[[staff]]", "[standards]\ndecision = 0\n[[staff]]"), "standards.decision"),
        (("[[staff]]", '[office]\ntimezone = "Mars/Base"\n[[staff]]'), "office.timezone"),
    ],
)
def test_bad_values_name_their_key(tmp_path: Path, change: tuple[str, str], key: str) -> None:
    path = write(tmp_path, VALID.replace(*change))
    with pytest.raises(ConfigError, match=key.replace("[", r"\[").replace("]", r"\]")):
        load_config(path, env={})


def test_cli_reports_config_error_without_traceback(tmp_path: Path) -> None:
    path = write(tmp_path, VALID.replace('token = "123:abc"', 'token = ""'))
    result = subprocess.run(
        [sys.executable, "-m", "bot", "run", "--config", str(path)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin"},
        check=False,
    )
    assert result.returncode == 2
    assert "telegram.token" in result.stderr
    assert "Traceback" not in result.stderr
