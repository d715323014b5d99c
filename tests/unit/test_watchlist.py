"""Reading /blokir and /buka_blokir's arguments (bot/core/watchlist.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from bot.core.fields import REASON_MAX
from bot.core.nik import NikProblem
from bot.core.watchlist import Problem, Request, WatchEntry, parse
from tests.flows import NIK_WOMAN

TODAY = date(2026, 11, 28)


@pytest.mark.parametrize(
    ("args", "needs_reason", "expected"),
    [
        ([NIK_WOMAN, "Merusak", " rak  server"], True, Request(NIK_WOMAN, "Merusak rak server")),
        (["3508.0155.0790.0002", "alasan"], True, Request(NIK_WOMAN, "alasan")),  # as typed
        ([NIK_WOMAN], False, Request(NIK_WOMAN)),
        ([NIK_WOMAN, "ignored"], False, Request(NIK_WOMAN)),  # /buka_blokir needs no reason
        ([], True, Problem.NO_NIK),
        ([], False, Problem.NO_NIK),
        ([NIK_WOMAN], True, Problem.NO_REASON),
        ([NIK_WOMAN, "\u200b"], True, Problem.NO_REASON),  # invisible characters only
        ([NIK_WOMAN, "x" * (REASON_MAX + 1)], True, Problem.LONG_REASON),
        (["1234", "alasan"], True, NikProblem.NOT_16_DIGITS),
        (["3508013202900001", "alasan"], True, NikProblem.BAD_BIRTH_DATE),
        (["3508015507900000"], False, NikProblem.BAD_SERIAL),
    ],
)
def test_parse(args: list[str], needs_reason: bool, expected: object) -> None:
    assert parse(args, TODAY, needs_reason=needs_reason) == expected


def test_an_entry_keeps_the_nik_and_reason_out_of_its_repr() -> None:
    entry = WatchEntry(3, NIK_WOMAN, "Nama Orang", 2001, datetime(2026, 11, 28, tzinfo=UTC))
    assert NIK_WOMAN not in repr(entry) and "Nama" not in repr(entry) and "3" in repr(entry)
