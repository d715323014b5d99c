"""Fields from the lines read off a KTP: what is proposed, and what is refused."""

from __future__ import annotations

from datetime import date

import pytest

from bot.core.ktp_text import KtpLines, interpret, read_birth, read_name, read_sex

TODAY = date(2026, 12, 2)
SURE = 90.0


def lines(
    nik: str,
    name: str = ": AYU LESTARI",
    birth: str = ": LUMAJANG, 15-07-1990",
    sex: str = ": PEREMPUAN",
    province: str = "PROVINSI JAWA TIMUR",
) -> KtpLines:
    return KtpLines((nik, SURE), (name, SURE), (birth, SURE), (sex, SURE), (province, SURE))


def test_a_clean_card_gives_every_field() -> None:
    reading = interpret(lines("3508015507900002"), TODAY)
    assert reading.nik == "3508015507900002"
    assert reading.name == "AYU LESTARI"
    assert (reading.birth_place, reading.birth_date, reading.sex) == (
        "LUMAJANG",
        date(1990, 7, 15),
        "P",
    )
    assert 0 < reading.confidence <= 1


def test_a_nik_whose_birth_date_disagrees_with_the_printed_one_is_not_proposed() -> None:
    # A misread digit in the date part: still a valid NIK (16.07.90), but not this card's.
    reading = interpret(lines("3508015607900002"), TODAY)
    assert reading.nik is None
    assert reading.birth_date == date(1990, 7, 15)  # the printed date is still offered


def test_a_nik_whose_sex_disagrees_with_the_printed_one_is_not_proposed() -> None:
    # 15 instead of 55: a man's NIK on a card that says PEREMPUAN.
    reading = interpret(lines("3508011507900002", birth=": LUMAJANG, 15-07-1990"), TODAY)
    assert reading.nik is None and reading.sex == "P"


def test_a_nik_from_another_province_than_the_header_is_not_proposed() -> None:
    reading = interpret(lines("3208015507900002"), TODAY)  # 32 = Jawa Barat
    assert reading.nik is None


def test_without_a_readable_birth_date_the_nik_is_asked() -> None:
    reading = interpret(lines("3508015507900002", birth=": LUMAJANG, 1#-0?-19"), TODAY)
    assert reading.nik is None


def test_an_invalid_nik_is_not_proposed() -> None:
    assert interpret(lines("3508013207900002"), TODAY).nik is None  # day 32
    assert interpret(lines("350801550790000"), TODAY).nik is None  # 15 digits


def test_low_confidence_lines_are_left_for_the_officer() -> None:
    unsure = KtpLines(
        ("3508015507900002", 10.0), (": AYU LESTARI", 10.0), (": X, 15-07-1990", 10.0)
    )
    reading = interpret(unsure, TODAY)
    assert reading.nik is None and reading.name is None and reading.birth_date is None


@pytest.mark.parametrize(
    ("raw", "name"),
    [
        (": SRI M, NUR'AINI", "SRI M. NUR'AINI"),
        ("1 JOKO HIDAYAT Ja", "JOKO HIDAYAT"),
        (": A. RAHMAN", "A. RAHMAN"),
        ("Nama : BUDI SANTOSO", "BUDI SANTOSO"),
        (": ", None),
    ],
)
def test_names_are_cleaned_of_what_is_not_printed(raw: str, name: str | None) -> None:
    assert read_name(raw) == name


@pytest.mark.parametrize(
    ("raw", "sex"),
    [
        (": LAKI-LAKI", "L"),
        ("PEREMPUAN. .", "P"),
        ("Jenis Kelamin HLAKELAKI", "L"),
        ("-- ..", None),
    ],
)
def test_sex_is_one_of_the_two_printed_words(raw: str, sex: str | None) -> None:
    assert read_sex(raw) == sex


def test_birth_place_and_date() -> None:
    assert read_birth(": PROBOLINGGO, 24-11-1957") == ("PROBOLINGGO", date(1957, 11, 24))
    assert read_birth(": MALANG, 31-02-1990") == ("MALANG", None)  # no such day


def test_a_reading_never_prints_its_data() -> None:
    reading = interpret(lines("3508015507900002"), TODAY)
    assert "3508015507900002" not in repr(reading) and "AYU" not in repr(reading)


def test_a_faint_birth_line_confirms_a_nik_only_when_all_six_date_digits_agree() -> None:
    def faint(birth: str) -> KtpLines:
        return KtpLines(
            ("3508015507900002", SURE),
            (": AYU LESTARI", SURE),
            (birth, 20.0),
            (": PEREMPUAN", SURE),
        )

    agreeing = interpret(faint(": LUMAJANG, 15-07-1990"), TODAY)
    assert agreeing.nik == "3508015507900002" and agreeing.birth_date == date(1990, 7, 15)
    assert agreeing.birth_place is None  # the faint line's place is not offered
    disagreeing = interpret(faint(": LUMAJANG, 15-07-1970"), TODAY)
    assert disagreeing.nik is None and disagreeing.birth_date is None


def test_a_date_whose_separators_were_lost_is_still_read() -> None:
    assert read_birth(": JEMBER, 0411-1982") == ("JEMBER", date(1982, 11, 4))
    assert read_birth("1 MALANG. 15022002 be") == ("MALANG", date(2002, 2, 15))
    assert read_birth(": MALANG, 150220021") == ("MALANG", None)  # nine digits: no date
