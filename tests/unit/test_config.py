"""Config: the example file loads; each bad value gets one clear error naming its key."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from dataclasses import replace
from datetime import time
from pathlib import Path

import pytest

from bot.app.config import SETTINGS, ConfigError, example_staff_ids, load_config
from bot.core.roles import Role, StaffMember

OWN = StaffMember(5, "Budi", frozenset({Role.APPROVER}))

ROOT = Path(__file__).resolve().parents[2]
SECRET = "x" * 40
KEY = "YWtzZXMtdGVzdC1lbmNyeXB0aW9uLWtleS0zMmJ5dGU="
AUDIT = "y" * 40


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


ENV = {
    "BOT_TOKEN": "123:abc",
    "AKSES_SIGNING_SECRET": SECRET,
    "AKSES_ENCRYPTION_KEY": KEY,
    "AKSES_AUDIT_KEY": AUDIT,
}


def uncommented_example(tmp_path: Path) -> Path:
    """config.example.toml with its (commented) example staff block switched on."""
    text = (ROOT / "config.example.toml").read_text(encoding="utf-8")
    staff = ("# [[staff]]", "# id = ", "# name = ", "# roles = ")
    lines = [line[2:] if line.startswith(staff) else line for line in text.splitlines()]
    path = tmp_path / "config.toml"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def test_example_config_ships_no_staff() -> None:
    with pytest.raises(ConfigError, match=r"staff: add at least one \[\[staff\]\] entry"):
        load_config(ROOT / "config.example.toml", env=ENV)


def test_example_config_loads_with_secrets_from_environment(tmp_path: Path) -> None:
    config = load_config(uncommented_example(tmp_path), env=ENV)
    assert config.audit_key == AUDIT.encode()
    assert config.token == "123:abc"
    assert config.signing_secret == SECRET.encode()
    assert config.encryption_key == KEY.encode()
    assert config.privacy.ktp_retention_days == 30
    assert config.privacy.record_retention_days == 365
    assert {m.name for m in config.with_role("approver")} == {"Budi Kepala Seksi"}
    assert config.standards.decision == 10
    assert config.data_dir == tmp_path / "data"
    # The example's ids are flagged, and `run` refuses them (they may be strangers' accounts).
    assert example_staff_ids(config) == [111111111, 222222222, 333333333]
    assert example_staff_ids(replace(config, staff=(*config.staff[:1], OWN))) == [111111111]
    assert example_staff_ids(replace(config, staff=(OWN,))) == []


def test_run_refuses_the_example_staff_ids(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot", "run", "--config", str(uncommented_example(tmp_path))],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", **ENV},
        check=False,
        timeout=60,
    )
    assert result.returncode == 2
    assert "111111111, 222222222, 333333333" in result.stderr
    assert "config.example.toml" in result.stderr and "Traceback" not in result.stderr


VALID = f"""
[telegram]
token = "123:abc"
[security]
signing_secret = "{SECRET}"
encryption_key = "{KEY}"
audit_key = "{AUDIT}"
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
        ((f'audit_key = "{AUDIT}"', 'audit_key = "short"'), "security.audit_key"),
        ((f'audit_key = "{AUDIT}"', ""), "AKSES_AUDIT_KEY"),
        ((f'audit_key = "{AUDIT}"', f'audit_key = "{SECRET}"'), "must differ"),
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
    assert AUDIT not in text


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


@pytest.mark.parametrize("value", ["0", "721", "1.5", '"24"', "true"])
def test_draft_expiry_must_be_whole_hours_in_range(tmp_path: Path, value: str) -> None:
    text = VALID.replace("[[staff]]", f"[drafts]\nexpire_after_hours = {value}\n[[staff]]")
    with pytest.raises(ConfigError, match=r"drafts\.expire_after_hours"):
        load_config(write(tmp_path, text), env={})


def test_draft_expiry_defaults_to_a_day_and_can_be_set(tmp_path: Path) -> None:
    assert load_config(write(tmp_path, VALID), env={}).draft_expiry_hours == 24
    text = VALID.replace("[[staff]]", "[drafts]\nexpire_after_hours = 8\n[[staff]]")
    assert load_config(write(tmp_path, text), env={}).draft_expiry_hours == 8


# --- backups and key rotation (issue 11) ---

PREVIOUS = "y" * 40


def test_backup_and_previous_secret_settings(tmp_path: Path) -> None:
    env = {
        "BOT_TOKEN": "123:abc",
        "AKSES_SIGNING_SECRET": SECRET,
        "AKSES_ENCRYPTION_KEY": KEY,
        "AKSES_AUDIT_KEY": AUDIT,
    }
    # The example's staff are commented out (issue 10): one real member is added here.
    staff = '\n[[staff]]\nid = 5\nname = "Budi"\nroles = ["approver"]\n'
    example_text = (ROOT / "config.example.toml").read_text() + staff
    example = load_config(write(tmp_path, example_text), env=env)
    assert example.backup.folder == tmp_path / "backups" and example.backup.keep == 14
    assert example.previous_signing_secrets == ()
    text = VALID.replace(
        "[security]\n",
        f'[backup]\nfolder = ""\n[security]\nprevious_signing_secret = "{PREVIOUS}"\n',
    )
    config = load_config(write(tmp_path, text), env={})
    assert config.backup.folder is None  # no daily backup
    assert config.previous_signing_secrets == (PREVIOUS.encode(),)
    env = {"AKSES_PREVIOUS_SIGNING_SECRET": "z" * 40}
    assert load_config(write(tmp_path, VALID), env=env).previous_signing_secrets == (b"z" * 40,)


@pytest.mark.parametrize(
    ("extra", "key"),
    [
        ("[backup]\nkeep = 0\n", "backup.keep"),
        ('[backup]\ntime = "25h"\n', "backup.time"),
        ("[backup]\nfolder = 3\n", "backup.folder"),
        ('previous_signing_secret = "short"\n', "security.previous_signing_secret"),
    ],
)
def test_bad_backup_and_previous_secret_settings(tmp_path: Path, extra: str, key: str) -> None:
    if extra.startswith("["):
        text = extra + VALID
    else:
        text = VALID.replace("[security]\n", "[security]\n" + extra)
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        load_config(write(tmp_path, text), env={})


def test_proxy_is_an_http_url_or_absent(tmp_path: Path) -> None:
    """Issue 13: the Bot API proxy comes from telegram.proxy (else the environment)."""

    def with_proxy(value: str) -> str | None:
        text = VALID.replace('token = "123:abc"', f'token = "123:abc"\nproxy = "{value}"', 1)
        return load_config(write(tmp_path, text), env={}).proxy

    assert with_proxy("") is None
    assert with_proxy("http://10.0.0.1:3128") == "http://10.0.0.1:3128"
    with pytest.raises(ConfigError, match=r"telegram\.proxy"):
        with_proxy("socks5://10.0.0.1:1080")


def test_rules_are_off_by_default_and_need_their_text_when_on(tmp_path: Path) -> None:
    assert not load_config(write(tmp_path, VALID), env={}).rules.enabled
    on = VALID.replace(
        "[[staff]]", '[rules]\nenabled = true\ntext = """\n1. Tertib.\n"""\n[[staff]]'
    )
    rules = load_config(write(tmp_path, on), env={}).rules
    assert rules.enabled and rules.text == "1. Tertib."
    for table in ("enabled = true", 'enabled = "ya"\ntext = "x"', f'text = "{"x" * 3001}"'):
        text = VALID.replace("[[staff]]", f"[rules]\n{table}\n[[staff]]")
        with pytest.raises(ConfigError, match=r"rules\."):
            load_config(write(tmp_path, text), env={})


# --- visits planned ahead (issue 14) ---


def test_planning_defaults_and_settings(tmp_path: Path) -> None:
    planning = load_config(write(tmp_path, VALID), env={}).planning
    assert (planning.grace_minutes, planning.remind_at) == (30, time(15, 0))
    settings = '[planning]\ngrace_minutes = 45\nremind_at = "16:30"\n'
    text = VALID.replace("[[staff]]", f"{settings}[[staff]]")
    planning = load_config(write(tmp_path, text), env={}).planning
    assert (planning.grace_minutes, planning.remind_at) == (45, time(16, 30))


@pytest.mark.parametrize(
    ("extra", "key"),
    [
        ("grace_minutes = 0", "planning.grace_minutes"),
        ('grace_minutes = "30"', "planning.grace_minutes"),
        ('remind_at = "25:00"', "planning.remind_at"),
        ('remind_at = "sore"', "planning.remind_at"),
    ],
)
def test_bad_planning_settings_name_their_key(tmp_path: Path, extra: str, key: str) -> None:
    text = VALID.replace("[[staff]]", f"[planning]\n{extra}\n[[staff]]")
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        load_config(write(tmp_path, text), env={})


def test_every_setting_read_is_in_the_example_and_no_other(tmp_path: Path) -> None:
    """SETTINGS (what the program accepts) and config.example.toml (what the admin reads)
    name the same sections and keys: a new setting documented nowhere, or an example key the
    program would refuse, fails here."""
    example = tomllib.loads(uncommented_example(tmp_path).read_text(encoding="utf-8"))
    documented = {
        section: frozenset(key for table in (v if isinstance(v, list) else [v]) for key in table)
        for section, v in example.items()
    }
    assert documented == SETTINGS


@pytest.mark.parametrize(
    ("typo", "says"),
    [
        (
            "[privasi]\nktp_retention_days = 7\n",
            "[privasi] is not a setting of this program; did you mean privacy?",
        ),
        (
            "[privacy]\nrecord_retension_days = 400\n",
            "privacy.record_retension_days is not a setting of this program; did you mean"
            " record_retention_days?",
        ),
        ("[backups]\nfolder = '/mnt/x'\n", "[backups] is not a setting; did you mean backup?"),
        ("[[staff]]\nid = 5\nname = 'Budi'\nrole = ['approver']\n", "staff.role is not a"),
        ("retention = 7\n", "retention is not a setting of this program"),
    ],
)
def test_a_misspelt_section_or_key_is_refused_naming_the_one_meant(
    tmp_path: Path, typo: str, says: str
) -> None:
    """A typo used to be ignored: KTP photos kept 30 days when the admin wrote 7."""
    staff = "[[staff]]\nid = 7\nname = 'Sari'\nroles = ['officer']\n"
    path = write(tmp_path, typo if typo.startswith("[[") else typo + "\n" + staff)
    with pytest.raises(ConfigError) as refused:
        load_config(path, env=ENV)
    message = str(refused.value)
    assert all(part in message for part in says.split("; ")), message
