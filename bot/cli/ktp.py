"""``python -m bot ktp read IMAGE...``: what the KTP reader finds on photos, one JSON line each.

For checking the reader on the office's own machine (it works offline); the bot uses the
same engine when an officer sends a KTP photo. The output holds personal data: it goes to
stdout only, never to a log.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from pathlib import Path
from typing import Any

__all__ = ["add_parsers", "run"]


def add_parsers(sub: Any) -> None:
    ktp = sub.add_parser("ktp", help="read KTP photos offline (prints JSON lines)")
    actions = ktp.add_subparsers(dest="ktp_command", required=True)
    read = actions.add_parser("read", help="read one or more KTP photos")
    read.add_argument("images", nargs="+", type=Path, metavar="IMAGE")


def run(args: argparse.Namespace) -> int:
    from bot.ocr.reader import NotAnImage, OcrUnavailable, read_ktp

    status = 0
    today = date.today()
    for path in args.images:
        try:
            data = path.read_bytes()
        except OSError as exc:
            print(f"{path}: cannot open the file ({exc.strerror or exc})", file=sys.stderr)
            status = 1
            continue
        try:
            reading = read_ktp(data, today)
        except NotAnImage:
            print(f"{path}: not an image (expected a JPEG or PNG photo)", file=sys.stderr)
            status = 1
            continue
        except OcrUnavailable as exc:
            print(str(exc), file=sys.stderr)
            return 2
        line = {
            "file": str(path),
            "nik": reading.nik,
            "name": reading.name,
            "birth_place": reading.birth_place,
            "birth_date": reading.birth_date.isoformat() if reading.birth_date else None,
            "sex": reading.sex,
            "confidence": reading.confidence,
        }
        print(json.dumps(line, ensure_ascii=False), flush=True)
    return status
