"""Configuration: config.toml into frozen dataclasses, validated once at start.

Secrets may come from the environment instead of the file: ``BOT_TOKEN``,
``AKSES_SIGNING_SECRET`` and ``AKSES_ENCRYPTION_KEY`` override the file's values.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from datetime import time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.core.policy import Act, may
from bot.core.roles import Role, StaffMember, role_named
from bot.core.standards import TimeStandards
from bot.texts import badge as badge_texts
from storage.crypto import check_key

TOKEN_ENV = "BOT_TOKEN"
SECRET_ENV = "AKSES_SIGNING_SECRET"
MIN_SECRET_LEN = 32
ENCRYPTION_KEY_ENV = "AKSES_ENCRYPTION_KEY"
# PCI DSS 9.3.4: the visitor log is kept at least three months.
MIN_RECORD_RETENTION_DAYS = 90


class ConfigError(Exception):
    """A missing or invalid setting; the message names the key."""


@dataclass(frozen=True)
class Reminders:
    """When the time standards are enforced (bot/flows/deadlines.py), in minutes."""

    before_minutes: int = 2  # approvers are reminded this long before the decision standard
    overstay_repeat_minutes: int = 10  # between overstay alerts, until check-out


@dataclass(frozen=True)
class Privacy:
    """How long citizens' data is kept (UU 27/2022), in days from the visit's submission."""

    ktp_retention_days: int = 30  # then the encrypted KTP photo is deleted
    record_retention_days: int = 365  # then name, NIK and phone are removed from the log


@dataclass(frozen=True)
class Config:
    # Secrets stay out of repr(), so a logged or printed Config reveals none of them.
    token: str = field(repr=False)
    signing_secret: bytes = field(repr=False)
    data_dir: Path
    staff: tuple[StaffMember, ...]
    encryption_key: bytes = field(repr=False)
    base_url: str | None = None
    base_file_url: str | None = None
    proxy: str | None = None  # http(s) proxy for the Bot API; else HTTPS_PROXY/ALL_PROXY
    office_name: str = badge_texts.DEFAULT_OFFICE
    timezone: ZoneInfo = field(default_factory=lambda: ZoneInfo("Asia/Jakarta"))
    entry_window_minutes: int = 60
    standards: TimeStandards = field(default_factory=TimeStandards)
    privacy: Privacy = field(default_factory=Privacy)
    reminders: Reminders = field(default_factory=Reminders)
    # Approvers who get a request only once it missed its decision standard (escalation).
    backup_approvers: tuple[int, ...] = ()
    daily_review_time: time = time(7, 30)  # office time of the approvers' daily review
    source: Path | None = None

    @property
    def database_path(self) -> Path:
        return self.data_dir / "akses.sqlite3"

    def member(self, user_id: int | None) -> StaffMember | None:
        for member in self.staff:
            if member.user_id == user_id:
                return member
        return None

    def with_role(self, role: Role) -> list[StaffMember]:
        return [m for m in self.staff if m.has(role)]


def load_config(path: Path | str, env: dict[str, str] | None = None) -> Config:
    """Read and validate a config file; raise ConfigError naming the bad key."""
    path = Path(path)
    env = dict(os.environ) if env is None else env
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(
            f"config file not found: {path} (copy config.example.toml to config.toml)"
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    return parse_config(raw, env, base_dir=path.parent, source=path)


def parse_config(
    raw: dict[str, Any], env: dict[str, str], base_dir: Path, source: Path | None = None
) -> Config:
    telegram = _table(raw, "telegram")
    token = env.get(TOKEN_ENV) or _str(telegram, "telegram.token", "token", required=False)
    if not token:
        raise ConfigError(f"telegram.token is empty (or set the {TOKEN_ENV} environment variable)")
    if ":" not in token:
        raise ConfigError("telegram.token does not look like a bot token (expected 123456:ABC...)")
    base_url = _str(telegram, "telegram.base_url", "base_url", required=False) or None
    base_file_url = _str(telegram, "telegram.base_file_url", "base_file_url", required=False)
    # Proxy for the Bot API (issue 13); the environment's HTTPS_PROXY/ALL_PROXY otherwise.
    proxy = _str(telegram, "telegram.proxy", "proxy", required=False) or None
    if proxy is not None and not proxy.startswith(("http://", "https://")):
        raise ConfigError(
            "telegram.proxy must be an http:// or https:// URL, e.g. http://10.0.0.1:3128"
        )

    security = _table(raw, "security")
    secret = env.get(SECRET_ENV) or _str(
        security, "security.signing_secret", "signing_secret", required=False
    )
    if len(secret) < MIN_SECRET_LEN:
        raise ConfigError(
            f"security.signing_secret must be at least {MIN_SECRET_LEN} characters "
            f"(or set {SECRET_ENV}); generate one with: python -c "
            "'import secrets; print(secrets.token_urlsafe(32))'"
        )

    key_text = env.get(ENCRYPTION_KEY_ENV) or _str(
        security, "security.encryption_key", "encryption_key", required=False
    )
    try:
        encryption_key = check_key(key_text)
    except ValueError:
        raise ConfigError(
            "security.encryption_key must be a Fernet key (32 bytes, url-safe base64; "
            f"or set {ENCRYPTION_KEY_ENV}); generate one with: python -c "
            "'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'"
        ) from None

    storage = _table(raw, "storage")
    data_dir = Path(_str(storage, "storage.data_dir", "data_dir", required=False) or "data")
    if not data_dir.is_absolute():
        data_dir = base_dir / data_dir

    office = _table(raw, "office")
    tz_name = _str(office, "office.timezone", "timezone", required=False) or "Asia/Jakarta"
    try:
        tz = ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"office.timezone: unknown time zone {tz_name!r}") from None

    badge = _table(raw, "badge")
    std = _table(raw, "standards")
    standards = TimeStandards(
        **{
            name: _minutes(std, f"standards.{name}", name, default)
            for name, default in vars(TimeStandards()).items()
        }
    )
    staff = _staff(raw)
    return Config(
        token=token,
        signing_secret=secret.encode(),
        data_dir=data_dir,
        staff=staff,
        encryption_key=encryption_key,
        base_url=base_url,
        base_file_url=base_file_url or None,
        proxy=proxy,
        office_name=_str(office, "office.name", "name", required=False) or Config.office_name,
        timezone=tz,
        entry_window_minutes=_minutes(
            badge, "badge.entry_window_minutes", "entry_window_minutes", 60
        ),
        standards=standards,
        privacy=_privacy(_table(raw, "privacy")),
        reminders=_reminders(_table(raw, "reminders"), standards),
        backup_approvers=_backup_approvers(_table(raw, "escalation"), staff),
        daily_review_time=_clock_time(_table(raw, "reports"), "reports.daily_review_time"),
        source=source,
    )


def _privacy(table: dict[str, Any]) -> Privacy:
    def days(key: str, default: int) -> int:
        value = table.get(key, default)
        if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 36500:
            raise ConfigError(f"privacy.{key} must be a whole number of days (1 or more)")
        return value

    ktp = days("ktp_retention_days", Privacy.ktp_retention_days)
    record = days("record_retention_days", Privacy.record_retention_days)
    if record < MIN_RECORD_RETENTION_DAYS:
        raise ConfigError(
            f"privacy.record_retention_days must be at least {MIN_RECORD_RETENTION_DAYS}: "
            "the access log must be kept three months"
        )
    if ktp > record:
        raise ConfigError(
            "privacy.ktp_retention_days cannot be longer than privacy.record_retention_days"
        )
    return Privacy(ktp_retention_days=ktp, record_retention_days=record)


def _staff(raw: dict[str, Any]) -> tuple[StaffMember, ...]:
    entries = raw.get("staff")
    if not isinstance(entries, list) or not entries:
        raise ConfigError("staff: add at least one [[staff]] entry (id, name, roles)")
    members: list[StaffMember] = []
    seen: set[int] = set()
    for i, entry in enumerate(entries):
        key = f"staff[{i}]"
        if not isinstance(entry, dict):
            raise ConfigError(f"{key}: must be a table with id, name and roles")
        user_id = entry.get("id")
        if not isinstance(user_id, int) or isinstance(user_id, bool) or user_id <= 0:
            raise ConfigError(f"{key}.id must be the person's numeric Telegram user id")
        if user_id in seen:
            raise ConfigError(f"{key}.id {user_id} appears twice")
        seen.add(user_id)
        name = _str(entry, f"{key}.name", "name", required=True)
        members.append(StaffMember(user_id, name, _roles(entry.get("roles"), key)))
    if not any(may(m, Act.DECIDE) for m in members):
        raise ConfigError(
            f"staff: nobody has the {Role.APPROVER.value!r} role, so no request could be decided"
        )
    return tuple(members)


def _roles(names: object, key: str) -> frozenset[Role]:
    """The one place role names from the config become Roles."""
    known = ", ".join(Role)
    if not isinstance(names, list) or not names:
        raise ConfigError(f"{key}.roles must list at least one of {known}")
    roles = [role_named(n) if isinstance(n, str) else None for n in names]
    if None in roles:
        unknown = names[roles.index(None)]
        raise ConfigError(f"{key}.roles: unknown role {unknown!r} (use {known})")
    return frozenset(r for r in roles if r is not None)


def _table(raw: dict[str, Any], key: str) -> dict[str, Any]:
    value = raw.get(key, {})
    if not isinstance(value, dict):
        raise ConfigError(f"{key} must be a table ([{key}])")
    return value


def _str(table: dict[str, Any], full_key: str, key: str, *, required: bool) -> str:
    value = table.get(key)
    if value is None:
        if required:
            raise ConfigError(f"{full_key} is missing")
        return ""
    if not isinstance(value, str):
        raise ConfigError(f"{full_key} must be a string")
    if required and not value.strip():
        raise ConfigError(f"{full_key} is empty")
    return value.strip()


def _minutes(table: dict[str, Any], full_key: str, key: str, default: int) -> int:
    value = table.get(key, default)
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 24 * 60:
        raise ConfigError(f"{full_key} must be a whole number of minutes between 1 and 1440")
    return value


def _reminders(table: dict[str, Any], standards: TimeStandards) -> Reminders:
    before = _minutes(table, "reminders.before_minutes", "before_minutes", 2)
    if before >= standards.decision:
        raise ConfigError(
            "reminders.before_minutes must be less than standards.decision "
            f"({standards.decision}), or the reminder would come after the deadline"
        )
    repeat = _minutes(table, "reminders.overstay_repeat_minutes", "overstay_repeat_minutes", 10)
    return Reminders(before_minutes=before, overstay_repeat_minutes=repeat)


def _backup_approvers(table: dict[str, Any], staff: tuple[StaffMember, ...]) -> tuple[int, ...]:
    """Backups must be staff with the approver role: the role is what authorises a decision."""
    ids = table.get("backup_approvers", [])
    key = "escalation.backup_approvers"
    if not isinstance(ids, list) or not all(
        isinstance(i, int) and not isinstance(i, bool) for i in ids
    ):
        raise ConfigError(f"{key} must be a list of Telegram user ids, e.g. [222222222]")
    members = {m.user_id: m for m in staff}
    for user_id in ids:
        member = members.get(user_id)
        if member is None:
            raise ConfigError(f"{key}: {user_id} is not in the [[staff]] list")
        if not may(member, Act.DECIDE):
            raise ConfigError(
                f"{key}: {member.name} ({user_id}) needs the {Role.APPROVER.value!r} role"
            )
    if all(m.user_id in ids for m in staff if may(m, Act.DECIDE)):
        raise ConfigError(f"{key}: at least one approver must not be a backup")
    return tuple(dict.fromkeys(ids))


def _clock_time(table: dict[str, Any], full_key: str) -> time:
    value = table.get(full_key.rsplit(".", 1)[1], "07:30")
    try:
        hours, minutes = (int(part) for part in str(value).split(":"))
        return time(hours, minutes)
    except ValueError:
        raise ConfigError(f'{full_key} must be a time of day "HH:MM", e.g. "07:30"') from None
