"""Draw the specimen KTP photos the demo's officer phone offers (run once, commit the JPEGs).

    python -m simulator.web.make_samples

They come from the benchmark's specimen generator (bench/ktp_corpus.py): the e-KTP layout,
made-up people, SPESIMEN across the card and a banner saying it is not a real KTP, then
photographed on a table as an officer's phone would. So the demo's form is prefilled by the
same reader the benchmark measures (tests/system/test_ktp_reader.py reads these files).
Their NIKs pass the bot's validation (region 35.08.01, Lumajang; birth date with +40 on
the day for women; serial not 0000) and agree with the printed birth date and sex.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from bench.ktp_corpus import Person, draw_card, jpeg_bytes, photograph

OUT = Path(__file__).parent / "static" / "samples"


@dataclass(frozen=True)
class Sample:
    file: str
    person: Person
    seed: int  # the font, the table and the camera's angle: a seed the reader reads

    @property
    def nik(self) -> str:
        return self.person.nik


def _person(nik: str, name: str, born: date, sex: str, address: str, job: str) -> Person:
    return Person(
        nik=nik,
        name=name,
        birth_place="LUMAJANG",
        born=born,
        sex=sex,
        province="JAWA TIMUR",
        regency="KABUPATEN LUMAJANG",
        town="LUMAJANG",
        address=address,
        job=job,
        religion="ISLAM",
    )


PEOPLE = (
    Sample(
        "ktp-1.jpg",
        _person(
            "3508015507900002",
            "AYU LESTARI",
            date(1990, 7, 15),
            "P",
            "JL. CONTOH NO. 1",
            "KARYAWAN SWASTA",
        ),
        seed=6,
    ),
    Sample(
        "ktp-2.jpg",
        _person(
            "3508010102850001",
            "BAGUS SANTOSO",
            date(1985, 2, 1),
            "L",
            "JL. PERCOBAAN NO. 2",
            "WIRASWASTA",
        ),
        seed=13,
    ),
)


def photo(sample: Sample) -> bytes:
    """The sample's JPEG: the same bytes for the same seed."""
    rng = random.Random(sample.seed)
    return jpeg_bytes(photograph(draw_card(sample.person, rng), rng))


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for sample in PEOPLE:
        (OUT / sample.file).write_bytes(photo(sample))
        print(OUT / sample.file)


if __name__ == "__main__":
    main()
