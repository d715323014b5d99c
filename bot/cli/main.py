"""Command line: ``python -m bot COMMAND``: run, demo, check, backup, restore, keys, export,
privacy, audit, status, ktp (see --help)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from pathlib import Path
from types import ModuleType

from bot.app import logging_setup, logsafe, runlock
from bot.app.config import Config, ConfigError, example_staff_ids, load_config
from bot.cli import admin, backup, check, keys, ktp
from bot.cli import status as status_cli
from bot.cli.common import fail
from storage.db import REFUSALS

log = logging.getLogger(__name__)


def configure_logging(fmt: str = "text") -> None:
    """INFO for the bot's own lines, WARNING for the chatty libraries, nothing secret."""
    logging_setup.configure(fmt)


def main(argv: list[str] | None = None) -> int:
    # Whatever this process writes (the database and its WAL, KTP copies, exports, the demo's
    # folder) is the bot's user's alone, whichever command it is.
    os.umask(0o077)
    parser = argparse.ArgumentParser(prog="python -m bot", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run the bot against Telegram (or telegram.base_url)")
    run.add_argument("--config", type=Path, default=Path("config.toml"))
    run.add_argument(
        "--log-format", choices=logging_setup.FORMATS, help="overrides [logging] format"
    )
    demo = sub.add_parser("demo", help="run the whole procedure locally, no token, no network")
    demo.add_argument("--script", action="store_true", help="play the scripted walkthrough")
    demo.add_argument(
        "--dir", type=Path, default=Path("demo-data"), help="where the demo keeps its files"
    )
    demo.add_argument("--host", default="127.0.0.1", help="address the page is served on")
    demo.add_argument("--port", type=int, default=8080, help="port of the page (default 8080)")
    export = sub.add_parser("export", help="write the access log of a period")
    export.add_argument("--config", type=Path, default=Path("config.toml"))
    export.add_argument(
        "--from", dest="start", required=True, help="first day, 01-11-2026 or 2026-11-01"
    )
    export.add_argument("--to", dest="end", required=True, help="last day, included")
    export.add_argument("--format", choices=("xlsx", "pdf", "csv"), default="xlsx")
    export.add_argument(
        "--out", help="file to write (default laporan-akses-<period>.<format>; - for stdout)"
    )
    export.add_argument(
        "--force", action="store_true", help="replace the file if it exists already"
    )
    admin.add_parsers(sub)
    status_cli.add_parser(sub)
    check.add_parsers(sub)
    backup.add_parsers(sub)
    keys.add_parsers(sub)
    ktp.add_parsers(sub)
    args = parser.parse_args(argv)
    if args.command == "ktp":
        return ktp.run(args)
    if args.command == "demo":
        os.environ.setdefault("PTB_TIMEDELTA", "1")
        configure_logging("text")
        from demo.app import run_demo

        status: int = run_demo(args.dir, script=args.script, host=args.host, port=args.port)
        return status
    try:
        return _dispatch(args)
    except REFUSALS as exc:  # a database newer than this program, or the wrong key
        return fail(f"{args.command}: {exc}")


def _dispatch(args: argparse.Namespace) -> int:
    if args.command == "export":
        from bot.cli import export as export_cli  # loads the report renderers: only for export

        return export_cli.run(args)
    # PTB 22 reports retry_after as a timedelta only with this set; otherwise it warns.
    os.environ.setdefault("PTB_TIMEDELTA", "1")
    configure_logging(getattr(args, "log_format", None) or "text")
    if args.command in ("privacy", "audit"):
        return admin.run(args)
    if args.command == "status":
        return status_cli.run(args)
    if args.command == "check":
        return check.run(args)
    if args.command in ("backup", "restore"):
        return backup.run(args)
    if args.command == "keys":
        return keys.run(args)
    return _run(args.config, args.log_format)


def _run(path: Path, log_format: str | None = None) -> int:
    try:
        config = load_config(path)
    except ConfigError as exc:
        print(f"Configuration error: {exc}", file=sys.stderr)
        return 2
    # Refused, not warned about: an example id may be a stranger's real account, and a
    # warning scrolls by while the stranger holds a role.
    if examples := example_staff_ids(config):
        listed = ", ".join(str(i) for i in examples)
        print(
            f"Configuration error: staff ids {listed} are the examples from "
            "config.example.toml; put the real Telegram ids of your staff instead",
            file=sys.stderr,
        )
        return 2
    if log_format is None and config.log_format != "text":
        configure_logging(config.log_format)
    logsafe.protect(
        config.token,
        config.signing_secret,
        config.encryption_key,
        config.audit_key,
        *config.previous_signing_secrets,
    )
    if config.webhook is not None:
        logsafe.protect(config.webhook.secret_token)
    warn_if_readable(path)
    from bot.app import build
    from bot.app.intake import HANDLE_DELAY_ENV

    problem = build.unsafe_data_dir(config.data_dir)
    if problem is not None:
        print(problem, file=sys.stderr)
        return 2
    try:
        delay = float(os.environ.get(HANDLE_DELAY_ENV) or 0)
    except ValueError:
        print(f"{HANDLE_DELAY_ENV} must be a number of seconds", file=sys.stderr)
        return 2
    # The folder's lock first: nothing is opened, migrated or written while a key rotation
    # or a restore runs, or under another bot (bot/app/runlock.py).
    try:
        config.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        return fail(f"The bot cannot start: cannot make {config.data_dir}: {exc.strerror or exc}")
    try:
        with runlock.held(config.data_dir, "the bot"):
            return _start(config, build, delay)
    except runlock.Busy as exc:
        return fail(
            f"The bot cannot start: its data folder {config.data_dir} is in use by"
            f" {exc.holder}; one bot per data folder, and none while a key rotation or a"
            " restore runs"
        )
    except runlock.Unusable as exc:
        return fail(f"The bot cannot start: {exc}")


def _start(config: Config, build: ModuleType, delay: float) -> int:
    """Under the data folder's lock: the storage probe, then the bot until it stops."""
    # A wrong key or a database newer than this program stops here, in one line, instead
    # of a bot that starts and then fails on every read.
    try:
        asyncio.run(build.probe_storage(config))
    except REFUSALS as exc:
        return fail(f"The bot cannot start: {exc}")
    try:
        build.run(config, handle_delay=delay)
    except OSError as exc:
        if config.webhook is None:
            raise
        hook = config.webhook
        print(
            f"Cannot serve the webhook on {hook.listen}:{hook.port} "
            f"(telegram.webhook_listen, telegram.webhook_port): {exc.strerror or exc}",
            file=sys.stderr,
        )
        return 2
    return 0


def warn_if_readable(path: Path) -> bool:
    """The config holds secrets: say so when other users can read it."""
    mode = path.stat().st_mode & 0o777
    if not mode & 0o077:
        return False
    log.warning(
        "config file %s is readable by other users (mode %03o); it holds the bot token and "
        "keys: run chmod 600 %s",
        path,
        mode,
        path,
    )
    return True
