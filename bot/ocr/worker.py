"""The KTP reader's process: ``python -m bot.ocr.worker``, started by bot/ocr/process.py.

It loads the engine once (bot/ocr/reader.py), says so, then reads one photo per request
until its stdin closes. Requests and answers are frames on its stdin and stdout (a 4-byte
big-endian length, then the payload); nothing else is written to that pipe, and nothing
of a photo or of what was read is written anywhere else: no file, no log line.

- ready frame (worker -> bot): JSON ``{"ready": true}`` or ``{"unavailable": "why"}``.
- request (bot -> worker): today's date as ``YYYY-MM-DD``, then the photo's bytes.
- answer (worker -> bot): JSON ``{"reading": {...}}``, or ``{"error": "NotAnImage"}`` (an
  exception's type name only: its message could quote the photo).
"""

from __future__ import annotations

import json
import sys
from datetime import date
from typing import Any, BinaryIO

from bot.app.children import HEADER, become_worker, frame, read_frame
from bot.core.ktp_text import KtpReading

__all__ = ["HEADER", "MAX_FRAME", "decode", "encode", "frame", "main"]

MAX_FRAME = 64 * 2**20  # Telegram hands bots files up to 20 MB
PROCESS_NAME = b"ktp-reader"  # /proc/PID/comm: what ps, top and bench/load.py show


def encode(reading: KtpReading) -> dict[str, Any]:
    return {
        "nik": reading.nik,
        "name": reading.name,
        "birth_place": reading.birth_place,
        "birth_date": reading.birth_date.isoformat() if reading.birth_date else None,
        "sex": reading.sex,
        "confidence": reading.confidence,
    }


def decode(fields: dict[str, Any]) -> KtpReading:
    born = fields.get("birth_date")
    return KtpReading(
        nik=fields.get("nik"),
        name=fields.get("name"),
        birth_place=fields.get("birth_place"),
        birth_date=date.fromisoformat(born) if born else None,
        sex=fields.get("sex"),
        confidence=float(fields.get("confidence", 0.0)),
    )


def _send(pipe: BinaryIO, message: dict[str, Any]) -> None:
    pipe.write(frame(json.dumps(message).encode()))
    pipe.flush()


def main() -> int:
    answers = become_worker(PROCESS_NAME)  # (Tesseract's warnings go to stderr)
    requests = sys.stdin.buffer
    try:
        from bot.ocr import reader

        reader.load()
    except Exception as exc:  # no model, no OpenCV: the bot's form asks for every field
        _send(answers, {"unavailable": f"{type(exc).__name__}: {exc}"})
        return 1
    _send(answers, {"ready": True})
    while (request := read_frame(requests, MAX_FRAME)) is not None:
        try:
            reading = reader.read_ktp(request[10:], date.fromisoformat(request[:10].decode()))
            answer: dict[str, Any] = {"reading": encode(reading)}
        except Exception as exc:
            answer = {"error": type(exc).__name__}
        del request
        try:
            _send(answers, answer)
        except BrokenPipeError:  # the bot went away while this photo was read
            return 0
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
