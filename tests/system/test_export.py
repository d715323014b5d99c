"""``python -m bot export`` on a seeded database, in all three formats."""

from __future__ import annotations

import asyncio
import csv
import io
import sqlite3
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
from storage import audit
from storage.crypto import Cipher
from storage.db import Storage
from storage.visits import BadgeHashes
from tests.conftest import AUDIT_KEY, KEY, SECRET
from tests.system.test_backup_cli import bot, one_line, unprivileged

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


ARGS = ["--from", "2026-11-01", "--to", "2026-11-07"]


def report_events(config_path: Path) -> list[tuple[object, ...]]:
    raw = sqlite3.connect(load_config(config_path, env={}).database_path)
    try:
        sql = "SELECT action, actor_id, visit_id, detail FROM audit_events WHERE action = ?"
        return raw.execute(sql, ("report_sent",)).fetchall()
    finally:
        raw.close()


def test_export_refuses_a_file_that_exists_unless_forced(
    config_path: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture,
) -> None:
    args = ["export", "--config", str(config_path), *ARGS]
    out = tmp_path / "log.xlsx"
    out.write_bytes(b"an earlier export")
    assert main([*args, "--out", str(out)]) == 2
    assert capsys.readouterr().err.splitlines() == [
        f"export: {out} exists already; choose a new file name, or add --force to replace it"
    ]
    assert out.read_bytes() == b"an earlier export"
    assert main([*args, "--out", str(out), "--force"]) == 0
    assert len(list(load_workbook(out)["Log akses"].iter_rows())) == 1 + 6
    assert [p.name for p in tmp_path.glob("log.xlsx*")] == ["log.xlsx"]  # no temporary file
    # The default file name, in the current folder, as well.
    monkeypatch.chdir(tmp_path)
    default = tmp_path / "laporan-akses-2026-11-01_2026-11-07.csv"
    default.write_bytes(b"an earlier export")
    assert main([*args, "--format", "csv"]) == 2
    assert default.read_bytes() == b"an earlier export"
    assert main([*args, "--format", "csv", "--force"]) == 0
    assert default.read_text("utf-8-sig").count("Pengunjung") == 6


def test_each_export_is_audited_as_the_chat_reports_are(
    config_path: Path, tmp_path: Path, capsysbinary: pytest.CaptureFixture
) -> None:
    """Who took a copy of the log, and of which days: /laporan records ``report_sent`` with
    the period; from the command line, by no staff member (as ``privacy export``)."""
    args = ["export", "--config", str(config_path), *ARGS, "--format", "csv"]
    assert main([*args, "--out", str(tmp_path / "log.csv")]) == 0
    assert main([*args, "--out", "-"]) == 0
    assert capsysbinary.readouterr().out.decode("utf-8-sig").count("Pengunjung") == 6
    empty = ["--from", "2027-01-01", "--to", "2027-01-31", "--out", str(tmp_path / "none.csv")]
    assert main(["export", "--config", str(config_path), *empty]) == 0  # no visits: no copy
    assert report_events(config_path) == [("report_sent", None, None, "2026-11-01_2026-11-07")] * 2
    config = load_config(config_path, env={})
    chain = asyncio.run(audit.verify(config.database_path, config.audit_key))
    assert chain.ok, chain.problem


@pytest.mark.parametrize("where", ["no folder", "under a file", "a folder it may not write"])
def test_an_output_path_it_cannot_write_is_one_line(
    config_path: Path, tmp_path: Path, where: str
) -> None:
    """Refused before the export is made or audited: one line naming the path and why."""
    prefix: list[str] = []
    if where == "no folder":
        out, why = tmp_path / "no" / "log.xlsx", "No such file or directory"
    elif where == "under a file":
        out, why = config_path / "log.xlsx", "Not a directory"
    else:
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        locked.chmod(0o500)
        out, why, prefix = locked / "log.xlsx", "Permission denied", unprivileged()
    done = bot("export", "--config", str(config_path), *ARGS, "--out", str(out), prefix=prefix)
    assert one_line(done) == f"export: cannot write {out}: {why}"
    assert not out.parent.is_dir() or not list(out.parent.iterdir())  # nothing left there
    assert report_events(config_path) == []
