"""Indonesian NIK (Nomor Induk Kependudukan) validation.

A NIK has 16 digits: ``PP RR DD  DDMMYY  SSSS``

- ``PP``     province code (kode wilayah provinsi, Kemendagri),
- ``PPRR``   regency/city code, ``PPRRDD`` district (kecamatan) code,
- ``DDMMYY`` date of birth; women add 40 to the day,
- ``SSSS``   serial number among people registered with the same region and date, from 0001.

There is no check digit, so validation can only reject what cannot be a real NIK: a wrong
length, an unknown province, an impossible or future birth date, serial 0000. A number that
passes is *plausible*, not proven to exist.

Pure module: no I/O, no Telegram, no storage.
"""

from __future__ import annotations

import enum
import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from typing import Literal

__all__ = [
    "NIK_LENGTH",
    "PROVINCE_CODES",
    "NikError",
    "NikInfo",
    "NikProblem",
    "looks_like_nik",
    "mask_nik",
    "mask_niks_in",
    "normalise_nik",
    "validate_nik",
]

# The 38 provinces and their codes, from Kepmendagri No. 100.1.1-6117 Tahun 2022 (Pemberian dan
# Pemutakhiran Kode, Data Wilayah Administrasi Pemerintahan, dan Pulau), which added the four
# Papua provinces created in 2022 (93-96) to the 34 of Permendagri 72/2019; the codes are
# unchanged in Kepmendagri 300.2.2-2138 Tahun 2025. NIKs issued before a split keep the old
# province's code, which is why every code that was ever issued for a current province counts.
PROVINCE_CODES: dict[str, str] = {
    "11": "Aceh",
    "12": "Sumatera Utara",
    "13": "Sumatera Barat",
    "14": "Riau",
    "15": "Jambi",
    "16": "Sumatera Selatan",
    "17": "Bengkulu",
    "18": "Lampung",
    "19": "Kepulauan Bangka Belitung",
    "21": "Kepulauan Riau",
    "31": "DKI Jakarta",
    "32": "Jawa Barat",
    "33": "Jawa Tengah",
    "34": "DI Yogyakarta",
    "35": "Jawa Timur",
    "36": "Banten",
    "51": "Bali",
    "52": "Nusa Tenggara Barat",
    "53": "Nusa Tenggara Timur",
    "61": "Kalimantan Barat",
    "62": "Kalimantan Tengah",
    "63": "Kalimantan Selatan",
    "64": "Kalimantan Timur",
    "65": "Kalimantan Utara",
    "71": "Sulawesi Utara",
    "72": "Sulawesi Tengah",
    "73": "Sulawesi Selatan",
    "74": "Sulawesi Tenggara",
    "75": "Gorontalo",
    "76": "Sulawesi Barat",
    "81": "Maluku",
    "82": "Maluku Utara",
    "91": "Papua",
    "92": "Papua Barat",
    "93": "Papua Selatan",
    "94": "Papua Tengah",
    "95": "Papua Pegunungan",
    "96": "Papua Barat Daya",
}

# Women's NIKs carry the day of birth plus 40 (so 41..71).
FEMALE_DAY_OFFSET = 40

# str.isdigit() and \d accept Arabic-Indic and other digits; a NIK is ASCII only.
NIK_LENGTH = 16
_NIK_RE = re.compile(rf"[0-9]{{{NIK_LENGTH}}}")

# Characters people put between digit groups when they copy a NIK from a KTP or a form
# ("3508 0145 0790 0002", "3508.01.450790.0002"), besides any whitespace. Every dash
# (Unicode category Pd) and the minus sign are included because phone keyboards and word
# processors substitute them for "-"; NFKC does not fold them.
DASHES = (
    "-\u058a\u05be\u1400\u1806\u2010\u2011\u2012\u2013\u2014\u2015\u2e17\u2e1a\u2e3a"
    "\u2e3b\u2e40\u2e5d\u301c\u3030\u30a0\ufe31\ufe32\ufe58\ufe63\uff0d\U00010ead\u2212"
)
_SEPARATORS = frozenset("." + DASHES)

# Anything longer is not a NIK with separators; stop early so a pasted essay costs nothing.
_MAX_RAW_LENGTH = 64


class NikProblem(enum.Enum):
    """Why a NIK was refused; handlers map each to a message for the officer."""

    NOT_16_DIGITS = "not_16_digits"
    UNKNOWN_PROVINCE = "unknown_province"
    BAD_BIRTH_DATE = "bad_birth_date"
    FUTURE_BIRTH_DATE = "future_birth_date"
    BAD_SERIAL = "bad_serial"


class NikError(ValueError):
    """A NIK that cannot be real. ``detail`` is English for logs and never holds the NIK."""

    def __init__(self, problem: NikProblem, detail: str) -> None:
        # Passing both to ValueError keeps the exception picklable (args rebuild it).
        super().__init__(problem, detail)
        self.problem = problem
        self.detail = detail

    def __str__(self) -> str:
        return f"{self.problem.name}: {self.detail}"


@dataclass(frozen=True)
class NikInfo:
    """What a valid NIK says about its holder."""

    nik: str
    province_code: str
    regency_code: str
    district_code: str
    birth_date: date
    sex: Literal["L", "P"]
    serial: str

    def __repr__(self) -> str:
        # A NIK is personal data (UU 27/2022); keep it out of logs and tracebacks that
        # print this object.
        return (
            f"NikInfo(nik={mask_nik(self.nik)!r}, province_code={self.province_code!r}, "
            f"sex={self.sex!r})"
        )


def normalise_nik(raw: str) -> str:
    """Strip the spaces, dots and hyphens people type between digit groups.

    NFKC first, so full-width digits from some phone keyboards become ASCII. Nothing else is
    removed or converted: a letter or a non-ASCII digit stays and makes validation fail,
    rather than being silently dropped into a different number.
    """
    text = unicodedata.normalize("NFKC", raw)
    return "".join(ch for ch in text if not ch.isspace() and ch not in _SEPARATORS)


def validate_nik(raw: str, today: date) -> NikInfo:
    """Parse and check a NIK as typed; raise :class:`NikError` if it cannot be real.

    ``today`` is passed in (not read from the clock) so results are reproducible and the
    caller decides the time zone.
    """
    if not isinstance(raw, str):
        raise NikError(NikProblem.NOT_16_DIGITS, f"expected text, got {type(raw).__name__}")
    if len(raw) > _MAX_RAW_LENGTH:
        raise NikError(NikProblem.NOT_16_DIGITS, f"input too long ({len(raw)} characters)")
    nik = normalise_nik(raw)
    if not _NIK_RE.fullmatch(nik):
        raise NikError(
            NikProblem.NOT_16_DIGITS,
            f"expected 16 ASCII digits, got {len(nik)} characters after normalisation",
        )

    province = nik[:2]
    if province not in PROVINCE_CODES:
        raise NikError(NikProblem.UNKNOWN_PROVINCE, f"province code {province} is not in use")

    birth_date, sex = _birth_date(nik[6:12], today)

    serial = nik[12:]
    if serial == "0000":
        raise NikError(NikProblem.BAD_SERIAL, "serial number 0000 is never issued")

    return NikInfo(
        nik=nik,
        province_code=province,
        regency_code=nik[:4],
        district_code=nik[:6],
        birth_date=birth_date,
        sex=sex,
        serial=serial,
    )


def _birth_date(ddmmyy: str, today: date) -> tuple[date, Literal["L", "P"]]:
    # The details below name which part is wrong but never its digits: the birth date is
    # personal data too.
    day, month, yy = int(ddmmyy[:2]), int(ddmmyy[2:4]), int(ddmmyy[4:])
    sex: Literal["L", "P"] = "L"
    if day > FEMALE_DAY_OFFSET:
        sex = "P"
        day -= FEMALE_DAY_OFFSET
    if not 1 <= day <= 31:
        raise NikError(NikProblem.BAD_BIRTH_DATE, "day of birth out of range (1-31, 41-71)")
    if not 1 <= month <= 12:
        raise NikError(NikProblem.BAD_BIRTH_DATE, "month of birth out of range (1-12)")

    # The year has two digits: take the latest century that does not put the birth after
    # today. Two candidates suffice: this century's year if it is not later than today,
    # otherwise the previous century's. A day that exists only in some centuries (29
    # February of 1900 vs 2000) is tried in each before giving up.
    century = today.year // 100 * 100
    exists_later = False
    for year in (century + yy, century - 100 + yy):
        try:
            candidate = date(year, month, day)
        except ValueError:
            continue
        if candidate <= today:
            return candidate, sex
        exists_later = True
    if exists_later:
        # Only reachable when the one calendar-valid reading is still ahead of `today`
        # (29 February of a leap year whose previous-century twin was not leap).
        raise NikError(NikProblem.FUTURE_BIRTH_DATE, "birth date is after today")
    raise NikError(NikProblem.BAD_BIRTH_DATE, "day does not exist in that month")


# Digits joined by any run of the separators normalise_nik removes: after NFKC, every NIK
# that validate_nik accepts is one such run (or part of a longer one).
_SEPARATOR_CLASS = r"\s" + "".join(re.escape(ch) for ch in sorted(_SEPARATORS))
DIGIT_RUN = re.compile(rf"[0-9](?:[{_SEPARATOR_CLASS}]*[0-9])*")


def mask_niks_in(text: str) -> str:
    """Every NIK-like number in free text masked: a NIK typed into a name, a reason, a log.

    The text is read as validate_nik reads a NIK: NFKC first (full-width and other digit
    forms become ASCII), then any run of spaces, dots or dashes between digits is a
    separator. A run of 16 digits is masked, and so is a longer run with separators in it
    (a NIK typed next to another number); a plain 17-digit number is not a NIK. When
    something is masked the text comes back NFKC-normalised, otherwise unchanged.
    """
    normal = unicodedata.normalize("NFKC", text)
    masked = DIGIT_RUN.sub(_mask_run, normal)
    return masked if masked != normal else text


def _mask_run(found: re.Match[str]) -> str:
    run = found.group()
    digits = re.sub(r"[^0-9]", "", run)
    if len(digits) < NIK_LENGTH or (len(digits) > NIK_LENGTH and len(digits) == len(run)):
        return run
    if run.count(".") == 1 and len(run) == len(digits) + 1 and not looks_like_nik(digits):
        return run  # a decimal number, e.g. a Unix time with microseconds
    return mask_nik(digits)


def looks_like_nik(digits: str) -> bool:
    """16 digits that validate_nik would accept on some day: known province, a day and a
    month that exist (29 February included), serial not 0000."""
    if not _NIK_RE.fullmatch(digits) or digits[:2] not in PROVINCE_CODES:
        return False
    day, month = int(digits[6:8]), int(digits[8:10])
    day -= FEMALE_DAY_OFFSET if day > FEMALE_DAY_OFFSET else 0
    try:
        date(2000, month, day)  # a leap year: every day that exists in any year
    except ValueError:
        return False
    return digits[12:] != "0000"


def mask_nik(nik: str) -> str:
    """Hide the middle of a NIK for display and logs: ``3508**********01``.

    Any 16-character string gets exactly that shape. Other lengths (a NIK typed wrong) keep
    the first 4 and last 2 characters only when at least half of the string stays hidden,
    otherwise everything is masked, so a mistyped NIK never leaks more than a valid one.
    """
    n = len(nik)
    if n >= 12:
        return nik[:4] + "*" * (n - 6) + nik[-2:]
    return "*" * n
