"""Render the sample report and chart shown in README.md and docs/laporan.md.

    .venv/bin/python docs/make_report_samples.py

Writes docs/laporan-contoh.pdf, docs/img/laporan-contoh.png (the PDF's first page, through
pdftoppm from poppler-utils) and docs/img/statistik-contoh.png. The visits are made up
(fixed random seed); the NIKs are specimens that only look valid.
"""

from __future__ import annotations

import random
import shutil
import subprocess
import sys
import tempfile
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.core.period import Period  # noqa: E402
from bot.core.standards import TimeStandards  # noqa: E402
from bot.core.visits import EquipmentCheck, Visit, VisitStatus  # noqa: E402
from bot.reports.export import render  # noqa: E402
from bot.reports.log import build_access_log  # noqa: E402

WIB = ZoneInfo("Asia/Jakarta")
STAFF = {101: "Sari Wulandari", 201: "Budi Santoso", 202: "Rina Kartika", 301: "Dewi Anggraini"}
PEOPLE = [
    ("Ayu Lestari", "PT Jaringan Nusantara"),
    ("Bayu Aji Pratama", "CV Data Prima"),
    ("Citra Dewi", "Dinas Pendidikan"),
    ("Dimas Saputra", "PT Telkom Indonesia"),
    ("Eko Prasetyo", "BPKAD Kab. Lumajang"),
    ("Fitri Handayani", "Inspektorat"),
    ("Gilang Ramadhan", "PT Lintas Data Jatim"),
    ("Hendra Wijaya", "Bappeda"),
]
PURPOSES = [
    ("Pemeliharaan server", "Laptop, kabel konsol"),
    ("Instalasi perangkat", "Switch 24 port"),
    ("Perbaikan jaringan", "Tang crimping, tester LAN"),
    ("Audit / pemeriksaan", ""),
    ("Pengambilan / penyerahan perangkat", "Hard disk 2 TB"),
]


def sample_visits() -> list[Visit]:
    rng = random.Random(4)
    visits: list[Visit] = []
    day = date(2026, 11, 2)
    number = 0
    while day <= date(2026, 11, 27):
        count = rng.choice([0, 1, 1, 2, 2, 3]) if day.weekday() < 5 else 0
        minutes = sorted(rng.randint(8 * 60, 15 * 60) for _ in range(count))
        for minute in minutes:  # ids in submission order, as the database gives them
            number += 1
            name, organisation = rng.choice(PEOPLE)
            purpose, equipment = rng.choice(PURPOSES)
            planned = rng.choice([30, 30, 60, 60, 90])
            start = datetime(day.year, day.month, day.day, tzinfo=WIB)
            start = (start + timedelta(minutes=minute)).astimezone(UTC)
            form = start + timedelta(minutes=rng.choice([5, 6, 7, 8, 9, 12]))
            submitted = form + timedelta(minutes=rng.choice([2, 3, 4, 6]))
            decided = submitted + timedelta(minutes=rng.choice([3, 4, 6, 8, 9, 14]))
            entered = decided + timedelta(minutes=rng.randint(4, 15))
            inside = planned + rng.choice([-10, -5, 0, 0, 5, 20])
            visit = Visit(
                id=number,
                status=VisitStatus.DONE,
                visitor_id=number,
                nik=f"3508{rng.randint(10, 99)}{rng.randint(10, 28):02d}0{rng.randint(1, 9)}"
                f"{rng.randint(70, 99)}{rng.randint(1, 9999):04d}",
                name=name,
                organisation=organisation,
                phone="0812xxxxxxxx",
                purpose=purpose,
                duration_minutes=planned,
                equipment=equipment,
                ktp_file_id="",
                officer_id=101,
                started_at=start,
                form_done_at=form,
                submitted_at=submitted,
                handover_at=submitted + timedelta(seconds=2),
                decided_at=decided,
                decided_by=rng.choice([201, 201, 202]),
                entered_at=entered,
                entry_escort_id=rng.choice([101, 301]),
                exited_at=entered + timedelta(minutes=inside),
            )
            visit = replace(visit, exit_escort_id=visit.entry_escort_id)
            if organisation.startswith(("PT ", "CV ")):  # vendors bring a surat tugas
                initials = "".join(w[0] for w in organisation.split()[1:])
                letter = f"{number:03d}/ST/{initials}/XI/2026"
                visit = replace(visit, assignment_letter=letter)
            if number % 11 == 0:
                visit = replace(
                    visit,
                    status=VisitStatus.DENIED,
                    deny_reason="Jadwal belum disetujui",
                    entered_at=None,
                    entry_escort_id=None,
                    exited_at=None,
                    exit_escort_id=None,
                )
            elif number % 13 == 5:  # approved, then withdrawn by the officer (/batalkan)
                visit = replace(
                    visit,
                    status=VisitStatus.CANCELLED,
                    cancelled_at=decided + timedelta(minutes=25),
                    cancelled_by=101,
                    cancel_reason="Pengunjung berhalangan hadir",
                    entered_at=None,
                    entry_escort_id=None,
                    exited_at=None,
                    exit_escort_id=None,
                )
            if visit.status == VisitStatus.DONE and equipment:  # checked at the exit
                differs = number == 3
                visit = replace(
                    visit,
                    equipment_check=EquipmentCheck.DIFFERS if differs else EquipmentCheck.MATCHES,
                    equipment_note="Switch dibawa kembali, belum dipasang" if differs else None,
                )
            visits.append(visit)
        day += timedelta(days=1)
    return visits


def main() -> None:
    period = Period(date(2026, 11, 1), date(2026, 11, 30))
    log = build_access_log(
        sample_visits(),
        period,
        tz=WIB,
        standards=TimeStandards(),
        names=STAFF,
        now=datetime(2026, 11, 30, 2, 0, tzinfo=UTC),
    )
    docs = ROOT / "docs"
    (docs / "img").mkdir(exist_ok=True)
    pdf = render(log, "pdf")
    (docs / "laporan-contoh.pdf").write_bytes(pdf)
    (docs / "img" / "statistik-contoh.png").write_bytes(render(log, "png"))
    if shutil.which("pdftoppm") is None:
        print("pdftoppm not found (apt-get install poppler-utils); page image not made")
        return
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "laporan.pdf"
        source.write_bytes(pdf)
        prefix = Path(tmp) / "page"
        subprocess.run(
            ["pdftoppm", "-png", "-r", "80", "-f", "1", "-l", "1", "-singlefile", source, prefix],
            check=True,
        )
        shutil.copyfile(prefix.with_suffix(".png"), docs / "img" / "laporan-contoh.png")
    print(f"{len(log.rows)} visits; wrote docs/laporan-contoh.pdf and docs/img/*-contoh.png")


if __name__ == "__main__":
    main()
