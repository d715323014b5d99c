"""The access log's reports through the simulator: /laporan, /statistik, /riwayat."""

from __future__ import annotations

import asyncio
import contextlib
import csv
import io
import os
from pathlib import Path

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from bot.app.services import Services
from bot.core import callbacks
from bot.core.period import Period
from bot.reports.export import load_access_log, render
from bot.texts import common as common_texts
from simulator import BotApiSimulator
from simulator.message import SimMessage
from tests.conftest import ADMIN, APPROVER, ESCORT, OFFICER, FakeClock
from tests.dbstate import watch
from tests.flows import NIK_MAN, NIK_WOMAN, Visitor, approve, badge_link, register, scan

MASKED_WOMAN = "3508**********02"
MASKED_MAN = "3508**********01"


async def enter_and_exit(sim: BotApiSimulator, clock: FakeClock, minutes: int) -> None:
    link = badge_link(sim)
    escort = sim.user(ESCORT)
    await scan(sim, link)
    await escort.tap("Catat MASUK")
    await escort.wait_for("MASUK tercatat")
    clock.advance(minutes=minutes)
    await scan(sim, link)
    await escort.tap("Perangkat sesuai")
    await escort.wait_for("KELUAR tercatat")


async def handed_over(services: Services, visit_id: int) -> None:
    """Wait until the approval card reached a section head (the outbox sends it), so the
    hand-over time is taken before the test moves the clock."""
    for _ in range(500):
        visit = await services.storage.visits.get(visit_id)
        if visit is not None and visit.handover_at is not None:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"visit {visit_id} never handed over")


async def three_visits(sim: BotApiSimulator, services: Services, clock: FakeClock) -> None:
    """Ayu: decision 12 min (over 10) and 45 min inside a 30 min plan: two breaches;
    Bayu: everything within standard; Citra: still waiting for a decision after 15 min."""
    await register(sim)
    await handed_over(services, 1)
    clock.advance(minutes=12)
    await approve(sim)
    clock.advance(minutes=2)
    await enter_and_exit(sim, clock, 45)
    await register(sim, Visitor(nik=NIK_MAN, name="Bayu Aji", organisation="CV Data Prima"))
    await handed_over(services, 2)
    clock.advance(minutes=3)
    await approve(sim)
    await enter_and_exit(sim, clock, 20)
    await register(
        sim, Visitor(nik="3508014112950003", name="Citra Dewi", organisation="Dinas Pendidikan")
    )
    await handed_over(services, 3)
    clock.advance(minutes=15)


def document(message: SimMessage) -> bytes:
    assert message.document_bytes is not None
    return message.document_bytes


async def test_report_documents_xlsx_and_pdf(
    sim: BotApiSimulator, app: object, services: Services, clock: FakeClock
) -> None:
    await three_visits(sim, services, clock)
    officer = sim.user(OFFICER)
    await officer.send_text("/laporan")
    chooser = await officer.wait_for("Pilih periode")
    assert chooser.buttons == [["Hari ini", "Minggu ini", "Bulan ini"]]
    await officer.tap("Hari ini")
    xlsx_msg = await officer.wait_for(
        predicate=lambda m: (m.document_name or "").endswith(".xlsx"), timeout=60
    )
    pdf_msg = await officer.wait_for(predicate=lambda m: (m.document_name or "").endswith(".pdf"))
    assert xlsx_msg.document_name == "laporan-akses-2026-11-28_2026-11-28.xlsx"
    assert "3</b> permintaan" in xlsx_msg.caption_html or "3 permintaan" in xlsx_msg.caption

    # The spreadsheet: header, one row per visit, NIK masked, breaches named.
    sheet = load_workbook(io.BytesIO(document(xlsx_msg)))["Log akses"]
    rows = list(sheet.iter_rows(values_only=True))
    header, body = rows[0], rows[1:]
    assert header[:5] == ("No", "Tanggal", "Ref", "Nama", "NIK")
    assert "Masuk (WIB)" in header and "Pelanggaran standar waktu" in header
    assert [r[3] for r in body] == ["Ayu Lestari", "Bayu Aji", "Citra Dewi"]
    assert [r[4] for r in body] == [MASKED_WOMAN, MASKED_MAN, "3508**********03"]
    col = {title: i for i, title in enumerate(header)}
    ayu, bayu, citra = body
    assert ayu[col["Disetujui oleh"]] == "Budi Kasi"
    assert ayu[col["Pendamping"]] == "Dewi Pendamping"
    assert ayu[col["Durasi (mnt)"]] == 45
    assert ayu[col["Masuk (WIB)"]].strftime("%H:%M") == "09:14"  # 02:14 UTC
    breaches = ayu[col["Pelanggaran standar waktu"]]
    assert "Keputusan 12 > 10 mnt" in breaches and "Kunjungan 45 > 30 mnt" in breaches
    assert bayu[col["Pelanggaran standar waktu"]] is None
    assert citra[col["Status"]] == "Menunggu"
    assert "Keputusan 15+ > 10 mnt" in citra[col["Pelanggaran standar waktu"]]
    assert sheet.freeze_panes == "A2"
    flat = " ".join(str(v) for row in rows for v in row if v is not None)
    assert NIK_WOMAN not in flat and NIK_MAN not in flat

    # The printable log: letterhead, title, the rows, page numbers, signature block.
    text = "\n".join(
        page.extract_text() for page in PdfReader(io.BytesIO(document(pdf_msg))).pages
    )
    for expected in (
        "PEMERINTAH KABUPATEN LUMAJANG",
        "DINAS KOMUNIKASI DAN INFORMATIKA",
        "Pencatatan Akses Ruang Server",
        "Periode: 28-11-2026",
        "Halaman 1 dari 1",
        "Kepala Seksi Pengelolaan dan Pengembangan Infrastruktur SPBE",
        "Ayu Lestari",
        "Bayu Aji",
        "Citra Dewi",
        MASKED_WOMAN,
        "Keputusan 12 > 10 mnt",
    ):
        assert expected in text, expected
    assert NIK_WOMAN not in text

    # Who took a copy is in the audit log.
    events = await services.storage.audit.events()
    assert any(e.action == "report_sent" and e.actor_id == OFFICER for e in events)


async def test_report_for_typed_dates_and_bad_input(
    sim: BotApiSimulator, app: object, clock: FakeClock
) -> None:
    await register(sim)
    approver = sim.user(APPROVER)
    await approver.send_text("/laporan 01-11-2026 2026-11-30")
    sent = await approver.wait_for(predicate=lambda m: (m.document_name or "").endswith(".pdf"))
    assert sent.document_name == "laporan-akses-2026-11-01_2026-11-30.pdf"
    await approver.send_text("/laporan 2026-10-01 2026-10-31")
    await approver.wait_for("Tidak ada permintaan akses pada periode 01-10-2026 s.d. 31-10-2026")
    db = await watch(app, sim)
    await approver.send_text("/laporan kemarin")
    await approver.wait_for("Tanggal tidak dikenali")
    await approver.send_text("/laporan 2026-11-30 2026-11-01")
    await approver.wait_for("Tanggal awal harus sebelum")
    await approver.send_text("/laporan 2024-01-01 2026-11-30")
    await approver.wait_for("Periode terlalu panjang")
    await db.unchanged()


async def test_statistics_chart(
    sim: BotApiSimulator, app: object, services: Services, clock: FakeClock
) -> None:
    await three_visits(sim, services, clock)
    admin = sim.user(ADMIN)
    await admin.send_text("/statistik")
    await admin.wait_for("Statistik standar waktu")
    await admin.tap("Minggu ini")
    # Generous: on a fresh machine matplotlib first builds its font cache.
    chart = await admin.wait_for(predicate=lambda m: m.photo_bytes is not None, timeout=90)
    assert chart.photo_bytes is not None and chart.photo_bytes.startswith(b"\x89PNG")
    caption = chart.text_or_caption
    assert "3 permintaan" in caption and "3 pelanggaran standar waktu" in caption
    assert "Keputusan: 2 dari 3" in caption and "Kunjungan: 1 dari 2" in caption


async def test_history_by_nik_and_name(
    sim: BotApiSimulator, app: object, clock: FakeClock
) -> None:
    # The clock jumps a day: the badge sweep (first run a second after start) would expire the
    # approved visit whenever it happens to run, and the history would show that instead.
    for job in app.job_queue.jobs():  # type: ignore[attr-defined]
        if job.name == "_expiry_sweep":
            job.schedule_removal()
    await register(sim)
    await approve(sim)
    clock.advance(days=1)
    await register(sim)  # the same visitor returns
    officer = sim.user(OFFICER)
    await officer.send_text(f"/riwayat {NIK_WOMAN[:4]} {NIK_WOMAN[4:]}")
    reply = await officer.wait_for("Riwayat kunjungan")
    text = reply.text_or_caption
    assert "(2)" in text and MASKED_WOMAN in text and NIK_WOMAN not in text
    assert text.index("29-11-2026") < text.index("28-11-2026")  # newest first
    assert "Menunggu" in text and "Disetujui" in text
    await officer.send_text("/riwayat lestari")
    reply = await officer.wait_for("Riwayat kunjungan: lestari")
    assert "Ayu Lestari" in reply.text_or_caption
    await officer.send_text("/riwayat Budi_%")
    await officer.wait_for("Tidak ada riwayat kunjungan")
    await officer.send_text("/riwayat 1234567890123456")
    await officer.wait_for("Tidak ada riwayat kunjungan untuk 1234**********56")
    db = await watch(app, sim)
    await officer.send_text("/riwayat ab")
    await officer.wait_for("paling sedikit 3 huruf")
    await officer.send_text("/riwayat")
    await officer.wait_for("Ketik NIK atau nama")  # the next text would be the answer...
    await officer.send_text("/batal")  # ...until /batal ends the wait
    await officer.wait_for("dibatalkan")
    await db.unchanged()


async def test_batal_takes_the_period_buttons_away(sim: BotApiSimulator, app: object) -> None:
    """/statistik then /batal: "dibatalkan", and the prompt's buttons go with it, so a tap on
    "Hari ini" later cannot still make the statistics."""
    head = sim.user(APPROVER)
    db = await watch(app, sim)
    for command in ("/statistik", "/laporan"):
        await head.send_text(command)
        prompt = await head.wait_for(predicate=lambda m: bool(m.buttons))
        await head.send_text("/batal")
        await head.wait_for("dibatalkan")
        await sim.settle()
        assert prompt.buttons == []
    await db.unchanged()  # no report was made


async def test_escort_is_refused_politely(sim: BotApiSimulator, app: object) -> None:
    db = await watch(app, sim)
    escort = sim.user(ESCORT)
    for command in ("/laporan", "/statistik 2026-11-01 2026-11-28", "/riwayat Ayu"):
        await escort.send_text(command)
        reply = await escort.wait_for("hanya untuk Petugas, Kepala Seksi, dan Admin")
        assert reply.buttons == []
    # A forged period button from a modified client changes nothing either.
    forged = await escort.send_callback(reply, callbacks.pack(callbacks.REPORT, "month"))
    await sim.settle()
    assert forged.answer is not None and "hanya untuk Petugas" in forged.answer.text
    assert not any(m.document_name for m in escort.bot_messages)
    await db.unchanged()
    assert ("laporan", "Laporan pencatatan akses (XLSX dan PDF)") in sim.commands_for(OFFICER)
    assert "laporan" not in [c for c, _ in sim.commands_for(ESCORT)]


async def test_a_deny_reason_is_in_every_report_and_the_history(
    sim: BotApiSimulator, app: object, services: Services, clock: FakeClock
) -> None:
    """Issue 14 part 7: the reports showed only "Ditolak"; the reason the section head
    typed is now in the Catatan column of the XLSX and CSV, under the row in the PDF, and
    in /riwayat."""
    reason = "Surat tugas belum ada <vendor>"
    await register(sim)
    approver = sim.user(APPROVER)
    await approver.wait_for("Permintaan akses ruang server")
    await approver.tap("Tolak")
    await approver.wait_for("alasan penolakan")
    await approver.send_text(reason)
    await approver.wait_for("Permintaan ditolak")
    await sim.settle()

    officer = sim.user(OFFICER)
    row, text, table = await todays_log(sim, services, clock)
    assert row["Status"] == "Ditolak"
    assert row["Disetujui oleh"] == "(ditolak: Budi Kasi)"
    assert row["Catatan"] == f"Ditolak: {reason}"
    assert f"Catatan: Ditolak: {reason}" in text.splitlines()  # a line under the row
    assert table["Catatan"] == f"Ditolak: {reason}"

    await officer.send_text("/riwayat Ayu")
    history = await officer.wait_for("Riwayat kunjungan")
    assert "Ditolak" in history.text and f"Ditolak: {reason}" in history.text
    assert history.html is not None  # sent as HTML, the reason escaped in it
    assert "Ditolak: Surat tugas belum ada &lt;vendor&gt;" in history.html


async def todays_log(
    sim: BotApiSimulator, services: Services, clock: FakeClock, by: int = OFFICER
) -> tuple[dict[str, object], str, dict[str, str]]:
    """Today's access log as a person gets it (/laporan, Hari ini) and as the CLI's CSV: the
    one visit's XLSX row by column title, the PDF's text, and the CSV row by column title."""
    person = sim.user(by)
    await person.send_text("/laporan")
    await person.wait_for("Pilih periode")
    await person.tap("Hari ini")
    xlsx = await person.wait_for(
        predicate=lambda m: (m.document_name or "").endswith(".xlsx"), timeout=60
    )
    pdf = await person.wait_for(predicate=lambda m: (m.document_name or "").endswith(".pdf"))
    rows = list(load_workbook(io.BytesIO(document(xlsx)))["Log akses"].iter_rows(values_only=True))
    (row,) = rows[1:]
    text = "\n".join(
        page.extract_text() or "" for page in PdfReader(io.BytesIO(document(pdf))).pages
    )
    day = clock.now.astimezone(services.config.timezone).date()
    log = await load_access_log(services.storage, services.config, Period(day, day), clock.now)
    table = list(csv.reader(io.StringIO(render(log, "csv").decode("utf-8-sig"))))
    return (
        dict(zip(map(str, rows[0]), row, strict=True)),
        text,
        dict(zip(table[0], table[1], strict=True)),
    )


def xlsx_writers() -> list[int]:
    """This process's children named xlsx-writer (bot/reports/xlsx_worker.py)."""
    found = []
    for task in Path(f"/proc/{os.getpid()}/task").iterdir():
        children = (task / "children").read_text().split()
        for pid in children:
            with contextlib.suppress(OSError):
                if Path(f"/proc/{pid}/comm").read_text().strip() == "xlsx-writer":
                    found.append(int(pid))
    return found


async def test_a_failed_workbook_is_an_error_like_any_other(
    sim: BotApiSimulator,
    app: object,
    services: Services,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The XLSX writer's process fails (here its XlsxWriter cannot load): the person is
    told as for any error, the admins get the grouped report, nothing is sent and nobody
    is recorded as having taken the log, and no writer is left running."""
    await sim.user(ADMIN).send_text("/start")  # a bot may only write to people who wrote to it
    await register(sim)
    broken = tmp_path / "broken" / "xlsxwriter"
    broken.mkdir(parents=True)
    (broken / "__init__.py").write_text('raise RuntimeError("XlsxWriter broken on purpose")\n')
    # The writer's environment keeps PYTHONPATH (after the bot's own folder): this
    # xlsxwriter comes before the installed one there, and only there.
    monkeypatch.setenv("PYTHONPATH", str(broken.parent))
    officer = sim.user(OFFICER)
    await officer.send_text("/laporan 28-11-2026 28-11-2026")
    await officer.wait_for(common_texts.ERROR)
    report = await sim.user(ADMIN).wait_for("Galat pada bot")
    assert "WorkbookFailed" in report.text_or_caption
    assert not [m for m in officer.bot_messages if m.document_name]
    events = await services.storage.audit.events()
    assert not [e for e in events if e.action == "report_sent"]
    assert xlsx_writers() == []

    monkeypatch.delenv("PYTHONPATH")  # the next export works again
    await officer.send_text("/laporan 28-11-2026 28-11-2026")
    await officer.wait_for(
        predicate=lambda m: (m.document_name or "").endswith(".xlsx"), timeout=60
    )
    assert xlsx_writers() == []
