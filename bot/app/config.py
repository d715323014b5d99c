"""Configuration: config.toml into frozen dataclasses, validated once at start.

Secrets may come from the environment instead of the file: ``BOT_TOKEN``,
``AKSES_SIGNING_SECRET``, ``AKSES_ENCRYPTION_KEY``, ``AKSES_AUDIT_KEY`` and
``AKSES_WEBHOOK_SECRET`` override the file's values.
"""

from __future__ import annotations

import difflib
import ipaddress
import os
import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import time, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
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
LOG_FORMATS = ("text", "json")
# --- backups and key rotation (issue 11) ---
PREVIOUS_SECRET_ENV = "AKSES_PREVIOUS_SIGNING_SECRET"
NEW_ENCRYPTION_KEY_ENV = "AKSES_NEW_ENCRYPTION_KEY"
# PCI DSS 9.3.4: the visitor log is kept at least three months.
MIN_RECORD_RETENTION_DAYS = 90
# [telegram] mode = "webhook": Telegram posts updates to the office's reverse proxy.
WEBHOOK_SECRET_ENV = "AKSES_WEBHOOK_SECRET"
MIN_WEBHOOK_SECRET_LEN = 32
# https://core.telegram.org/bots/api#setwebhook: secret_token is 1-256 characters,
# only A-Z, a-z, 0-9, _ and -.
_WEBHOOK_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")


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
class Planning:
    """Visits planned ahead (/jadwal, /hari_ini; bot/flows/planning.py)."""

    # A planned visit may be opened at the desk this long before its window starts and
    # after it ends (a visitor stuck in traffic); past that, it expires unused.
    grace_minutes: int = 30
    remind_at: time = time(15, 0)  # office time, the day before: officer and escorts reminded

    @property
    def grace(self) -> timedelta:
        return timedelta(minutes=self.grace_minutes)


@dataclass(frozen=True)
class Webhook:
    """Webhook mode: where the bot listens, what Telegram is told, the shared secret."""

    url: str  # public https URL Telegram posts to (the reverse proxy)
    listen: str  # local address the bot's server binds (the proxy forwards to it)
    port: int
    secret_token: str = field(repr=False)

    @property
    def path(self) -> str:
        """The URL's path: the proxy forwards it unchanged, the bot serves it."""
        return urlsplit(self.url).path or "/"


@dataclass(frozen=True)
class Backup:
    """The daily automatic backup (storage/backup.py); no folder, no daily backup."""

    folder: Path | None = None
    keep: int = 14  # the newest this many backups are kept, older ones deleted
    at: time = time(1, 0)  # office time of day


@dataclass(frozen=True)
class Rules:
    """[rules]: the server-room rules (tata tertib) the visitor reads and agrees to, a
    required step of the form when enabled (bot/core/form.py, the field switched by RULES)."""

    enabled: bool = False
    text: str = ""


RULES_TEXT_MAX = 3000  # the step's message holds the rules and the question (4096 at most)


@dataclass(frozen=True)
class Config:
    # Secrets stay out of repr(), so a logged or printed Config reveals none of them.
    token: str = field(repr=False)
    signing_secret: bytes = field(repr=False)
    data_dir: Path
    staff: tuple[StaffMember, ...]
    encryption_key: bytes = field(repr=False)
    audit_key: bytes = field(repr=False)  # keys the audit chain's HMAC (storage/audit.py)
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
    # Operations (deploy/, docs/operasi.md): how log lines look ("text" or "json").
    log_format: str = "text"
    webhook: Webhook | None = None  # None: long polling (the default)
    # A registration form left unfinished this long is discarded with what it held.
    draft_expiry_hours: int = 24
    source: Path | None = None
    # --- backups and key rotation (issue 11) ---
    backup: Backup = field(default_factory=Backup)
    planning: Planning = field(default_factory=Planning)
    # Earlier signing secrets: badges they signed still verify until they expire; nothing
    # new is signed with them.
    previous_signing_secrets: tuple[bytes, ...] = field(default=(), repr=False)
    rules: Rules = field(default_factory=Rules)  # issue 14, part 6

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


# Every setting this program reads, by section; config.example.toml documents each one, and
# a test keeps the two the same. Anything else in a config is refused: a misspelt key
# (record_retension_days, [privasi]) would otherwise be ignored and its default used.
SETTINGS: dict[str, frozenset[str]] = {
    "telegram": frozenset(
        {
            "token",
            "base_url",
            "base_file_url",
            "proxy",
            "mode",
            "webhook_url",
            "webhook_listen",
            "webhook_port",
            "webhook_secret",
        }
    ),
    "office": frozenset({"name", "timezone"}),
    "storage": frozenset({"data_dir"}),
    "security": frozenset(
        {"signing_secret", "previous_signing_secret", "encryption_key", "audit_key"}
    ),
    "privacy": frozenset({"ktp_retention_days", "record_retention_days"}),
    "badge": frozenset({"entry_window_minutes"}),
    "planning": frozenset({"grace_minutes", "remind_at"}),
    "standards": frozenset(vars(TimeStandards())),
    "reminders": frozenset({"before_minutes", "overstay_repeat_minutes"}),
    "escalation": frozenset({"backup_approvers"}),
    "backup": frozenset({"folder", "keep", "time"}),
    "reports": frozenset({"daily_review_time"}),
    "logging": frozenset({"format"}),
    "drafts": frozenset({"expire_after_hours"}),
    "rules": frozenset({"enabled", "text"}),
    "staff": frozenset({"id", "name", "roles"}),  # [[staff]], one table per person
}


def _known_settings_only(raw: dict[str, Any]) -> None:
    """Refuse a section or key this program does not read, naming the likely one meant."""
    for section, value in raw.items():
        if section not in SETTINGS:
            where = f"[{section}]" if isinstance(value, dict | list) else section
            raise ConfigError(
                f"{where} is not a setting of this program{_meant(section, SETTINGS)}"
                " (config.example.toml lists every one)"
            )
        tables = value if isinstance(value, list) else [value]
        for table in tables:
            if not isinstance(table, dict):
                continue  # the section's own check says what is wrong with it
            for key in table:
                if key not in SETTINGS[section]:
                    raise ConfigError(
                        f"{section}.{key} is not a setting of this program"
                        f"{_meant(key, SETTINGS[section])} (config.example.toml lists every"
                        f" setting of [{section}])"
                    )


def _meant(name: str, known: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.6)
    return f"; did you mean {close[0]}?" if close else ""


def parse_config(
    raw: dict[str, Any], env: dict[str, str], base_dir: Path, source: Path | None = None
) -> Config:
    _known_settings_only(raw)
    telegram = _table(raw, "telegram")
    token = env.get(TOKEN_ENV) or _str(telegram, "telegram.token", "token", required=False)
    if not token:
        raise ConfigError(f"telegram.token is empty (or set the {TOKEN_ENV} environment variable)")
    if ":" not in token:
        raise ConfigError("telegram.token does not look like a bot token (expected 123456:ABC...)")
    base_url = _str(telegram, "telegram.base_url", "base_url", required=False) or None
    base_file_url = _str(telegram, "telegram.base_file_url", "base_file_url", required=False)
    webhook = _webhook(telegram, env)
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

    audit_key = _audit_key(security, env, secret, key_text)

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
        audit_key=audit_key,
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
        log_format=_log_format(_table(raw, "logging")),
        webhook=webhook,
        draft_expiry_hours=_draft_expiry_hours(_table(raw, "drafts")),
        source=source,
        backup=_backup(_table(raw, "backup"), base_dir),
        previous_signing_secrets=_previous_secrets(security, env, secret),
        rules=_rules(_table(raw, "rules")),
        planning=_planning(_table(raw, "planning")),
    )


def _planning(table: dict[str, Any]) -> Planning:
    return Planning(
        grace_minutes=_minutes(table, "planning.grace_minutes", "grace_minutes", 30),
        remind_at=_clock_time(table, "planning.remind_at", "15:00"),
    )


# --- The audit key and the example staff ids (issue 10) ----------------------------------

AUDIT_KEY_ENV = "AKSES_AUDIT_KEY"

# The ids config.example.toml shows (and the escalation example). They are not anybody of
# this office's: a config that still lists one would give a stranger's account a role.
EXAMPLE_STAFF_IDS = frozenset({111111111, 222222222, 333333333, 444444444})


def _audit_key(security: dict[str, Any], env: dict[str, str], secret: str, key: str) -> bytes:
    """A secret of its own: a copy of another key would let whoever holds that one (or a
    database backup encrypted with it) rewrite the audit chain."""
    text = env.get(AUDIT_KEY_ENV) or _str(
        security, "security.audit_key", "audit_key", required=False
    )
    if len(text) < MIN_SECRET_LEN:
        raise ConfigError(
            f"security.audit_key must be at least {MIN_SECRET_LEN} characters "
            f"(or set {AUDIT_KEY_ENV}); generate one with: python -c "
            "'import secrets; print(secrets.token_urlsafe(32))'"
        )
    if text in (secret, key):
        raise ConfigError(
            "security.audit_key must differ from the signing secret and the encryption key"
        )
    return text.encode()


def example_staff_ids(config: Config) -> list[int]:
    """Staff (and backup approver) ids copied from config.example.toml, in config order."""
    ids = [m.user_id for m in config.staff] + list(config.backup_approvers)
    return list(dict.fromkeys(i for i in ids if i in EXAMPLE_STAFF_IDS))


def _log_format(table: dict[str, Any]) -> str:
    value = table.get("format", "text")
    if value not in LOG_FORMATS:
        raise ConfigError(f'logging.format must be "text" or "json", not {value!r}')
    return str(value)


def _webhook(telegram: dict[str, Any], env: dict[str, str]) -> Webhook | None:
    """[telegram] mode and the webhook keys; None in polling mode."""
    mode = _str(telegram, "telegram.mode", "mode", required=False) or "polling"
    if mode not in ("polling", "webhook"):
        raise ConfigError(f'telegram.mode must be "polling" or "webhook", not {mode!r}')
    if mode == "polling":
        return None
    url = _str(telegram, "telegram.webhook_url", "webhook_url", required=False)
    if not url:
        raise ConfigError(
            "telegram.webhook_url is missing: the public https address Telegram sends "
            'updates to, e.g. "https://bot.example.go.id/akses-telegram"'
        )
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname:
        raise ConfigError(
            f"telegram.webhook_url must be an https:// address (Telegram accepts no other), "
            f"not {url!r}"
        )
    if parts.query or parts.fragment:
        raise ConfigError("telegram.webhook_url must not have a query (?) or fragment (#)")
    try:
        public_port = parts.port
    except ValueError:
        raise ConfigError(f"telegram.webhook_url has an invalid port: {url!r}") from None
    if public_port not in (None, 80, 88, 443, 8443):
        raise ConfigError(
            "telegram.webhook_url: Telegram sends webhooks only to ports 443, 80, 88 or 8443"
        )
    listen = _str(telegram, "telegram.webhook_listen", "webhook_listen", required=False)
    listen = listen or "127.0.0.1"
    try:
        ipaddress.ip_address(listen)
    except ValueError:
        raise ConfigError(
            f"telegram.webhook_listen must be an IP address, e.g. 127.0.0.1, not {listen!r}"
        ) from None
    port = telegram.get("webhook_port")
    if port is None:
        raise ConfigError(
            "telegram.webhook_port is missing: the local port the reverse proxy forwards to"
        )
    if not isinstance(port, int) or isinstance(port, bool) or not 1 <= port <= 65535:
        raise ConfigError("telegram.webhook_port must be a port number between 1 and 65535")
    secret = env.get(WEBHOOK_SECRET_ENV) or _str(
        telegram, "telegram.webhook_secret", "webhook_secret", required=False
    )
    generate = "generate one with: python -c 'import secrets; print(secrets.token_urlsafe(32))'"
    if not secret:
        raise ConfigError(
            f"telegram.webhook_secret is missing (or set {WEBHOOK_SECRET_ENV}); {generate}"
        )
    if not _WEBHOOK_SECRET.fullmatch(secret):
        raise ConfigError(
            "telegram.webhook_secret may hold only letters, digits, _ and - "
            f"(at most 256); {generate}"
        )
    if len(secret) < MIN_WEBHOOK_SECRET_LEN:
        raise ConfigError(
            f"telegram.webhook_secret must be at least {MIN_WEBHOOK_SECRET_LEN} characters; "
            f"{generate}"
        )
    return Webhook(url=url, listen=listen, port=port, secret_token=secret)


# --- backups and key rotation (issue 11) ---


def _backup(table: dict[str, Any], base_dir: Path) -> Backup:
    folder_text = table.get("folder", "backups")
    if not isinstance(folder_text, str):
        raise ConfigError('backup.folder must be a string (a folder, or "" for no daily backup)')
    folder: Path | None = None
    if folder_text.strip():
        folder = Path(folder_text.strip())
        if not folder.is_absolute():
            folder = base_dir / folder
    keep = table.get("keep", Backup.keep)
    if not isinstance(keep, int) or isinstance(keep, bool) or not 1 <= keep <= 3650:
        raise ConfigError("backup.keep must be a whole number of backups between 1 and 3650")
    at = _clock_time({"time": table.get("time", "01:00")}, "backup.time")
    return Backup(folder=folder, keep=keep, at=at)


def _previous_secrets(
    security: dict[str, Any], env: dict[str, str], current: str
) -> tuple[bytes, ...]:
    value = env.get(PREVIOUS_SECRET_ENV) or _str(
        security, "security.previous_signing_secret", "previous_signing_secret", required=False
    )
    if not value or value == current:
        return ()
    if len(value) < MIN_SECRET_LEN:
        raise ConfigError(
            f"security.previous_signing_secret must be at least {MIN_SECRET_LEN} characters"
        )
    return (value.encode(),)


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


MAX_DRAFT_EXPIRY_HOURS = 24 * 30


def _draft_expiry_hours(table: dict[str, Any]) -> int:
    """[drafts] expire_after_hours: how long an unfinished form (with the NIK, name and phone
    typed so far) is kept."""
    value = table.get("expire_after_hours", Config.draft_expiry_hours)
    if (
        not isinstance(value, int)
        or isinstance(value, bool)
        or not 1 <= value <= MAX_DRAFT_EXPIRY_HOURS
    ):
        raise ConfigError(
            f"drafts.expire_after_hours must be a whole number of hours between 1 and"
            f" {MAX_DRAFT_EXPIRY_HOURS}"
        )
    return value


def _rules(table: dict[str, Any]) -> Rules:
    """[rules] enabled (false by default) and text: the rules must be written out when on."""
    enabled = table.get("enabled", False)
    if not isinstance(enabled, bool):
        raise ConfigError("rules.enabled must be true or false")
    text = table.get("text", "")
    if not isinstance(text, str):
        raise ConfigError("rules.text must be text")
    text = text.strip()
    if enabled and not text:
        raise ConfigError("rules.enabled is true but rules.text is empty: write the rules")
    if len(text) > RULES_TEXT_MAX:
        raise ConfigError(f"rules.text is longer than {RULES_TEXT_MAX} characters")
    return Rules(enabled, text)


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


def _clock_time(table: dict[str, Any], full_key: str, default: str = "07:30") -> time:
    value = table.get(full_key.rsplit(".", 1)[1], default)
    try:
        hours, minutes = (int(part) for part in str(value).split(":"))
        return time(hours, minutes)
    except ValueError:
        raise ConfigError(f'{full_key} must be a time of day "HH:MM", e.g. "07:30"') from None
