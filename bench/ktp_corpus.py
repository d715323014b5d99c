"""Synthetic *specimen* KTP photos with their ground truth, for measuring the KTP reader.

    python -m bench.ktp_corpus OUT_DIR --count 300 --seed 1

Every card is made up: invented names, a SPESIMEN overprint and a red banner saying it is
not a real KTP. No real person's card is ever drawn or committed. The layout follows the
e-KTP (header with province and regency, the NIK line, labelled fields, the photo box on
the right), and each NIK is consistent with the printed birth date and sex (day + 40 for
women) and with the province and regency in the header, as a real one is.

A card is then "photographed": laid on a table, turned up to 15 degrees, seen at a slant
(keystone), lit unevenly, with a glare spot, blur, sensor noise and JPEG compression, at
800-1600 px wide: what an officer's phone sends.

The split used for tuning and the held-out split differ only by seed; `bench/ktp_ocr.py`
reports both.
"""

from __future__ import annotations

import argparse
import io
import json
import math
import random
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

CARD = (856, 540)  # ID-1 proportions (85.6 x 54 mm) at 10 px per mm

FONT_DIRS = (
    Path("/usr/share/fonts/truetype/dejavu"),
    Path("/usr/share/fonts/truetype/liberation"),
)
# (regular, bold) pairs; Debian's fonts-dejavu-core and fonts-liberation.
FONTS = (
    ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf"),
    ("LiberationSans-Regular.ttf", "LiberationSans-Bold.ttf"),
    ("LiberationSansNarrow-Regular.ttf", "LiberationSansNarrow-Bold.ttf"),
    ("DejaVuSansCondensed.ttf", "DejaVuSansCondensed-Bold.ttf"),
)

# (province code, province, regency code, regency, its main town) - real codes (Permendagri).
REGIONS = (
    ("35", "JAWA TIMUR", "08", "KABUPATEN LUMAJANG", "LUMAJANG"),
    ("35", "JAWA TIMUR", "73", "KOTA MALANG", "MALANG"),
    ("35", "JAWA TIMUR", "78", "KOTA SURABAYA", "SURABAYA"),
    ("35", "JAWA TIMUR", "09", "KABUPATEN JEMBER", "JEMBER"),
    ("35", "JAWA TIMUR", "13", "KABUPATEN PROBOLINGGO", "PROBOLINGGO"),
    ("32", "JAWA BARAT", "73", "KOTA BANDUNG", "BANDUNG"),
    ("33", "JAWA TENGAH", "74", "KOTA SEMARANG", "SEMARANG"),
    ("34", "DAERAH ISTIMEWA YOGYAKARTA", "71", "KOTA YOGYAKARTA", "YOGYAKARTA"),
    ("31", "DKI JAKARTA", "71", "KOTA ADM. JAKARTA PUSAT", "JAKARTA"),
    ("51", "BALI", "71", "KOTA DENPASAR", "DENPASAR"),
)

FIRST = (
    "AYU",
    "BAGUS",
    "CITRA",
    "DEWI",
    "EKO",
    "FAJAR",
    "GILANG",
    "HENDRA",
    "INDAH",
    "JOKO",
    "KARTIKA",
    "LUKMAN",
    "MEGA",
    "NUR",
    "OKTAVIA",
    "PUTRI",
    "RAHMAT",
    "SITI",
    "TEGUH",
    "UMI",
    "VINA",
    "WAHYU",
    "YUSUF",
    "ZAINAL",
    "AHMAD",
    "BUDI",
    "DIAN",
    "SRI",
    "AGUS",
)
MIDDLE = ("", "", "", "NUR", "DWI", "TRI", "ADI", "PUTRA", "SARI", "M.", "MOH.", "A.")
LAST = (
    "LESTARI",
    "SANTOSO",
    "WIJAYA",
    "HIDAYAT",
    "PRASETYO",
    "KURNIAWAN",
    "RAHAYU",
    "SETIAWAN",
    "HANDAYANI",
    "SAPUTRA",
    "MA'RUF",
    "NUR'AINI",
    "SYAHPUTRA",
    "WULANDARI",
    "FIRMANSYAH",
    "RAMADHAN",
    "ISMA'IL",
    "HASANUDDIN",
    "KUSUMA",
    "PRATAMA",
)
STREETS = ("JL. MELATI", "JL. KENANGA", "JL. MERDEKA", "DUSUN KRAJAN", "JL. SUDIRMAN")
JOBS = ("KARYAWAN SWASTA", "WIRASWASTA", "PEGAWAI NEGERI SIPIL", "PELAJAR/MAHASISWA", "PETANI")
RELIGIONS = ("ISLAM", "KRISTEN", "KATOLIK", "HINDU", "BUDDHA")


@dataclass(frozen=True)
class Truth:
    """What the reader should find on the card (the CLI's JSON fields)."""

    file: str
    nik: str
    name: str
    birth_place: str
    birth_date: str  # YYYY-MM-DD
    sex: str  # "L" or "P"


@dataclass(frozen=True)
class Person:
    nik: str
    name: str
    birth_place: str
    born: date
    sex: str
    province: str
    regency: str
    town: str
    address: str
    job: str
    religion: str


def make_person(rng: random.Random) -> Person:
    prov_code, province, reg_code, regency, town = rng.choice(REGIONS)
    sex = rng.choice("LP")
    born = date(1950, 1, 1) + timedelta(days=rng.randrange(0, 365 * 55))
    day = born.day + (40 if sex == "P" else 0)
    district = f"{rng.randrange(1, 30):02d}"
    serial = f"{rng.randrange(1, 9999):04d}"
    nik = f"{prov_code}{reg_code}{district}{day:02d}{born.month:02d}{born.year % 100:02d}{serial}"
    parts = [rng.choice(FIRST), rng.choice(MIDDLE), rng.choice(LAST)]
    name = " ".join(p for p in parts if p)
    birth_place = town if rng.random() < 0.7 else rng.choice(REGIONS)[4]
    return Person(
        nik=nik,
        name=name,
        birth_place=birth_place,
        born=born,
        sex=sex,
        province=province,
        regency=regency,
        town=town,
        address=f"{rng.choice(STREETS)} NO. {rng.randrange(1, 200)}",
        job=rng.choice(JOBS),
        religion=rng.choice(RELIGIONS),
    )


def _font(name: str, size: int) -> ImageFont.FreeTypeFont:
    for folder in FONT_DIRS:
        path = folder / name
        if path.exists():
            return ImageFont.truetype(str(path), size)
    raise FileNotFoundError(
        f"font {name} not found; install Debian's fonts-dejavu-core and fonts-liberation"
    )


def draw_card(person: Person, rng: random.Random | None = None) -> Image.Image:
    """The flat card, as a scanner would see it."""
    rng = rng or random.Random(0)
    regular, bold = rng.choice(FONTS)
    w, h = CARD
    tint = tuple(int(c + rng.uniform(-8, 8)) for c in (176, 210, 236))
    card = Image.new("RGB", CARD, tint)  # type: ignore[arg-type]
    draw = ImageDraw.Draw(card)
    # Fine diagonal guilloche lines, as printed under a real card's text.
    shade = tuple(c - 10 for c in tint)
    for x in range(-h, w, 18):
        draw.line([(x, h), (x + h, 0)], fill=shade, width=1)  # type: ignore[arg-type]
    header = _font(bold, 30)
    for y, line in ((14, f"PROVINSI {person.province}"), (50, person.regency)):
        width = draw.textlength(line, font=header)
        draw.text(((w - width) / 2, y), line, fill="black", font=header)
    nik_font = _font(bold, 38)
    draw.text((28, 98), "NIK", fill="black", font=nik_font)
    draw.text((128, 98), f": {person.nik}", fill="black", font=nik_font)
    label_font, value_font = _font(regular, 21), _font(regular, 21)
    sex_word = "LAKI-LAKI" if person.sex == "L" else "PEREMPUAN"
    rows = [
        ("Nama", person.name),
        ("Tempat/Tgl Lahir", f"{person.birth_place}, {person.born:%d-%m-%Y}"),
        ("Jenis Kelamin", f"{sex_word}"),
        ("Alamat", person.address),
        ("RT/RW", f"{rng.randrange(1, 20):03d}/{rng.randrange(1, 12):03d}"),
        ("Kel/Desa", "KRAJAN"),
        ("Kecamatan", person.town),
        ("Agama", person.religion),
        ("Status Perkawinan", rng.choice(("KAWIN", "BELUM KAWIN"))),
        ("Pekerjaan", person.job),
        ("Kewarganegaraan", "WNI"),
        ("Berlaku Hingga", "SEUMUR HIDUP"),
    ]
    for index, (label, value) in enumerate(rows):
        y = 156 + index * 29
        draw.text((30, y), label, fill="black", font=label_font)
        draw.text((232, y), f": {value}", fill="black", font=value_font)
    draw.text((440, 156 + 2 * 29), "Gol. Darah : -", fill="black", font=label_font)
    # The photo box: a grey silhouette, never anybody's face.
    draw.rectangle([650, 140, 826, 372], fill=(222, 222, 222), outline="black", width=2)
    draw.ellipse([698, 168, 778, 248], fill=(150, 150, 150))
    draw.pieslice([668, 250, 808, 410], 180, 360, fill=(150, 150, 150))
    small = _font(regular, 18)
    draw.text((668, 384), person.town[:14], fill="black", font=small)
    draw.text(
        (668, 406),
        f"{rng.randrange(1, 28):02d}-0{rng.randrange(1, 9)}-2019",
        font=small,
        fill="black",
    )
    draw.line([(672, 446), (700, 432), (730, 452), (770, 430)], fill="black", width=2)
    return _stamp(card, bold)


def _stamp(card: Image.Image, bold: str) -> Image.Image:
    """SPESIMEN across the card and a banner: nobody can mistake it for a real KTP."""
    w, h = CARD
    layer = Image.new("RGBA", CARD, (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    draw.text((170, 150), "SPESIMEN", fill=(210, 0, 0, 70), font=_font(bold, 120))
    layer = layer.rotate(14, resample=Image.Resampling.BICUBIC)
    stamped = Image.alpha_composite(card.convert("RGBA"), layer)
    banner = ImageDraw.Draw(stamped)
    banner.rectangle([0, h - 40, w, h], fill=(200, 0, 0))
    text = "SPESIMEN - DATA KARANGAN - BUKAN KTP ASLI"
    font = _font(bold, 22)
    width = banner.textlength(text, font=font)
    banner.text(((w - width) / 2, h - 34), text, fill="white", font=font)
    return stamped.convert("RGB")


def _perspective_coeffs(
    src: list[tuple[float, float]], dst: list[tuple[float, float]]
) -> list[float]:
    """PIL's 8 coefficients mapping output points `dst` back to input points `src`."""
    rows = []
    for (x, y), (u, v) in zip(dst, src, strict=True):
        rows.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        rows.append([0, 0, 0, x, y, 1, -v * x, -v * y])
    a = np.array(rows, dtype=float)
    b = np.array([c for point in src for c in point], dtype=float)
    return list(np.linalg.solve(a, b))


def photograph(card: Image.Image, rng: random.Random) -> Image.Image:
    """The card as an officer's phone sends it."""
    w, h = card.size
    out_w = rng.randrange(800, 1601)
    out_h = int(out_w * rng.uniform(0.68, 0.8))
    # The card fills 60-85 % of the frame's width, turned and seen at a slant.
    scale = out_w * rng.uniform(0.6, 0.85) / w
    angle = math.radians(rng.uniform(-15, 15))
    cx, cy = (
        out_w / 2 + rng.uniform(-0.04, 0.04) * out_w,
        out_h / 2 + rng.uniform(-0.04, 0.04) * out_h,
    )
    corners = [(-w / 2, -h / 2), (w / 2, -h / 2), (w / 2, h / 2), (-w / 2, h / 2)]
    keystone = rng.uniform(-0.08, 0.08)  # one side nearer the camera than the other
    tilt = rng.uniform(-0.06, 0.06)
    while True:  # the whole card in the frame, as the officer is asked to photograph it
        placed = []
        for x, y in corners:
            x2 = x * (1 + keystone * (y / h * 2)) * scale
            y2 = y * (1 + tilt * (x / w * 2)) * scale
            xr = x2 * math.cos(angle) - y2 * math.sin(angle) + cx
            yr = x2 * math.sin(angle) + y2 * math.cos(angle) + cy
            placed.append((xr, yr))
        margin = 0.02 * out_w
        if all(
            margin <= px <= out_w - margin and margin <= py <= out_h - margin for px, py in placed
        ):
            break
        scale *= 0.95
    src = [(0.0, 0.0), (float(w), 0.0), (float(w), float(h)), (0.0, float(h))]
    coeffs = _perspective_coeffs(src, placed)
    table = tuple(
        int(c) for c in (rng.uniform(60, 200), rng.uniform(50, 180), rng.uniform(40, 160))
    )
    background = Image.new("RGB", (out_w, out_h), table)  # type: ignore[arg-type]
    grain = np.random.default_rng(rng.randrange(1 << 30)).normal(0, 12, (out_h, out_w, 1))
    background = Image.fromarray(
        np.clip(np.asarray(background, dtype=float) + grain, 0, 255).astype(np.uint8)
    )
    warped = card.transform(
        (out_w, out_h), Image.Transform.PERSPECTIVE, coeffs, Image.Resampling.BICUBIC
    )
    mask = Image.new("L", card.size, 255).transform(
        (out_w, out_h), Image.Transform.PERSPECTIVE, coeffs, Image.Resampling.BILINEAR
    )
    background.paste(warped, (0, 0), mask)
    pixels = np.asarray(background, dtype=float)
    # Uneven light: a gradient across the frame, darker on one side.
    yy, xx = np.mgrid[0:out_h, 0:out_w]
    direction = rng.uniform(0, 2 * math.pi)
    ramp = (xx * math.cos(direction) + yy * math.sin(direction)) / max(out_w, out_h)
    light = 1.0 - rng.uniform(0.1, 0.35) * (ramp - ramp.min()) / (np.ptp(ramp) or 1)
    pixels *= light[..., None]
    # Glare: a soft bright spot somewhere on the card.
    if rng.random() < 0.6:
        gx, gy = rng.choice(placed)
        gx, gy = (gx + cx) / 2 + rng.uniform(-80, 80), (gy + cy) / 2 + rng.uniform(-60, 60)
        radius = rng.uniform(0.05, 0.12) * out_w
        spot = np.exp(-(((xx - gx) ** 2 + (yy - gy) ** 2) / (2 * radius**2)))
        pixels += rng.uniform(60, 130) * spot[..., None]
    pixels += np.random.default_rng(rng.randrange(1 << 30)).normal(
        0, rng.uniform(2, 7), pixels.shape
    )
    photo = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))
    blur = rng.uniform(0, 1.4)
    if blur > 0.3:
        photo = photo.filter(ImageFilter.GaussianBlur(blur))
    buffer = io.BytesIO()
    photo.save(buffer, "JPEG", quality=rng.randrange(55, 91))
    buffer.seek(0)
    return Image.open(buffer)


def generate(out: Path, count: int, seed: int) -> list[Truth]:
    """Write `count` photos and truth.jsonl to `out`; the same seed gives the same files."""
    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    truths = []
    for index in range(count):
        person = make_person(rng)
        photo = photograph(draw_card(person, rng), rng)
        name = f"ktp-{seed}-{index:04d}.jpg"
        (out / name).write_bytes(jpeg_bytes(photo))
        truths.append(
            Truth(
                name,
                person.nik,
                person.name,
                person.birth_place,
                person.born.isoformat(),
                person.sex,
            )
        )
    with (out / "truth.jsonl").open("w", encoding="utf-8") as handle:
        for truth in truths:
            handle.write(json.dumps(asdict(truth)) + "\n")
    return truths


def jpeg_bytes(photo: Image.Image) -> bytes:
    # `photograph` already compressed it; keep those bytes rather than compress twice.
    fp = getattr(photo, "fp", None)
    if fp is not None and hasattr(fp, "getvalue"):
        return bytes(fp.getvalue())
    buffer = io.BytesIO()
    photo.save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--count", type=int, default=300)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    truths = generate(args.out, args.count, args.seed)
    print(f"{len(truths)} specimen photos in {args.out}")


if __name__ == "__main__":
    main()
