"""Every `type: ignore` in the product says why (issue 9: none without a reason).

mypy's `warn_unused_ignores` (pyproject.toml) makes one that silences nothing an error;
this makes one that silences something explain itself, on its line or the line above.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PRODUCT = ("bot", "handlers", "storage")
IGNORE = re.compile(r"#\s*type:\s*ignore(\[[^\]]*\])?")


def unexplained(source: str, name: str) -> list[str]:
    lines = source.splitlines()
    found = []
    for number, line in enumerate(lines):
        match = IGNORE.search(line)
        if match is None:
            continue
        after = line[match.end() :].strip()
        above = lines[number - 1].strip() if number else ""
        if not after.startswith("#") and not above.startswith("#"):
            found.append(f"{name}:{number + 1}: {line.strip()}")
    return found


def test_every_type_ignore_in_the_product_has_a_reason() -> None:
    found = [
        hit
        for folder in PRODUCT
        for path in sorted((ROOT / folder).rglob("*.py"))
        for hit in unexplained(path.read_text("utf-8"), str(path.relative_to(ROOT)))
    ]
    assert found == [], "say why, on the line or the line above:\n" + "\n".join(found)


def test_the_check_catches_a_bare_ignore() -> None:
    bare = "x = f()  # type: ignore[arg-type]\n"
    assert unexplained(bare, "m.py") == ["m.py:1: x = f()  # type: ignore[arg-type]"]
    assert unexplained("x = f()  # type: ignore  # stubs lag the library\n", "m.py") == []
    assert unexplained("# the stubs lag the library\nx = f()  # type: ignore\n", "m.py") == []
