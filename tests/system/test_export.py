"""``python -m bot export`` on a seeded database, in all three formats."""

from __future__ import annotations

import csv
import io
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from bot.app.config import load_config
from bot.cli.main import main
from bot.core import visits as lifecycle
from bot.core.roles import Role
from bot.core.visits import VisitDraft
from bot.reports.export import export_visits
from storage.crypto import Cipher
from storage.db import Storage
from storage.visits import BadgeHashes
from tests.conftest import AUDIT_KEY, KEY, SECRET

T0 = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)  # 08:00 WIB
VISITS = 12
CONFIG = """\
[telegram]
token = "123456:TEST-TOKEN-abcdefghijklmnopqrstuv"

[storage]
data_dir = "data"

[security]
signing_secret = "{secret}"
encryption_key = "{key}"
audit_key = "{audit}"

[[staff]]
id = 1001
name = "Sari Petugas"
roles = ["officer", "escort"]

[[staff]]
id = 2001
name = "Budi Kasi"
roles = ["approver"]
"""


async def seed(storage: Storage, count: int) -> None:
    """``count`` finished visits, one a day from T0; every third one stays inside too long."""
    for i in range(count):
        start = T0 + timedelta(days=i)
        draft = VisitDraft(
            nik=f"350801550790{i + 1:04d}",
            name=f"Pengunjung {i + 1}",
            organisation="PT Jaringan Nusantara",
            phone="081234567890",
            purpose="Pemeliharaan server",
            duration_minutes=30,
            equipment="",
            ktp_file_id=f"file-{i}",
            started_at=start,
            form_done_at=start + timedelta(minutes=6),
        )
        visit = await storage.visits.submit(draft, 1001, start + timedelta(minutes=8))
        decided = start + timedelta(minutes=12)
        approve = lifecycle.approve(visit, 2001, decided, decided + timedelta(hours=2))
        approved = await storage.visits.apply(approve, badge=BadgeHashes(f"t{i}", f"c{i}"))
        assert approved is not None
        inside = await storage.visits.apply(
            lifecycle.enter(approved, 1001, start + timedelta(minutes=20))
        )
        assert inside is not None
        minutes = 50 if i % 3 == 0 else 25
        left = start + timedelta(minutes=20 + minutes)
        assert await storage.visits.apply(lifecycle.exit_(inside, 1001, left)) is not None


@pytest.fixture
async def config_path(tmp_path: Path) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(
        CONFIG.format(secret=SECRET.decode(), key=KEY.decode(), audit=AUDIT_KEY.decode()),
        encoding="utf-8",
    )
    config = load_config(path, env={})
    storage = await Storage.open(
        config.database_path, Cipher(config.encryption_key), config.audit_key
    )
    try:
        await seed(storage, VISITS)
    finally:
        await storage.close()
    return path


def test_export_xlsx_pdf_csv(
    config_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    args = ["export", "--config", str(config_path), "--from", "2026-11-01", "--to", "07-11-2026"]
    out = tmp_path / "log.xlsx"
    assert main([*args, "--format", "xlsx", "--out", str(out)]) == 0
    rows = list(load_workbook(out)["Log akses"].iter_rows(values_only=True))
    assert len(rows) == 1 + 6  # 2..7 November
    assert rows[1][3] == "Pengunjung 1" and rows[1][4] == "3508**********01"
    assert "Kunjungan 50 > 30 mnt" in rows[1][-1] and rows[2][-1] is None

    pdf = tmp_path / "log.pdf"
    assert main([*args, "--format", "pdf", "--out", str(pdf)]) == 0
    text = "\n".join(p.extract_text() for p in PdfReader(pdf).pages)
    assert "Pengunjung 6" in text and "Pengunjung 7" not in text
    assert "Halaman 1 dari 1" in text and "Budi Kasi" in text

    monkeypatch.chdir(tmp_path)  # the default file name lands in the current folder
    assert main([*args, "--format", "csv"]) == 0
    data = (tmp_path / "laporan-akses-2026-11-01_2026-11-07.csv").read_text("utf-8-sig")
    table = list(csv.reader(io.StringIO(data)))
    assert len(table) == 7 and table[6][3] == "Pengunjung 6"


def test_export_as_a_command(config_path: Path, tmp_path: Path) -> None:
    """The real entry point, the way an administrator runs it, writing CSV to stdout."""
    args = ["--from", "2026-11-01", "--to", "2026-11-30", "--format", "csv", "--out", "-"]
    result = subprocess.run(
        [sys.executable, "-m", "bot", "export", "--config", str(config_path), *args],
        capture_output=True,
        check=True,
        timeout=120,
        cwd=Path(__file__).resolve().parents[2],
    )
    lines = result.stdout.decode("utf-8-sig").splitlines()
    assert len(lines) == 1 + VISITS
    assert f"{VISITS} visits" in result.stderr.decode()


def test_export_errors(config_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    base = ["export", "--config", str(config_path), "--format", "xlsx"]
    assert main([*base, "--from", "2026-11-30", "--to", "2026-11-01"]) == 2
    assert main([*base, "--from", "kemarin", "--to", "2026-11-01"]) == 2
    missing = ["export", "--config", str(tmp_path / "none.toml"), "--from", "2026-11-01"]
    assert main([*missing, "--to", "2026-11-02"]) == 2
    config_path.with_name("data").joinpath("akses.sqlite3").rename(tmp_path / "moved.sqlite3")
    assert main([*base, "--from", "2026-11-01", "--to", "2026-11-02"]) == 1
    errors = capsys.readouterr().err
    assert "is after" in errors and "no database" in errors


async def test_export_visits_from_an_open_storage(config_path: Path) -> None:
    """What the benchmarks call: an open Storage and a stream, no config needed."""
    config = load_config(config_path, env={})
    storage = await Storage.open(
        config.database_path, Cipher(config.encryption_key), config.audit_key
    )
    try:
        # Staff added in the chat are in the staff table only; the log names them from it.
        await storage.staff.seed([(2001, "Budi dari Chat", frozenset({Role.APPROVER}))], T0)
        out = io.BytesIO()
        result = await export_visits(
            storage, T0.date(), (T0 + timedelta(days=40)).date(), "xlsx", out
        )
    finally:
        await storage.close()
    assert result.rows == VISITS and result.size == len(out.getvalue()) and result.path is None
    rows = list(load_workbook(out)["Log akses"].iter_rows(values_only=True))
    col = {title: i for i, title in enumerate(rows[0])}
    assert rows[1][col["Disetujui oleh"]] == "Budi dari Chat"
    assert rows[1][col["Pendamping"]] == "ID 1001"  # in neither the table nor a config: by id
