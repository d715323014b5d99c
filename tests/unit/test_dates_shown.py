"""Every text shows dates as DD-MM-YYYY (issue 12): no module of bot/texts/ writes a date
year first, through isoformat() or a strftime/format spec that starts with the year."""

from __future__ import annotations

import re
from pathlib import Path

TEXTS = Path(__file__).resolve().parents[2] / "bot" / "texts"
# .isoformat(), or a format such as "%Y-%m-%d" / f"{day:%Y%m%d}": the year before the day.
YEAR_FIRST = re.compile(r"\.isoformat\(|%Y[^%\"'}]{0,3}%m[^%\"'}]{0,3}%d")


def year_first(source: str) -> list[str]:
    return [line.strip() for line in source.splitlines() if YEAR_FIRST.search(line)]


def test_no_text_writes_a_date_year_first() -> None:
    found = [
        f"{path.name}: {hit}"
        for path in sorted(TEXTS.glob("*.py"))
        for hit in year_first(path.read_text("utf-8"))
    ]
    assert found == [], "show dates with bot.texts.common.date_text or when:\n" + "\n".join(found)


def test_the_check_sees_year_first_dates() -> None:
    assert year_first('f"Periode {start.isoformat()}"')
    assert year_first('moment.strftime("%Y-%m-%d %H:%M")')
    assert year_first('f"{day:%Y%m%d}"')
    assert not year_first('moment.strftime("%d-%m-%Y %H:%M %Z")')
    assert not year_first('f"{moment:%d-%m-%Y %H:%M}"')
