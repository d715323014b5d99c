"""Admin commands: ``python -m bot privacy export|erase NIK``, ``python -m bot audit verify|head``.

Each opens the database of the given config (the bot may keep running: SQLite in WAL
mode serialises the writes). Export and erasure are recorded in the audit log with the
NIK masked; the full NIK is never written there.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import re
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.app.config import Config, ConfigError, load_config
from bot.cli.common import fail
from bot.cli.output import CannotWrite, output_file
from bot.core.nik import mask_nik, normalise_nik
from bot.flows import privacy
from bot.texts import privacy as privacy_texts
from storage import audit
from storage.crypto import Cipher
from storage.db import Storage

_NIK_HELP = (
    "the NIK; '-' or nothing (recommended) reads it from the terminal without echo, or from"
    " the first line of standard input, so it stays out of shell history, sudo's log and ps"
)
ON_COMMAND_LINE = (
    "warning: a NIK on the command line stays in the shell's history, sudo's log and ps;"
    " next time leave it out and type it when asked"
)


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    data = sub.add_parser("privacy", help="export or erase one person's data (UU 27/2022)")
    actions = data.add_subparsers(dest="action", required=True)
    export = actions.add_parser("export", help="everything stored about one NIK, as JSON")
    export.add_argument("nik", nargs="?", default="-", help=_NIK_HELP)
    export.add_argument("--config", type=Path, default=Path("config.toml"))
    export.add_argument("--out", type=Path, help="write to this file (mode 0600), not stdout")
    erase = actions.add_parser("erase", help="delete KTP photos, anonymize the visits of a NIK")
    erase.add_argument("nik", nargs="?", default="-", help=_NIK_HELP)
    erase.add_argument("--config", type=Path, default=Path("config.toml"))
    erase.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    log = sub.add_parser("audit", help="check the audit log")
    checks = log.add_subparsers(dest="action", required=True)
    verify = checks.add_parser("verify", help="walk the hash chain, report the first broken link")
    verify.add_argument("--config", type=Path, default=Path("config.toml"))
    verify.add_argument(
        "--anchor",
        metavar="HASH",
        help="a head hash kept outside the database (the daily review sends one): prove"
        " that nothing up to it changed",
    )
    head = checks.add_parser("head", help="print the head hash of the intact chain")
    head.add_argument("--config", type=Path, default=Path("config.toml"))


def run(args: argparse.Namespace) -> int:
    try:
        config = load_config(args.config)
    except ConfigError as exc:
        print(f"Configuration error: {exc}", file=sys.stderr)
        return 2
    nik = ""
    if args.command == "privacy":
        nik = normalise_nik(_read_nik() if args.nik == "-" else args.nik)
        if args.nik != "-":
            print(ON_COMMAND_LINE, file=sys.stderr)
    if args.command == "privacy" and (len(nik) != 16 or not nik.isascii() or not nik.isdigit()):
        print("NIK must be 16 digits", file=sys.stderr)
        return 2
    if not config.database_path.exists():
        print(f"no database at {config.database_path}", file=sys.stderr)
        return 2
    if args.command == "audit":
        anchor = getattr(args, "anchor", None)
        if anchor is not None and not _HASH.fullmatch(anchor.strip().lower()):
            print("--anchor must be a head hash: 64 hexadecimal characters", file=sys.stderr)
            return 2
        anchor = anchor.strip().lower() if anchor else None
        return asyncio.run(_verify(config, anchor, head_only=args.action == "head"))
    if args.action == "export":
        return asyncio.run(_export(config, nik, args.out))
    if not args.yes and not _confirmed(nik):
        print("Nothing erased.", file=sys.stderr)
        return 1
    return asyncio.run(_erase(config, nik))


def _read_nik() -> str:
    """The NIK typed at the terminal without echo, or the first line of standard input."""
    if sys.stdin.isatty():
        return getpass.getpass("NIK (not shown): ")
    return sys.stdin.readline().strip()


def _confirmed(nik: str) -> bool:
    if not sys.stdin.isatty():
        print("Refusing to erase without --yes (no terminal to ask).", file=sys.stderr)
        return False
    answer = input(privacy_texts.confirm_erase(mask_nik(nik)))
    return answer.strip().lower() in ("ya", "y", "yes")


async def _open(config: Config) -> Storage:
    return await Storage.open(
        config.database_path, Cipher(config.encryption_key), config.audit_key
    )


async def _export(config: Config, nik: str, out: Path | None) -> int:
    if out is None:
        data = await _exported(config, nik)
        sys.stdout.write(_json(data))
    else:
        # Opened first: an unwritable --out is refused before anything is read or audited.
        try:
            with output_file(out) as write:
                data = await _exported(config, nik)
                write(_json(data).encode("utf-8"))
        except CannotWrite as exc:
            return fail(f"privacy export: {exc}")
        print(f"{len(data['visits'])} visit(s) of {mask_nik(nik)} written to {out}")
    for visit in data["visits"]:
        if visit["ktp_image_missing"]:
            print(
                f"Visit {visit['id']}: the KTP photo file {config.data_dir / visit['ktp_path']}"
                " is missing; the visit is exported without it (ktp_image_missing).",
                file=sys.stderr,
            )
    if data["visitor"] is None:
        print(f"No data stored for NIK {mask_nik(nik)}.", file=sys.stderr)
    return 0


async def _exported(config: Config, nik: str) -> dict[str, Any]:
    storage = await _open(config)
    try:
        return await privacy.export(storage, config, nik, datetime.now(UTC))
    finally:
        await storage.close()


def _json(data: dict[str, Any]) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n"


async def _erase(config: Config, nik: str) -> int:
    storage = await _open(config)
    try:
        done = await privacy.erase(storage, config, nik, datetime.now(UTC))
    finally:
        await storage.close()
    withdrawn = (
        f" {done.visits_cancelled} open request(s) withdrawn (their badges are void),"
        if done.visits_cancelled
        else ""
    )
    print(
        f"NIK {mask_nik(nik)}:{withdrawn} {done.visits_anonymized} visit(s) anonymized,"
        f" {done.ktp_deleted} KTP photo(s) deleted, {done.visitors_deleted} person record(s)"
        " deleted. Dates, times and staff stay in the access log."
    )
    return 0


_HASH = re.compile(r"[0-9a-f]{64}")


async def _verify(config: Config, anchor: str | None, *, head_only: bool = False) -> int:
    try:
        report = await audit.verify(config.database_path.resolve(), config.audit_key, anchor)
    except audit.AuditError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    if not report.ok:
        print(
            f"BROKEN at event {report.broken_at} (after {report.count} good events):"
            f" {report.problem}",
            file=sys.stderr,
        )
        if anchor is not None and report.anchor_at is not None:
            print(f"The anchored head is event {report.anchor_at}: up to it nothing changed.")
        return 1
    if head_only:
        print(report.head)
        return 0
    print(f"OK: {report.count} audit events, chain intact. Head hash: {report.head}")
    if anchor is None:
        return 0
    if report.anchor_at is None:
        print(
            f"ANCHOR NOT FOUND: no event of the intact chain has the hash {anchor}: the events"
            " up to that head were changed or removed (or the hash is not from this database)",
            file=sys.stderr,
        )
        return 1
    print(f"Anchor found at event {report.anchor_at}: nothing up to that head changed.")
    return 0
