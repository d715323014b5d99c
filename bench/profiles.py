"""Where a bot's CPU went: py-spy's raw samples (``--profile``) summed by the library at work.

Each sample is charged to the first frame, walking from the innermost one out, that
belongs to a library doing the work (the HTTP client, SQLite, image code); failing that,
to the bot's own code, then to python-telegram-bot, then to the event loop. Samples of a
thread waiting (the event loop in select, aiosqlite's worker on its queue) are left out.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

HTTP = "HTTP client (httpx, httpcore, h11, anyio; or aiohttp)"
WORK = (
    (HTTP, ("(httpx/", "(httpcore/", "(h11/", "(anyio/", "(aiohttp/", "bot/app/request.py")),
    (
        "Badge and QR images (Pillow, qrcode, zxing)",
        ("(PIL/", "(qrcode/", "zxingcpp", "(bot/core/badge.py", "(bot/core/qr.py"),
    ),
    ("SQLite (aiosqlite, storage/)", ("(aiosqlite/", "(sqlite3/", "(storage/")),
    ("JSON", ("(json/",)),
)
OWN = "The bot's own code (handlers/, bot/)"
PTB = "python-telegram-bot (objects, handlers, conversation)"
LOOP = "Event loop and the rest"
IDLE_LEAVES = ("EpollSelector.select", "_connection_worker_thread", "SimpleQueue.get")


def summarise(raw: Path) -> list[tuple[str, float]]:
    """(category, share of busy samples), largest first."""
    counts: Counter[str] = Counter()
    for line in raw.read_text(encoding="utf-8", errors="replace").splitlines():
        stack, _, number = line.rpartition(" ")
        if not stack or not number.isdigit():
            continue
        frames = stack.split(";")
        if frames[-1].startswith(IDLE_LEAVES):
            continue
        counts[_category(frames)] += int(number)
    total = sum(counts.values()) or 1
    return [(name, n / total) for name, n in counts.most_common()]


def _category(frames: list[str]) -> str:
    for frame in reversed(frames):
        for name, markers in WORK:
            if any(marker in frame for marker in markers):
                return name
    # py-spy shows a frame as "function (package/module.py:line)". The per-chat update
    # processor is on every update's stack, the baseline's too: it is not the bot's work.
    if any(
        ("(handlers/" in f or "(bot/" in f) and "(bot/app/processor.py" not in f for f in frames
    ):
        return OWN
    if any("(telegram/" in f for f in frames):
        return PTB
    return LOOP
