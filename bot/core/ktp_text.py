"""What the text read off a KTP photo says: NIK, name, place and date of birth, sex.

Pure: the engine (bot/ocr/) hands over the raw text of each line it read and its
confidence; this module turns them into fields, and refuses a NIK that the card itself
contradicts. A wrong NIK that still passes validation is the one dangerous mistake (the
officer might confirm it without looking), so a NIK is only proposed when its own birth
date and sex agree with the ones printed on the card, and its province with the header.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from typing import Literal

from bot.core.nik import PROVINCE_CODES, NikError, validate_nik

__all__ = ["KtpLines", "KtpReading", "interpret"]

Sex = Literal["L", "P"]

# A field is proposed only when the engine was at least this sure of its line (0..100).
MIN_LINE_CONFIDENCE = 30.0
# The NIK line's confidence is its least sure digit's (bot/ocr/reader.py).
MIN_DIGIT_CONFIDENCE = 35.0

_NAME_CHARS = re.compile(r"[^A-Z' .,\-]")
_DATE = re.compile(r"(\d{1,2})\s*[-./ ]\s*(\d{1,2})\s*[-./ ]\s*(\d{4})")
# The same date with a separator or two lost ("0411-1962", "15022002").
_DATE_RUN = re.compile(r"(?<!\d)(\d{2})[-./]?(\d{2})[-./]?(\d{4})(?!\d)")
_PROVINCE_NAMES = {
    code: re.sub(r"[^A-Z ]", "", name.upper()).strip() for code, name in PROVINCE_CODES.items()
}


@dataclass(frozen=True)
class KtpLines:
    """The raw text of each line the engine read, with its mean confidence (0..100)."""

    nik: tuple[str, float] = ("", 0.0)
    name: tuple[str, float] = ("", 0.0)
    birth: tuple[str, float] = ("", 0.0)
    sex: tuple[str, float] = ("", 0.0)
    province: tuple[str, float] = ("", 0.0)


@dataclass(frozen=True)
class KtpReading:
    """The fields proposed to the officer; None where the card could not be read safely."""

    nik: str | None = None
    name: str | None = None
    birth_place: str | None = None
    birth_date: date | None = None
    sex: Sex | None = None
    confidence: float = 0.0  # 0..1, the mean over the fields that were read

    def __repr__(self) -> str:
        # Never print a citizen's data by accident (logs, tracebacks).
        filled = [
            name
            for name in ("nik", "name", "birth_place", "birth_date", "sex")
            if getattr(self, name)
        ]
        return f"KtpReading(fields={filled}, confidence={self.confidence:.2f})"


def _clean(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).upper()
    text = text.replace("\u2019", "'").replace("`", "'")
    return re.sub(r"\s+", " ", text).strip()


def _value(text: str) -> str:
    """The part after the label's colon (the engine may have caught a bit of the label, or
    read the colon as "1", "I" or "T")."""
    # A KTP prints in capitals: a token with small letters is a speck read as text.
    tokens = unicodedata.normalize("NFKC", text).split()
    text = _clean(" ".join(t for t in tokens if not any(ch.islower() for ch in t)))
    if ":" in text[:4]:
        text = text.split(":", 1)[1]
    text = text.strip(" :;.,-_|")
    head, _, rest = text.partition(" ")
    if (rest and len(head) == 1 and not head.isalpha()) or (head in {"I", "T", "L"} and rest):
        text = rest
    return text.strip(" :;.,-_|")


def read_name(text: str) -> str | None:
    value = _NAME_CHARS.sub("", _value(text))
    # A short abbreviation ("M.", "MOH.") read with a comma.
    value = re.sub(r"\b([A-Z]{1,3}),(?=\s)", r"\1.", value)
    value = re.sub(r"\s+", " ", value).strip(" ,-")
    # Specks read as a stray letter or mark at the end of the line.
    tokens = value.split(" ")
    while tokens and (len(tokens[-1].strip(".,'-")) <= 1 and not tokens[-1].endswith(".")):
        tokens.pop()
    value = " ".join(tokens).strip(" ,-")
    letters = sum(ch.isalpha() for ch in value)
    return value if letters >= 2 else None


def read_birth(text: str) -> tuple[str | None, date | None]:
    value = _value(text)
    found = _DATE.search(value) or _DATE_RUN.search(value)
    born = None
    if found:
        day, month, year = (int(g) for g in found.groups())
        try:
            born = date(year, month, day)
        except ValueError:
            born = None
    place_part = value[: found.start()] if found else value.split(",")[0]
    place = re.sub(r"[^A-Z .'\-]", "", place_part).strip(" .,-")
    place = re.sub(r"\s+", " ", place)
    return (place if sum(ch.isalpha() for ch in place) >= 3 else None), born


def read_sex(text: str) -> Sex | None:
    letters = re.sub(r"[^A-Z]", "", _clean(text).replace("KELAMIN", ""))
    words: tuple[tuple[str, Sex], ...] = (("LAKILAKI", "L"), ("PEREMPUAN", "P"))
    best_ratio, best = 0.0, None
    for word, sex in words:
        for start in range(0, max(1, len(letters) - len(word) + 1)):
            ratio = difflib.SequenceMatcher(None, letters[start : start + len(word)], word).ratio()
            if ratio > best_ratio:
                best_ratio, best = ratio, sex
    return best if best_ratio >= 0.75 else None


def read_nik(text: str) -> str | None:
    digits = re.sub(r"[^0-9]", "", unicodedata.normalize("NFKC", text))
    return digits if len(digits) == 16 else None


def read_province(text: str) -> str | None:
    """The province code named in the header ("PROVINSI JAWA TIMUR"), if recognisable."""
    value = re.sub(r"[^A-Z ]", "", _clean(text)).replace("PROVINSI", "").strip()
    if len(value) < 3:
        return None
    names = {name: code for code, name in _PROVINCE_NAMES.items()}
    match = difflib.get_close_matches(value, list(names), n=1, cutoff=0.75)
    return names[match[0]] if match else None


def interpret(lines: KtpLines, today: date) -> KtpReading:
    """The fields to propose. Low confidence or a contradiction leaves a field empty, and the
    form then asks for it as it always did."""
    name = read_name(lines.name[0]) if lines.name[1] >= MIN_LINE_CONFIDENCE else None
    place, printed = read_birth(lines.birth[0])
    sure = lines.birth[1] >= MIN_LINE_CONFIDENCE
    sex = read_sex(lines.sex[0])  # matched against the two words a KTP can print
    nik = read_nik(lines.nik[0]) if lines.nik[1] >= MIN_DIGIT_CONFIDENCE else None
    if nik is not None:
        # Even a faint birth line confirms the NIK when all six of its date digits agree:
        # two lines misread into the same date is not a thing that happens by chance.
        nik = _checked_nik(nik, printed, sex, read_province(lines.province[0]), today)
    # The printed date is offered when the engine was sure of its line, or the NIK agrees.
    born = printed if sure or nik is not None else None
    place = place if sure else None
    used = [
        conf for key, (_, conf) in _by_key(lines).items() if _filled(key, nik, name, born, sex)
    ]
    confidence = round(sum(used) / len(used) / 100, 3) if used else 0.0
    return KtpReading(nik, name, place, born, sex, confidence)


def _by_key(lines: KtpLines) -> dict[str, tuple[str, float]]:
    return {"nik": lines.nik, "name": lines.name, "birth": lines.birth, "sex": lines.sex}


def _filled(
    key: str, nik: str | None, name: str | None, born: date | None, sex: Sex | None
) -> bool:
    return {"nik": nik, "name": name, "birth": born, "sex": sex}[key] is not None


def _checked_nik(
    nik: str, born: date | None, sex: Sex | None, province: str | None, today: date
) -> str | None:
    """The NIK only if it is valid and the card agrees with it on every point it encodes."""
    try:
        info = validate_nik(nik, today)
    except NikError:
        return None
    if born is None or info.birth_date != born:
        return None  # the printed birth date must confirm six of its digits
    if sex is not None and info.sex != sex:
        return None
    if province is not None and info.province_code != province:
        return None
    return nik
