"""[telegram] mode = "webhook": each bad or missing key is one clear line from
`python -m bot run`, exit status 2, never a traceback, and the bot does not start."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bot.app.config import load_config
from bot.cli.main import main
from tests.unit.test_config import AUDIT, KEY, ROOT, SECRET

HOOK_SECRET = "webhook-secret-0123456789abcdefghijklmnopq"
WEBHOOK = f"""
[telegram]
token = "123:abc"
mode = "webhook"
webhook_url = "https://akses.example.go.id/telegram-akses"
webhook_listen = "127.0.0.1"
webhook_port = 8443
webhook_secret = "{HOOK_SECRET}"
[security]
signing_secret = "{SECRET}"
encryption_key = "{KEY}"
audit_key = "{AUDIT}"
[[staff]]
id = 5
name = "Budi"
roles = ["approver"]
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    path.chmod(0o600)
    return path


def test_a_webhook_config_loads(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, WEBHOOK), env={})
    hook = config.webhook
    assert hook is not None
    assert (hook.url, hook.listen, hook.port) == (
        "https://akses.example.go.id/telegram-akses",
        "127.0.0.1",
        8443,
    )
    assert hook.path == "/telegram-akses" and hook.secret_token == HOOK_SECRET
    assert HOOK_SECRET not in repr(config)


def test_polling_is_the_default_and_the_secret_may_come_from_the_environment(
    tmp_path: Path,
) -> None:
    polling = WEBHOOK.replace('mode = "webhook"', "")
    assert load_config(write(tmp_path, polling), env={}).webhook is None
    other = "Z" * 40
    text = WEBHOOK.replace(f'webhook_secret = "{HOOK_SECRET}"', "")
    hook = load_config(write(tmp_path, text), env={"AKSES_WEBHOOK_SECRET": other}).webhook
    assert hook is not None and hook.secret_token == other


BAD = [
    (('mode = "webhook"', 'mode = "push"'), 'telegram.mode must be "polling" or "webhook"'),
    (
        ('webhook_url = "https://akses.example.go.id/telegram-akses"', ""),
        "telegram.webhook_url is missing",
    ),
    (("https://akses", "http://akses"), "telegram.webhook_url must be an https:// address"),
    (("akses.example.go.id/", "akses.example.go.id:9000/"), "only to ports 443, 80, 88 or 8443"),
    (("telegram-akses", "telegram-akses?x=1"), "must not have a query"),
    (('webhook_listen = "127.0.0.1"', 'webhook_listen = "localhost:80"'), "webhook_listen"),
    (("webhook_port = 8443\n", ""), "telegram.webhook_port is missing"),
    (("webhook_port = 8443", "webhook_port = 70000"), "telegram.webhook_port must be a port"),
    (("webhook_port = 8443", 'webhook_port = "8443"'), "telegram.webhook_port must be a port"),
    ((f'webhook_secret = "{HOOK_SECRET}"', ""), "telegram.webhook_secret is missing"),
    ((f'webhook_secret = "{HOOK_SECRET}"', 'webhook_secret = "short"'), "at least 32"),
    (
        (f'webhook_secret = "{HOOK_SECRET}"', f'webhook_secret = "{HOOK_SECRET}+/="'),
        "only letters, digits, _ and -",
    ),
]


@pytest.mark.parametrize(("change", "message"), BAD)
def test_each_bad_webhook_setting_is_one_clear_error(
    tmp_path: Path,
    change: tuple[str, str],
    message: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("AKSES_WEBHOOK_SECRET", raising=False)
    text = WEBHOOK.replace(*change)
    assert text != WEBHOOK
    assert main(["run", "--config", str(write(tmp_path, text))]) == 2
    err = capsys.readouterr().err
    assert err.startswith("Configuration error: telegram.") and message in err, err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_the_command_line_says_it_in_its_own_process(tmp_path: Path) -> None:
    path = write(tmp_path, WEBHOOK.replace("https://akses", "http://akses"))
    result = subprocess.run(
        [sys.executable, "-m", "bot", "run", "--config", str(path)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin"},
        check=False,
    )
    assert result.returncode == 2
    assert "telegram.webhook_url must be an https:// address" in result.stderr
    assert "Traceback" not in result.stderr
