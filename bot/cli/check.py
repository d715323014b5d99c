"""``python -m bot check --config C``: everything that would stop the bot, before it starts.

One line per finding: ``ERROR ...`` for what must be fixed (the exit status is then 1),
``WARNING ...`` for what deserves a look, ``OK ...`` for what was verified. It reads the
database read-only and asks Telegram (or telegram.base_url) who the bot is; it changes
nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import math
import os
import string
import tomllib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import aiosqlite
from telegram import Bot
from telegram.error import InvalidToken, NetworkError, TelegramError
from telegram.request import HTTPXRequest

from bot.app.config import (
    AUDIT_KEY_ENV,
    ENCRYPTION_KEY_ENV,
    MIN_SECRET_LEN,
    SECRET_ENV,
    TOKEN_ENV,
    Config,
    ConfigError,
    load_config,
)
from storage.audit import WrongAuditKey, verify_audit_key
from storage.crypto import Cipher
from storage.keys import ENCRYPTED_FILES, WrongKey, verify_key
from storage.migrations import HEAD, schema_version

EXPECTED_TIMEZONE = "Asia/Jakarta"  # the office is in Lumajang (WIB)
# The ids config.example.toml ships with; a real deployment lists its own staff.
EXAMPLE_STAFF_IDS = frozenset({111111111, 222222222, 333333333})
EXAMPLE_CONFIG = Path(__file__).resolve().parents[2] / "config.example.toml"
MIN_SECRET_BITS = 128  # estimated from the characters' frequencies
MIN_DISTINCT = 16


@dataclass
class Findings:
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    passed: list[str] = field(default_factory=list)


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    check = sub.add_parser("check", help="pre-flight check of config, keys, data folder, Telegram")
    check.add_argument("--config", type=Path, default=Path("config.toml"))


def run(args: argparse.Namespace) -> int:
    findings = asyncio.run(check(args.config))
    for line in findings.passed:
        print(f"OK      {line}")
    for line in findings.warnings:
        print(f"WARNING {line}")
    for line in findings.errors:
        print(f"ERROR   {line}")
    print(f"check: {len(findings.errors)} error(s), {len(findings.warnings)} warning(s)")
    return 1 if findings.errors else 0


async def check(path: Path) -> Findings:
    found = Findings()
    try:
        config = load_config(path)
    except ConfigError as exc:
        found.errors.append(f"config: {exc}")
        return found
    found.passed.append(f"config {path} is valid")
    if config.source and config.source.stat().st_mode & 0o077:
        if _secrets_in(config.source):
            found.warnings.append(
                f"config: {path} holds secrets and other users may read it: chmod 600"
            )
        else:
            found.passed.append(f"config {path} holds no secrets (they come from the environment)")
    _secrets(config, found)
    _staff(config, found)
    _timezone(config, found)
    if _data_folder(config, found):
        await _database(config, found)
    _backup_folder(config, found)
    await _telegram(config, found)
    return found


# --- secrets ----------------------------------------------------------------------------

_SECRET_KEYS = {
    "telegram": ("token", "webhook_secret"),
    "security": ("signing_secret", "previous_signing_secret", "encryption_key", "audit_key"),
}


def _secrets_in(path: Path) -> bool:
    """Whether the config file itself holds a secret (not only the environment)."""
    raw = tomllib.loads(path.read_text(encoding="utf-8"))
    return any(
        isinstance(table := raw.get(section), dict) and any(table.get(key) for key in keys)
        for section, keys in _SECRET_KEYS.items()
    )


def _example_values() -> dict[str, str]:
    """The secrets config.example.toml ships with (none may be used for real)."""
    try:
        raw = tomllib.loads(EXAMPLE_CONFIG.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError):
        return {}
    values = {
        "telegram.token": raw.get("telegram", {}).get("token", ""),
        "security.signing_secret": raw.get("security", {}).get("signing_secret", ""),
        "security.encryption_key": raw.get("security", {}).get("encryption_key", ""),
        "security.audit_key": raw.get("security", {}).get("audit_key", ""),
    }
    return {k: v for k, v in values.items() if isinstance(v, str) and v.strip()}


def weak_secret(secret: str) -> str | None:
    """Why a text secret is too weak to sign badges, or None."""
    if len(secret) < MIN_SECRET_LEN:
        return f"shorter than {MIN_SECRET_LEN} characters"
    if len(set(secret)) < MIN_DISTINCT:
        return f"fewer than {MIN_DISTINCT} different characters"
    for size in range(1, len(secret) // 2 + 1):
        if secret == secret[:size] * (len(secret) // size) + secret[: len(secret) % size]:
            return "a repeated pattern"
    counts = Counter(secret)
    bits = -sum(n * math.log2(n / len(secret)) for n in counts.values())
    if bits < MIN_SECRET_BITS:
        return f"about {bits:.0f} bits of entropy, fewer than {MIN_SECRET_BITS}"
    return None


def weak_key(key: bytes) -> str | None:
    """Why a Fernet key does not look randomly generated, or None."""
    raw = base64.urlsafe_b64decode(key)
    if all(chr(b) in string.printable for b in raw):
        return "its 32 bytes are readable text, not random bytes"
    if len(set(raw)) < MIN_DISTINCT:
        return f"fewer than {MIN_DISTINCT} different bytes"
    return None


def _secrets(config: Config, found: Findings) -> None:
    generate_secret = "python -c 'import secrets; print(secrets.token_urlsafe(32))'"
    generate_key = (
        "python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'"
    )
    current = {
        "telegram.token": config.token,
        "security.signing_secret": config.signing_secret.decode(),
        "security.encryption_key": config.encryption_key.decode(),
        "security.audit_key": config.audit_key.decode(),
    }
    examples = _example_values()
    bad = False
    for name, value in current.items():
        if examples.get(name) == value:
            found.errors.append(f"secrets: {name} is the example value from config.example.toml")
            bad = True
    why = weak_secret(current["security.signing_secret"])
    if why:
        found.errors.append(
            f"secrets: security.signing_secret ({SECRET_ENV}) is too weak: {why}; "
            f"generate one with: {generate_secret}"
        )
        bad = True
    why = weak_secret(current["security.audit_key"])
    if why:
        found.errors.append(
            f"secrets: security.audit_key ({AUDIT_KEY_ENV}) is too weak: {why}; "
            f"generate one with: {generate_secret} (only on a new database: the audit chain"
            " is keyed with it)"
        )
        bad = True
    why = weak_key(config.encryption_key)
    if why:
        found.errors.append(
            f"secrets: security.encryption_key ({ENCRYPTION_KEY_ENV}) is too weak: {why}; "
            f"generate one with: {generate_key} (then keys rotate, see docs/operasi.md)"
        )
        bad = True
    if config.signing_secret == config.encryption_key:
        found.errors.append("secrets: the signing secret and the encryption key are the same")
        bad = True
    if not bad:
        found.passed.append(
            f"secrets: token ({TOKEN_ENV}), signing secret, encryption key and audit key set"
        )


# --- staff, time zone -------------------------------------------------------------------


def _staff(config: Config, found: Findings) -> None:
    example = sorted(m.user_id for m in config.staff if m.user_id in EXAMPLE_STAFF_IDS)
    if example:
        ids = ", ".join(str(i) for i in example)
        found.errors.append(
            f"staff: {ids} are the example ids from config.example.toml; list your staff's "
            "own Telegram ids (a stranger who writes to the bot is told theirs)"
        )
    else:
        found.passed.append(f"staff: {len(config.staff)} member(s)")


def _timezone(config: Config, found: Findings) -> None:
    name = config.timezone.key
    if name != EXPECTED_TIMEZONE:
        found.warnings.append(
            f"office.timezone is {name}, not {EXPECTED_TIMEZONE} (WIB) where this office is: "
            "times in messages, on badges and in the access log use it"
        )
    else:
        found.passed.append(f"office.timezone {name}")


# --- data folder and database -----------------------------------------------------------


def _data_folder(config: Config, found: Findings) -> bool:
    """Check the folder's owner and permissions; True when there is a database to open."""
    folder = config.data_dir
    if not folder.exists():
        parent = next(p for p in folder.parents if p.exists())
        if not os.access(parent, os.W_OK | os.X_OK):
            found.errors.append(
                f"data folder: {folder} does not exist and {parent} is not writable"
            )
        else:
            found.warnings.append(
                f"data folder: {folder} does not exist yet; the bot creates it (mode 0700)"
            )
        return False
    if not folder.is_dir():
        found.errors.append(f"data folder: {folder} is not a folder")
        return False
    ok = True
    info = folder.stat()
    if info.st_uid != os.geteuid():
        found.errors.append(
            f"data folder: {folder} belongs to user id {info.st_uid}, not to the user running "
            f"this ({os.geteuid()}): chown it to the bot's user"
        )
        ok = False
    if info.st_mode & 0o077:
        found.errors.append(
            f"data folder: {folder} is open to other users (mode {info.st_mode & 0o777:03o}); "
            f"it holds citizens' data: chmod 700 {folder}"
        )
        ok = False
    if not os.access(folder, os.W_OK | os.X_OK):
        found.errors.append(f"data folder: {folder} is not writable by this user")
        ok = False
    files = [Path(f"{config.database_path}{s}") for s in ("", "-wal", "-shm")]
    files += [p for pattern in ENCRYPTED_FILES for p in folder.glob(pattern)]
    for file in (f for f in files if f.exists()):
        if file.stat().st_mode & 0o077:
            found.errors.append(
                f"data folder: {file} is open to other users "
                f"(mode {file.stat().st_mode & 0o777:03o}): chmod 600 {file}"
            )
            ok = False
    if ok:
        found.passed.append(f"data folder {folder} (0700, owned by this user)")
    if not config.database_path.exists():
        found.warnings.append(
            f"database: none at {config.database_path} yet; the bot creates it at first start"
        )
        return False
    return True


def _backup_folder(config: Config, found: Findings) -> None:
    """The daily backup's folder: there (or creatable) and writable by the bot's user, or
    every night's backup fails and only the log says so."""
    folder = config.backup.folder
    if folder is None:
        found.warnings.append("backup: no [backup] folder, so no daily backup is made")
        return
    existing = folder if folder.exists() else next(p for p in folder.parents if p.exists())
    if not existing.is_dir():
        found.errors.append(f"backup: {existing} is not a folder (backup.folder = {folder})")
        return
    if not os.access(existing, os.W_OK | os.X_OK):
        where = "" if existing == folder else f" does not exist and {existing}"
        found.errors.append(
            f"backup: {folder}{where} is not writable by this user, so every daily backup"
            " would fail: create it for the bot's user (mode 0700) or set backup.folder"
        )
        return
    if existing != folder:
        found.warnings.append(f"backup: {folder} does not exist yet; the bot creates it")
        return
    found.passed.append(f"backup folder {folder} is writable")


async def _database(config: Config, found: Findings) -> None:
    uri = f"{config.database_path.resolve().as_uri()}?mode=ro"
    try:
        async with aiosqlite.connect(uri, uri=True) as db:
            version = await schema_version(db)
            if version > HEAD:
                found.errors.append(
                    f"database: schema version {version} is newer than this program's {HEAD}; "
                    "install the version that wrote it"
                )
                return
            if version < HEAD:
                # Columns the key check reads may not exist yet: the bot migrates at start.
                found.passed.append(
                    f"database schema {version} of {HEAD}: upgraded when the bot starts"
                    " (make a backup first)"
                )
                found.warnings.append(
                    "encryption key: checked when the bot starts and upgrades the database"
                    " (a wrong key stops it there, in one line)"
                )
                return
            await verify_key(db, Cipher(config.encryption_key))
            audit_known = await verify_audit_key(db, config.audit_key)
    except WrongKey as exc:
        found.errors.append(f"encryption key: {exc}")
        return
    except WrongAuditKey as exc:
        found.errors.append(f"audit key: {exc}")
        return
    except aiosqlite.Error as exc:
        found.errors.append(f"database: {config.database_path} cannot be read: {exc}")
        return
    found.passed.append(f"encryption key matches the database (schema {version} of {HEAD})")
    if audit_known:
        found.passed.append("audit key matches the database's audit chain")


# --- Telegram ---------------------------------------------------------------------------


async def _telegram(config: Config, found: Findings) -> None:
    bot = Bot(
        config.token,
        base_url=config.base_url or "https://api.telegram.org/bot",
        request=HTTPXRequest(connect_timeout=5, read_timeout=10),
        get_updates_request=HTTPXRequest(connect_timeout=5, read_timeout=10),
    )
    where = config.base_url or "api.telegram.org"
    try:
        await bot.initialize()  # calls getMe
    except InvalidToken:
        found.errors.append(
            f"telegram: {where} refused the bot token (getMe: Unauthorized); check "
            f"telegram.token or {TOKEN_ENV} against @BotFather"
        )
        return
    except NetworkError as exc:  # TimedOut is one
        found.errors.append(f"telegram: {where} is not reachable (getMe: {exc})")
        return
    except TelegramError as exc:
        found.errors.append(f"telegram: getMe failed at {where}: {exc}")
        return
    try:
        found.passed.append(f"telegram: the token belongs to @{bot.username}")
        if config.base_url:
            found.warnings.append(
                f"telegram: base_url is {config.base_url}, not Telegram's own server"
            )
    finally:
        await bot.shutdown()
