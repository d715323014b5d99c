"""Dates typed by people: DD-MM-YYYY as every text shows them, and YYYY-MM-DD as well."""

from __future__ import annotations

import re
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.core.period import Period, PeriodError, ReversedPeriod, parse_date, parse_period
from bot.texts import reports as reports_texts
from bot.texts.common import date_text

DAYS = st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31))


@given(DAYS)
def test_a_date_as_shown_reads_back_in_both_orders(day: date) -> None:
    shown = date_text(day)
    assert re.fullmatch(r"\d{2}-\d{2}-\d{4}", shown)  # DD-MM-YYYY in every text
    assert parse_date(shown) == day
    assert parse_date(day.isoformat()) == day
    assert parse_date(day.strftime("%d/%m/%Y")) == day == parse_date(day.strftime("%Y/%m/%d"))


@given(DAYS, DAYS)
def test_a_period_in_either_order_of_writing(a: date, b: date) -> None:
    first, last = min(a, b), max(a, b)
    expected = Period(first, last)
    assert parse_period([date_text(first), last.isoformat()]) == expected
    assert parse_period([first.isoformat(), date_text(last)]) == expected
    if first != last:
        with pytest.raises(ReversedPeriod):
            parse_period([date_text(last), date_text(first)])


@pytest.mark.parametrize(
    "text", ["kemarin", "32-01-2026", "2026-02-30", "1-1-26", "01-11-2026x", "11-2026", ""]
)
def test_unreadable_dates(text: str) -> None:
    with pytest.raises(PeriodError):
        parse_date(text)


@pytest.mark.parametrize(
    "args", [[], ["01-11-2026", "x", "28-11-2026"], ["01-11-2026", "28-11"], ["a", "b", "c", "d"]]
)
def test_unreadable_periods(args: list[str]) -> None:
    with pytest.raises(PeriodError):
        parse_period(args)


def test_the_error_and_the_prompts_show_readable_examples_day_first() -> None:
    for text in (
        reports_texts.BAD_DATES,
        reports_texts.CHOOSE_REPORT_PERIOD,
        reports_texts.CHOOSE_STATS_PERIOD,
    ):
        example = re.search(r"<code>(\d\d-\d\d-\d{4}) (\d\d-\d\d-\d{4})</code>", text)
        assert example is not None, text
        assert parse_period(list(example.groups())).days >= 1
