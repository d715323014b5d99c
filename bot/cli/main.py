"""Command line: ``python -m bot run|demo|check|backup|restore|keys|export|privacy|audit``."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from pathlib import Path

from bot.app import logsafe
from bot.app.config import ConfigError, load_config
from bot.cli import admin, backup, check, keys
from bot.cli.common import fail
from storage.db import REFUSALS

log = logging.getLogger(__name__)


# Loggers that say too much at INFO: httpx logs every request URL, and URLs carry the bot
# token; fontTools.subset logs dozens of lines each time fpdf2 embeds a font in a PDF.
QUIET_LOGGERS = ("httpx", "fontTools")


def configure_logging() -> None:
    """INFO for the bot's own lines, WARNING for the chatty libraries, nothing secret."""
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    # No NIK, token, secret or image bytes in any log line, whatever the level.
    logsafe.install()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run the bot against Telegram (or telegram.base_url)")
    run.add_argument("--config", type=Path, default=Path("config.toml"))
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
    export.add_argument("--out", help="file to write (default laporan-akses-<period>.<format>)")
    admin.add_parsers(sub)
    check.add_parsers(sub)
    backup.add_parsers(sub)
    keys.add_parsers(sub)
    args = parser.parse_args(argv)
    if args.command == "demo":
        os.environ.setdefault("PTB_TIMEDELTA", "1")
        configure_logging()
        from demo.app import run_demo

        status: int = run_demo(args.dir, script=args.script, host=args.host, port=args.port)
        return status
    try:
        return _dispatch(args)
    except REFUSALS as exc:  # a database newer than this program, or the wrong key
        return fail(f"{args.command}: {exc}")


def _dispatch(args: argparse.Namespace) -> int:
    if args.command == "export":
        from bot.reports.export import run_cli

        return run_cli(args.config, args.start, args.end, args.format, args.out)
    # PTB 22 reports retry_after as a timedelta only with this set; otherwise it warns.
    os.environ.setdefault("PTB_TIMEDELTA", "1")
    configure_logging()
    if args.command in ("privacy", "audit"):
        return admin.run(args)
    if args.command == "check":
        return check.run(args)
    if args.command in ("backup", "restore"):
        return backup.run(args)
    if args.command == "keys":
        return keys.run(args)
    return _run(args.config)


def _run(path: Path) -> int:
    try:
        config = load_config(path)
    except ConfigError as exc:
        print(f"Configuration error: {exc}", file=sys.stderr)
        return 2
    logsafe.protect(
        config.token,
        config.signing_secret,
        config.encryption_key,
        *config.previous_signing_secrets,
    )
    warn_if_readable(path)
    from bot.app.build import ALLOWED_UPDATES, build_application, probe_storage

    # A wrong key or a database newer than this program stops here, in one line, instead
    # of a bot that starts and then fails on every read.
    try:
        asyncio.run(probe_storage(config))
    except REFUSALS as exc:
        return fail(f"The bot cannot start: {exc}")

    build_application(config).run_polling(allowed_updates=ALLOWED_UPDATES)
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
