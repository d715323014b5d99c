"""Config: the example file loads; each bad value gets one clear error naming its key."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bot.app.config import ConfigError, load_config

ROOT = Path(__file__).resolve().parents[2]
SECRET = "x" * 40
KEY = "YWtzZXMtdGVzdC1lbmNyeXB0aW9uLWtleS0zMmJ5dGU="


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_example_config_loads_with_secrets_from_environment() -> None:
    env = {"BOT_TOKEN": "123:abc", "AKSES_SIGNING_SECRET": SECRET, "AKSES_ENCRYPTION_KEY": KEY}
    config = load_config(ROOT / "config.example.toml", env=env)
    assert config.token == "123:abc"
    assert config.signing_secret == SECRET.encode()
    assert config.encryption_key == KEY.encode()
    assert config.privacy.ktp_retention_days == 30
    assert config.privacy.record_retention_days == 365
    assert {m.name for m in config.with_role("approver")} == {"Budi Kepala Seksi"}
    assert config.standards.decision == 10
    assert config.data_dir == ROOT / "data"


VALID = f"""
[telegram]
token = "123:abc"
[security]
signing_secret = "{SECRET}"
encryption_key = "{KEY}"
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
        ((f'encryption_key = "{KEY}"', 'encryption_key = "secret"'), "security.encryption_key"),
        ((f'encryption_key = "{KEY}"', ""), "security.encryption_key"),
        (
            ("[[staff]]", "[privacy]\nrecord_retention_days = 60\n[[staff]]"),
            "privacy.record_retention_days",
        ),
        (
            ("[[staff]]", "[privacy]\nktp_retention_days = 400\n[[staff]]"),
            "privacy.ktp_retention_days",
        ),
        (("[[staff]]", "[privacy]\nktp_retention_days = 0\n[[staff]]"), "privacy.ktp"),
    ],
)
def test_bad_values_name_their_key(tmp_path: Path, change: tuple[str, str], key: str) -> None:
    path = write(tmp_path, VALID.replace(*change))
    with pytest.raises(ConfigError, match=key.replace("[", r"\[").replace("]", r"\]")):
        load_config(path, env={})


def test_encryption_key_error_says_how_to_make_one(tmp_path: Path) -> None:
    path = write(tmp_path, VALID.replace(f'encryption_key = "{KEY}"', ""))
    with pytest.raises(ConfigError, match="AKSES_ENCRYPTION_KEY") as caught:
        load_config(path, env={})
    assert "Fernet.generate_key()" in str(caught.value)


def test_encryption_key_from_environment_overrides_the_file(tmp_path: Path) -> None:
    other = "b3RoZXIta2V5LW90aGVyLWtleS1vdGhlci1rZXktMzI="
    config = load_config(write(tmp_path, VALID), env={"AKSES_ENCRYPTION_KEY": other})
    assert config.encryption_key == other.encode()


def test_secrets_stay_out_of_the_config_repr(tmp_path: Path) -> None:
    text = repr(load_config(write(tmp_path, VALID), env={}))
    assert SECRET not in text and KEY not in text and "123:abc" not in text


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


def test_proxy_is_an_http_url_or_absent(tmp_path: Path) -> None:
    """Issue 13: the Bot API proxy comes from telegram.proxy (else the environment)."""

    def with_proxy(value: str) -> str | None:
        text = VALID.replace('token = "123:abc"', f'token = "123:abc"\nproxy = "{value}"', 1)
        return load_config(write(tmp_path, text), env={}).proxy

    assert with_proxy("") is None
    assert with_proxy("http://10.0.0.1:3128") == "http://10.0.0.1:3128"
    with pytest.raises(ConfigError, match=r"telegram\.proxy"):
        with_proxy("socks5://10.0.0.1:1080")
