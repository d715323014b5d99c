"""NIK validation: each refusal, the women's +40 offset, century resolution, masking."""

from __future__ import annotations

import pickle
import unicodedata
from datetime import date

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from bot.core.nik import (
    PROVINCE_CODES,
    NikError,
    NikInfo,
    NikProblem,
    mask_nik,
    mask_niks_in,
    normalise_nik,
    validate_nik,
)
from tests.strategies import (
    SAMPLE_NIK,
    SAMPLE_NIK_BIRTH_DATE,
    SAMPLE_NIK_LEAP,
    SAMPLE_NIK_LEAP_BIRTH_DATE,
    SAMPLE_NIK_MALE,
    SAMPLE_NIK_MALE_BIRTH_DATE,
    SAMPLE_NIK_MASKED,
    SAMPLE_NIKS,
    SAMPLE_TODAY,
    NikCase,
    build_nik,
    nik_cases,
    typed_niks,
)


def problem_of(raw: str, today: date = SAMPLE_TODAY) -> NikProblem:
    with pytest.raises(NikError) as caught:
        validate_nik(raw, today)
    return caught.value.problem


def test_province_list_has_the_38_provinces() -> None:
    assert len(PROVINCE_CODES) == 38
    expected = {
        *range(11, 20), 21, *range(31, 37), 51, 52, 53, *range(61, 66), *range(71, 77),
        81, 82, *range(91, 97),
    }  # fmt: skip
    assert {int(code) for code in PROVINCE_CODES} == expected


def test_samples_validate() -> None:
    info = validate_nik(SAMPLE_NIK, SAMPLE_TODAY)
    assert info == NikInfo(
        nik=SAMPLE_NIK,
        province_code="35",
        regency_code="3508",
        district_code="350801",
        birth_date=SAMPLE_NIK_BIRTH_DATE,
        sex="P",
        serial="0002",
    )
    male = validate_nik(SAMPLE_NIK_MALE, SAMPLE_TODAY)
    assert (male.birth_date, male.sex) == (SAMPLE_NIK_MALE_BIRTH_DATE, "L")
    leap = validate_nik(SAMPLE_NIK_LEAP, SAMPLE_TODAY)
    assert (leap.birth_date, leap.sex) == (SAMPLE_NIK_LEAP_BIRTH_DATE, "P")
    # They stay valid whatever day the suite runs.
    for nik in SAMPLE_NIKS:
        validate_nik(nik, date.today())


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "350801450790000",  # 15 digits
        "35080145079000021",  # 17 digits
        "3508O14507900002",  # letter O for zero
        "350801450790000X",
        "٣٥٠٨٠١٤٥٠٧٩٠٠٠٠٢",  # Arabic-Indic digits are digits, but not a NIK's
        "3508014507900002\n3508014507900002",
        "3508/0145/0790/0002",
        "3" * 65,
    ],
)
def test_not_16_digits(raw: str) -> None:
    assert problem_of(raw) is NikProblem.NOT_16_DIGITS


def test_non_text_is_not_16_digits() -> None:
    assert problem_of(3508014507900002) is NikProblem.NOT_16_DIGITS  # type: ignore[arg-type]


@pytest.mark.parametrize("province", ["00", "10", "20", "22", "30", "37", "54", "83", "90", "97"])
def test_unknown_province(province: str) -> None:
    assert problem_of(province + SAMPLE_NIK[2:]) is NikProblem.UNKNOWN_PROVINCE


@pytest.mark.parametrize(
    "ddmmyy",
    [
        "000190",  # day 0
        "320190",  # day 32
        "400190",  # 40 is neither a man's nor a woman's day
        "720190",  # woman's day 32
        "990190",
        "150090",  # month 0
        "151390",  # month 13
        "310490",  # 31 April
        "710490",  # woman, 31 April
        "300290",  # 30 February
        "290201",  # 29 February 2001 / 1901: neither is a leap year
    ],
)
def test_bad_birth_date(ddmmyy: str) -> None:
    assert problem_of(f"350801{ddmmyy}0002") is NikProblem.BAD_BIRTH_DATE


def test_future_birth_date() -> None:
    # The only way a birth date stays in the future once the century is chosen: 29
    # February of a year whose twin a century earlier was not a leap year.
    nik = build_nik("350801", date(2000, 2, 29), "L", "0001")
    assert problem_of(nik, today=date(2000, 2, 28)) is NikProblem.FUTURE_BIRTH_DATE
    assert validate_nik(nik, date(2000, 2, 29)).birth_date == date(2000, 2, 29)


def test_bad_serial() -> None:
    assert problem_of(SAMPLE_NIK[:12] + "0000") is NikProblem.BAD_SERIAL
    assert validate_nik(SAMPLE_NIK[:12] + "0001", SAMPLE_TODAY).serial == "0001"
    assert validate_nik(SAMPLE_NIK[:12] + "9999", SAMPLE_TODAY).serial == "9999"


def test_women_add_forty_to_the_day() -> None:
    man = validate_nik("350801" + "010190" + "0001", SAMPLE_TODAY)
    woman = validate_nik("350801" + "410190" + "0001", SAMPLE_TODAY)
    assert (man.sex, man.birth_date) == ("L", date(1990, 1, 1))
    assert (woman.sex, woman.birth_date) == ("P", date(1990, 1, 1))
    assert validate_nik("350801" + "710190" + "0001", SAMPLE_TODAY).birth_date.day == 31
    assert validate_nik("350801" + "310190" + "0001", SAMPLE_TODAY).sex == "L"


@pytest.mark.parametrize(
    ("yymmdd_today", "ddmmyy", "expected"),
    [
        # Latest century that does not put the birth after today.
        (date(2026, 6, 15), "150626", date(2026, 6, 15)),  # born today
        (date(2026, 6, 15), "160626", date(1926, 6, 16)),  # tomorrow in 2026 -> 1926
        (date(2026, 6, 15), "010127", date(1927, 1, 1)),
        (date(2026, 6, 15), "010100", date(2000, 1, 1)),
        (date(2026, 6, 15), "311299", date(1999, 12, 31)),
        (date(2026, 6, 15), "290200", date(2000, 2, 29)),  # 2000 is a leap year
        (date(2099, 12, 31), "010199", date(2099, 1, 1)),
        (date(2100, 1, 1), "020100", date(2000, 1, 2)),
        (date(2100, 3, 1), "290200", date(2000, 2, 29)),  # 2100 is not a leap year
    ],
)
def test_century_resolution(yymmdd_today: date, ddmmyy: str, expected: date) -> None:
    assert validate_nik(f"350801{ddmmyy}0001", yymmdd_today).birth_date == expected


def test_normalise_strips_what_people_type_between_groups() -> None:
    assert normalise_nik(" 3508 0145 0790 0002 ") == SAMPLE_NIK
    assert normalise_nik("3508.01.450790.0002") == SAMPLE_NIK
    assert normalise_nik("3508-0145-0790-0002") == SAMPLE_NIK
    assert normalise_nik("3508–0145–0790–0002") == SAMPLE_NIK  # en dash
    full_width = "".join(chr(0xFF10 + int(digit)) for digit in SAMPLE_NIK)
    assert normalise_nik(full_width) == SAMPLE_NIK
    # Letters are kept so validation refuses them instead of validating another number.
    assert normalise_nik("3508a014507900002") == "3508a014507900002"


def test_validate_accepts_typed_forms() -> None:
    for raw in ("3508 0145 0790 0002", "3508.0145.0790.0002", "\t3508014507900002\n"):
        assert validate_nik(raw, SAMPLE_TODAY).nik == SAMPLE_NIK


def test_mask() -> None:
    assert mask_nik(SAMPLE_NIK) == SAMPLE_NIK_MASKED
    assert mask_nik("ABCDEFGHIJKLMNOP") == "ABCD**********OP"
    assert mask_nik("1234567890123") == "1234*******23"  # mistyped: still mostly hidden
    assert mask_nik("12345") == "*****"
    assert mask_nik("") == ""


def test_error_never_contains_the_nik() -> None:
    cases = [
        SAMPLE_NIK[:12] + "0000",
        "350801" + "320190" + "0002",
        "99" + SAMPLE_NIK[2:],
        SAMPLE_NIK + "1",
    ]
    for raw in cases:
        with pytest.raises(NikError) as caught:
            validate_nik(raw, SAMPLE_TODAY)
        error = caught.value
        for text in (str(error), error.detail, repr(error)):
            assert raw[:12] not in text
            assert raw[6:12] not in text  # nor the birth date digits


def test_error_is_a_value_error_and_pickles() -> None:
    with pytest.raises(ValueError):
        validate_nik("123", SAMPLE_TODAY)
    error = NikError(NikProblem.BAD_SERIAL, "serial number 0000 is never issued")
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.problem, copy.detail) == (error.problem, error.detail)


def test_repr_masks_the_nik() -> None:
    info = validate_nik(SAMPLE_NIK, SAMPLE_TODAY)
    assert SAMPLE_NIK not in repr(info)
    assert SAMPLE_NIK_MASKED in repr(info)


@given(nik_cases())
def test_generated_niks_validate_and_round_trip(case: NikCase) -> None:
    info = validate_nik(case.nik, SAMPLE_TODAY)
    assert info.nik == case.nik
    assert info.birth_date == case.birth_date
    assert info.sex == case.sex
    assert info.province_code == case.province_code
    assert info.regency_code == case.nik[:4]
    assert info.district_code == case.nik[:6]
    assert info.serial == case.serial
    assert mask_nik(case.nik) == case.nik[:4] + "*" * 10 + case.nik[-2:]


@given(typed_niks())
def test_typed_forms_validate(typed: tuple[str, str]) -> None:
    raw, canonical = typed
    assert validate_nik(raw, SAMPLE_TODAY).nik == canonical


@given(st.text(max_size=40), st.dates())
@example("3508014507900002", date(1, 1, 1))
@example("0000000000000000", date(9999, 12, 31))
@example("3508019902990000", date(9999, 12, 31))
def test_arbitrary_text_only_raises_nik_error(raw: str, today: date) -> None:
    try:
        info = validate_nik(raw, today)
    except NikError as error:
        assert isinstance(error.problem, NikProblem)
        assert error.detail
    else:
        assert len(info.nik) == 16
        assert info.birth_date <= today


@given(st.text(alphabet="0123456789", min_size=16, max_size=16))
def test_sixteen_digits_only_raise_nik_error(raw: str) -> None:
    try:
        info = validate_nik(raw, SAMPLE_TODAY)
    except NikError as error:
        assert error.problem is not NikProblem.NOT_16_DIGITS
    else:
        assert info.nik == raw


def test_every_dash_and_any_run_of_separators_is_read_as_typed() -> None:
    dashes = [chr(c) for c in range(0x110000) if unicodedata.category(chr(c)) == "Pd"]
    for dash in dashes:
        assert validate_nik(dash.join(("3508", "0145", "0790", "0002")), SAMPLE_TODAY).nik == (
            SAMPLE_NIK
        ), hex(ord(dash))
    full_width = "".join(chr(0xFF10 + int(d)) for d in SAMPLE_NIK)
    for typed in ("3508  0145 \u2013 0790\u00a0\u00a00002", full_width):
        assert validate_nik(typed, SAMPLE_TODAY).nik == SAMPLE_NIK
        assert mask_niks_in(f"nik {typed}.") == f"nik {SAMPLE_NIK_MASKED}."
