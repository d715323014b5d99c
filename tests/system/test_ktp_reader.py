"""The KTP reader on a fixed sample of specimen photos (bench/ktp_corpus.py, seed 4242),
and its command line, `python -m bot ktp read`."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from bot.ocr.reader import NotAnImage, read_ktp
from simulator.web.make_samples import OUT as SAMPLES
from simulator.web.make_samples import PEOPLE as DEMO_SAMPLES
from simulator.web.make_samples import Sample

FIXTURES = Path(__file__).parent.parent / "fixtures" / "ktp"
TRUTH = [json.loads(line) for line in (FIXTURES / "truth.jsonl").read_text("utf-8").splitlines()]
ROOT = Path(__file__).parent.parent.parent
TODAY = date(2026, 12, 2)


@pytest.mark.parametrize("truth", TRUTH, ids=[t["file"] for t in TRUTH])
def test_each_sample_reads_exactly_as_printed(truth: dict[str, str]) -> None:
    reading = read_ktp((FIXTURES / truth["file"]).read_bytes(), TODAY)
    assert reading.nik == truth["nik"]
    assert reading.name == truth["name"]
    assert reading.birth_place == truth["birth_place"]
    assert reading.birth_date == date.fromisoformat(truth["birth_date"])
    assert reading.sex == truth["sex"]
    assert reading.confidence > 0.5


@pytest.mark.parametrize("sample", DEMO_SAMPLES, ids=[s.file for s in DEMO_SAMPLES])
def test_the_demo_pages_specimen_ktps_are_read(sample: Sample) -> None:
    """The KTPs the browser demo's officer attaches (simulator/web/static/samples) prefill
    the form: read exactly, NIK first."""
    reading = read_ktp((SAMPLES / sample.file).read_bytes(), TODAY)
    assert reading.nik == sample.nik
    assert reading.name == sample.person.name
    assert (reading.birth_place, reading.birth_date) == (
        sample.person.birth_place,
        sample.person.born,
    )
    assert reading.sex == sample.person.sex


def test_a_card_whose_printed_birth_date_disagrees_with_its_nik_gets_no_nik() -> None:
    # The card says 15-09-1967; its NIK says the 14th (a woman: 54 = 14 + 40).
    reading = read_ktp((FIXTURES / "disagreeing-date.jpg").read_bytes(), TODAY)
    assert reading.nik is None
    assert reading.birth_date == date(1967, 9, 15) and reading.sex == "P"


def test_a_photo_without_a_card_gives_nothing_rather_than_guesses() -> None:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (900, 600), (120, 90, 60)).save(buffer, "JPEG")
    reading = read_ktp(buffer.getvalue(), TODAY)
    assert (reading.nik, reading.name, reading.birth_date) == (None, None, None)


def test_bytes_that_are_not_an_image_are_refused() -> None:
    with pytest.raises(NotAnImage):
        read_ktp(b"%PDF-1.4 not a photo", TODAY)


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", "ktp", "read", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_command_prints_one_json_line_per_photo() -> None:
    files = [str(FIXTURES / t["file"]) for t in TRUTH[:2]]
    done = _cli(*files)
    assert done.returncode == 0, done.stderr
    out = [json.loads(line) for line in done.stdout.splitlines()]
    assert [o["file"] for o in out] == files
    for line, truth in zip(out, TRUTH[:2], strict=True):
        assert set(line) == {
            "file",
            "nik",
            "name",
            "birth_place",
            "birth_date",
            "sex",
            "confidence",
        }
        assert (line["nik"], line["name"], line["birth_date"], line["sex"]) == (
            truth["nik"],
            truth["name"],
            truth["birth_date"],
            truth["sex"],
        )
    assert done.stderr == ""


def test_the_command_names_a_file_that_is_not_an_image_and_goes_on(tmp_path: Path) -> None:
    text = tmp_path / "catatan.jpg"
    text.write_text("bukan foto")
    done = _cli(str(text), str(FIXTURES / TRUTH[0]["file"]), str(tmp_path / "hilang.jpg"))
    assert done.returncode == 1
    assert len(done.stdout.splitlines()) == 1  # the readable photo still gets its line
    errors = done.stderr.splitlines()
    assert errors == [
        f"{text}: not an image (expected a JPEG or PNG photo)",
        f"{tmp_path / 'hilang.jpg'}: cannot open the file (No such file or directory)",
    ]
