"""The real KTP reader worker (bot/ocr/worker.py), made to fail on purpose for the tests:
``python -m tests.ktp_faults`` reads every photo as the bot's worker does, except a photo
ending in CRASH (the process dies of SIGSEGV, as a native crash in OpenCV or Tesseract
would) or HANG (the read never ends). With the argument ``unavailable`` the engine fails
to load, as without Tesseract's Indonesian model."""

from __future__ import annotations

import os
import resource
import signal
import sys
import time
from datetime import date

from bot.core.ktp_text import KtpReading
from bot.ocr import reader, worker

CRASH = b"\xff\xd9CRASH-THE-KTP-READER"
HANG = b"\xff\xd9HANG-THE-KTP-READER"
COMMAND = [sys.executable, "-m", "tests.ktp_faults"]

_read_ktp = reader.read_ktp


def _misbehaving(data: bytes, today: date) -> KtpReading:
    if data.endswith(CRASH):
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # no core file
        os.kill(os.getpid(), signal.SIGSEGV)
    if data.endswith(HANG):
        time.sleep(3600)
    return _read_ktp(data, today)


def _unavailable() -> None:
    raise reader.OcrUnavailable("Tesseract's Indonesian model is missing (test)")


if __name__ == "__main__":
    reader.read_ktp = _misbehaving
    if sys.argv[1:] == ["unavailable"]:
        reader.load = _unavailable
    raise SystemExit(worker.main())
