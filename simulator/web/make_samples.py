"""Draw the specimen KTP pictures the demo's officer phone offers (run once, commit the JPEGs).

    python -m simulator.web.make_samples

The people are made up and every card says SPESIMEN across it, so a screenshot can never
pass for a real identity card. Their NIKs pass the bot's validation (region 35.08.01,
Lumajang; birth date with +40 on the day for women; serial not 0000), which a test checks.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

OUT = Path(__file__).parent / "static" / "samples"
SIZE = (856, 540)  # ID-1 card proportions, as a phone photo of a KTP would be cropped


@dataclass(frozen=True)
class Person:
    file: str
    nik: str
    name: str
    born: str
    sex: str
    address: str
    job: str


PEOPLE = (
    Person(
        "ktp-1.jpg",
        "3508015507900002",
        "AYU LESTARI",
        "LUMAJANG, 15-07-1990",
        "PEREMPUAN",
        "JL. CONTOH NO. 1",
        "KARYAWAN SWASTA",
    ),
    Person(
        "ktp-2.jpg",
        "3508010102850001",
        "BAGUS SANTOSO",
        "LUMAJANG, 01-02-1985",
        "LAKI-LAKI",
        "JL. PERCOBAAN NO. 2",
        "WIRASWASTA",
    ),
)


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


def draw_card(person: Person) -> Image.Image:
    card = Image.new("RGB", SIZE, (168, 206, 236))
    draw = ImageDraw.Draw(card)
    # Faint diagonal stripes stand in for the guilloche print of a real card.
    for x in range(-SIZE[1], SIZE[0], 24):
        draw.line([(x, SIZE[1]), (x + SIZE[1], 0)], fill=(158, 198, 230), width=2)
    for y, line in ((18, "PROVINSI JAWA TIMUR"), (52, "KABUPATEN LUMAJANG")):
        width = draw.textlength(line, font=_font(30))
        draw.text(((SIZE[0] - width) / 2, y), line, fill="black", font=_font(30))
    draw.text((30, 100), f"NIK  :  {person.nik}", fill="black", font=_font(36))
    rows = [
        ("Nama", person.name),
        ("Tempat/Tgl Lahir", person.born),
        ("Jenis Kelamin", person.sex),
        ("Alamat", person.address),
        ("Kecamatan", "LUMAJANG"),
        ("Agama", "-"),
        ("Pekerjaan", person.job),
        ("Kewarganegaraan", "WNI"),
        ("Berlaku Hingga", "SEUMUR HIDUP"),
    ]
    for index, (label, value) in enumerate(rows):
        y = 160 + index * 38
        draw.text((30, y), label, fill="black", font=_font(22))
        draw.text((250, y), f":  {value}", fill="black", font=_font(22))
    # The photo box: a grey silhouette, not anybody's face.
    draw.rectangle([640, 150, 820, 390], fill=(225, 225, 225), outline="black", width=2)
    draw.ellipse([690, 180, 770, 260], fill=(150, 150, 150))
    draw.pieslice([660, 260, 800, 420], 180, 360, fill=(150, 150, 150))
    draw.text((655, 400), "LUMAJANG", fill="black", font=_font(20))
    return _stamp(card)


def _stamp(card: Image.Image) -> Image.Image:
    """SPESIMEN in red across the whole card, so nobody mistakes it for a real KTP."""
    layer = Image.new("RGBA", SIZE, (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    draw.text((90, 200), "SPESIMEN", fill=(210, 0, 0, 150), font=_font(150))
    layer = layer.rotate(18, resample=Image.Resampling.BICUBIC)
    stamped = Image.alpha_composite(card.convert("RGBA"), layer)
    banner = ImageDraw.Draw(stamped)
    banner.rectangle([0, SIZE[1] - 44, SIZE[0], SIZE[1]], fill=(200, 0, 0))
    text = "SPESIMEN - DATA KARANGAN - BUKAN KTP ASLI"
    width = banner.textlength(text, font=_font(26))
    banner.text(((SIZE[0] - width) / 2, SIZE[1] - 38), text, fill="white", font=_font(26))
    return stamped.convert("RGB")


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for person in PEOPLE:
        draw_card(person).save(OUT / person.file, "JPEG", quality=85, optimize=True)
        print(OUT / person.file)


if __name__ == "__main__":
    main()
