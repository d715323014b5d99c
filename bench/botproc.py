"""The bot under test, as its own process: ``python -m bench.botproc KIND --config PATH``.

KIND is ``bot`` (the real bot, per-chat concurrency), ``sequential`` (the real bot, one
update at a time), ``baseline`` (bench/baseline.py on PTB's default HTTP client) or
``baseline-aiohttp`` (the same bare bot on the bot's own aiohttp client). The real bot is built as
``python -m bot run`` builds it, except that the AIORateLimiter is off: keeping under
Telegram's ~30 messages/s is the limiter's job, not the bot's work, and it would cap
every run at that rate.
"""

from __future__ import annotations

import argparse
import logging
import os
from pathlib import Path

KINDS = ("bot", "sequential", "baseline", "baseline-aiohttp")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.botproc")
    parser.add_argument("kind", choices=KINDS)
    parser.add_argument("--config", type=Path, required=True)
    args = parser.parse_args(argv)
    os.environ.setdefault("PTB_TIMEDELTA", "1")
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")

    from bot.app.build import ALLOWED_UPDATES, build_application
    from bot.app.config import load_config

    config = load_config(args.config)
    if args.kind.startswith("baseline"):
        from bench.baseline import build_baseline

        app = build_baseline(
            config, client="aiohttp" if args.kind.endswith("aiohttp") else "httpx"
        )
    else:
        # "bot" keeps build_application's own default concurrency.
        extra = {"concurrency": None} if args.kind == "sequential" else {}
        app = build_application(config, rate_limit=False, **extra)  # type: ignore[arg-type]
    app.run_polling(allowed_updates=ALLOWED_UPDATES)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
