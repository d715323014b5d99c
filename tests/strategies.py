"""Hypothesis strategies and sample values shared by the tests.

The sample NIKs are made up but well-formed (they pass ``validate_nik``); they belong to no
one as far as we know. Use them instead of inventing new ones in each test.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from hypothesis import strategies as st

from bot.core.nik import FEMALE_DAY_OFFSET, PROVINCE_CODES

# A fixed "today" so tests do not change meaning with the calendar.
SAMPLE_TODAY = date(2026, 6, 15)

# Kabupaten Lumajang (35.08), Kecamatan Tempursari (35.08.01); woman born 5 July 1990.
SAMPLE_NIK = "3508014507900002"
SAMPLE_NIK_BIRTH_DATE = date(1990, 7, 5)
SAMPLE_NIK_SEX: Literal["L", "P"] = "P"
SAMPLE_NIK_MASKED = "3508**********02"

# Kabupaten Lumajang, Kecamatan Pasirian (35.08.05); man born 25 March 1985.
SAMPLE_NIK_MALE = "3508052503850001"
SAMPLE_NIK_MALE_BIRTH_DATE = date(1985, 3, 25)

# Kota Jakarta Selatan (31.74), Kecamatan Tebet (31.74.01); woman born 29 February 2000.
SAMPLE_NIK_LEAP = "3174016902000123"
SAMPLE_NIK_LEAP_BIRTH_DATE = date(2000, 2, 29)

SAMPLE_NIKS = (SAMPLE_NIK, SAMPLE_NIK_MALE, SAMPLE_NIK_LEAP)

SAMPLE_SECRET = b"test-signing-secret-0123456789abcdef"
SAMPLE_BOT = "AksesServerBot"


@dataclass(frozen=True)
class NikCase:
    """A generated NIK and what validation must read back from it."""

    nik: str
    province_code: str
    birth_date: date
    sex: Literal["L", "P"]
    serial: str


def build_nik(region6: str, birth_date: date, sex: Literal["L", "P"], serial: str) -> str:
    """Assemble a NIK from its parts (women's day of birth + 40)."""
    day = birth_date.day + (FEMALE_DAY_OFFSET if sex == "P" else 0)
    return f"{region6}{day:02d}{birth_date.month:02d}{birth_date.year % 100:02d}{serial}"


def _hundred_years_before(today: date) -> date:
    try:
        return today.replace(year=today.year - 100)
    except ValueError:  # 29 February, and that year was not a leap year
        return date(today.year - 100, 3, 1)


def _two_digits(low: int, high: int) -> st.SearchStrategy[str]:
    return st.integers(low, high).map(lambda n: f"{n:02d}")


@st.composite
def nik_cases(draw: st.DrawFn, today: date = SAMPLE_TODAY) -> NikCase:
    """Valid NIKs of any province, both sexes, real dates within the last 100 years.

    Birth dates stay after ``today`` minus 100 years so the two-digit year resolves to
    exactly the generated date (older people are read as a century younger by design).
    """
    province = draw(st.sampled_from(sorted(PROVINCE_CODES)))
    # Regencies 01-79, cities 71-99; districts from 01. Any non-zero pair is well-formed.
    regency = draw(_two_digits(1, 99))
    district = draw(_two_digits(1, 99))
    earliest = _hundred_years_before(today) + timedelta(days=1)
    birth_date = draw(st.dates(min_value=earliest, max_value=today))
    sex: Literal["L", "P"] = draw(st.sampled_from(("L", "P")))
    serial = f"{draw(st.integers(1, 9999)):04d}"
    nik = build_nik(f"{province}{regency}{district}", birth_date, sex, serial)
    return NikCase(nik=nik, province_code=province, birth_date=birth_date, sex=sex, serial=serial)


def valid_niks(today: date = SAMPLE_TODAY) -> st.SearchStrategy[str]:
    """Valid NIK strings (see :func:`nik_cases`)."""
    return nik_cases(today).map(lambda case: case.nik)


def typed_niks(today: date = SAMPLE_TODAY) -> st.SearchStrategy[tuple[str, str]]:
    """(as typed, canonical): valid NIKs with the separators people put between groups."""

    @st.composite
    def build(draw: st.DrawFn) -> tuple[str, str]:
        nik = draw(valid_niks(today))
        separator = draw(st.sampled_from((" ", ".", "-", "  ", "\u00a0", "\u2013")))
        groups = (nik[:4], nik[4:8], nik[8:12], nik[12:])
        if draw(st.booleans()):
            groups = (nik[:2], nik[2:4], nik[4:6], nik[6:12], nik[12:])
        padding = draw(st.sampled_from(("", " ", "\n", "\t")))
        return padding + separator.join(groups) + padding, nik

    return build()
