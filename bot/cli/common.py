"""What the admin commands share: the config loaded or one line saying why not."""

from __future__ import annotations

import sys
from pathlib import Path

from bot.app.config import Config, ConfigError, load_config


def config_or_none(path: Path) -> Config | None:
    """The config, or None after printing the one line that says what is wrong."""
    try:
        return load_config(path)
    except ConfigError as exc:
        fail(f"Configuration error: {exc}")
        return None


def fail(line: str) -> int:
    """One line on stderr, never a traceback; the exit status of a refused command."""
    print(line, file=sys.stderr)
    return 2
