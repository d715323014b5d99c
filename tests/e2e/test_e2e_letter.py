"""The visitor's assignment letter (nomor surat tugas), the form's field added last: asked
after the organisation, shown on the summary, the section head's card, the escort's scan,
the access log (XLSX, PDF, CSV) and /riwayat; "-" (or nothing) when there is none."""

from __future__ import annotations

import csv
import io
from dataclasses import replace
from datetime import date

from openpyxl import load_workbook
from pypdf import PdfReader

from bot.app.services import Services
from bot.core.fields import ASSIGNMENT_LETTER_MAX
from bot.core.form import Act
from bot.reports.export import export_visits
from bot.texts import form as form_texts
from simulator import BotApiSimulator
from tests.conftest import APPROVER, ESCORT, OFFICER, FakeClock
from tests.dbstate import watch
from tests.flows import (
    NIK_MAN,
    Visitor,
    act,
    approve,
    at,
    badge_link,
    fill_in,
    one_line_error,
    scan,
)

LETTER = "090/123/ST/PT-JN/XI/2026"
DAY = date(2026, 11, 28)  # the test clock's day


def document(sim: BotApiSimulator, suffix: str) -> bytes:
    message = next(
        m
        for m in reversed(sim.user(OFFICER).bot_messages)
        if (m.document_name or "").endswith(suffix)
    )
    assert message.document_bytes is not None
    return message.document_bytes


async def csv_export(services: Services, clock: FakeClock) -> list[list[str]]:
    """The access log of the test's day as the command line exports it to CSV."""
    out = io.BytesIO()
    config = services.config
    await export_visits(services.storage, DAY, DAY, "csv", out, config=config, now=clock.now)
    return list(csv.reader(io.StringIO(out.getvalue().decode("utf-8-sig"))))


async def test_a_letter_number_reaches_every_view_of_the_visit(
    sim: BotApiSimulator, app: object, services: Services, clock: FakeClock
) -> None:
    officer = sim.user(OFFICER)
    moves = Visitor(assignment_letter=LETTER).script()
    letter = moves[at(moves, "assignment_letter")]
    assert letter.asked.startswith("Langkah 5/9") and "nomor surat tugas" in letter.asked
    assert moves[at(moves, "organisation")].then == letter.asked  # asked after the organisation
    await officer.send_text("/daftar")
    await officer.wait_for(moves[0].asked)
    summary = await fill_in(officer, moves)
    assert f"No. Surat Tugas: {LETTER}" in summary.text_or_caption
    assert "No. Surat Tugas" in [label for row in summary.buttons for label in row]
    await officer.tap(form_texts.BTN_SUBMIT, summary)
    await officer.wait_for("terkirim")

    card = await sim.user(APPROVER).wait_for("Permintaan akses ruang server")
    details = card.text_or_caption
    assert f"Instansi: PT Jaringan Nusantara\nNo. Surat Tugas: {LETTER}\nHP: " in details
    await approve(sim)
    await scan(sim, badge_link(sim))
    scanned = await sim.user(ESCORT).wait_for("Badge pengunjung")
    assert f"No. Surat Tugas: {LETTER}" in scanned.text_or_caption
    visit = await services.storage.visits.get(1)
    assert visit is not None and visit.assignment_letter == LETTER

    # The access log: a "No. Surat Tugas" column after the organisation, in all three forms.
    await officer.send_text("/laporan")
    await officer.wait_for("Pilih periode")
    await officer.tap("Hari ini")
    await officer.wait_for(
        predicate=lambda m: (m.document_name or "").endswith(".pdf"), timeout=60
    )
    sheet = load_workbook(io.BytesIO(document(sim, ".xlsx")))["Log akses"]
    rows = list(sheet.iter_rows(values_only=True))
    header = list(rows[0])
    assert header[header.index("Instansi") + 1] == "No. Surat Tugas"
    assert rows[1][header.index("No. Surat Tugas")] == LETTER
    pages = PdfReader(io.BytesIO(document(sim, ".pdf"))).pages
    pdf_text = "\n".join(page.extract_text() for page in pages)
    # Ten columns before it, the number's column is narrow: it breaks after a slash, and no
    # heading is cut inside a word to make room for it.
    assert "No. Surat\nTugas" in pdf_text and "090/123/\nST/PT-JN/\nXI/2026" in pdf_text
    assert "Perangkat" in pdf_text and "Pendamping" in pdf_text
    table = await csv_export(services, clock)
    assert table[1][table[0].index("No. Surat Tugas")] == LETTER

    await officer.send_text("/riwayat Ayu")
    history = await officer.wait_for("Riwayat kunjungan")
    assert f"PT Jaringan Nusantara, surat tugas {LETTER}\n  Pemeliharaan server" in (
        history.text_or_caption
    )


async def test_no_letter_is_one_tap_and_shows_as_a_dash(
    sim: BotApiSimulator, app: object, services: Services, clock: FakeClock
) -> None:
    moves = Visitor(nik=NIK_MAN, name="Bayu Aji").script()
    letter = moves[at(moves, "assignment_letter")]
    assert (letter.act, letter.text) == (Act.TAP, "Tidak ada surat tugas")
    officer = sim.user(OFFICER)
    await officer.send_text("/daftar")
    await officer.wait_for(moves[0].asked)
    question = await fill_in(officer, moves[: at(moves, "assignment_letter")])
    assert form_texts.BTN_NO_LETTER in [label for row in question.buttons for label in row]
    summary = await fill_in(officer, moves[at(moves, "assignment_letter") :])
    assert "No. Surat Tugas: -" in summary.text_or_caption
    await officer.tap(form_texts.BTN_SUBMIT, summary)
    card = await sim.user(APPROVER).wait_for("Permintaan akses ruang server")
    assert "No. Surat Tugas: -" in card.text_or_caption
    visit = await services.storage.visits.get(1)
    assert visit is not None and visit.assignment_letter == ""
    await officer.send_text("/riwayat Bayu")
    history = await officer.wait_for("Riwayat kunjungan")
    assert "surat tugas" not in history.text_or_caption  # nothing to show, nothing written
    table = await csv_export(services, clock)
    assert table[1][table[0].index("No. Surat Tugas")] == ""  # blank, like no equipment


async def test_an_over_long_letter_number_is_refused_and_changes_nothing(
    sim: BotApiSimulator, app: object
) -> None:
    moves = Visitor().script()
    officer = sim.user(OFFICER)
    await officer.send_text("/daftar")
    await officer.wait_for(moves[0].asked)
    await fill_in(officer, moves[: at(moves, "assignment_letter")])
    db = await watch(app, sim)
    await officer.send_text("9" * (ASSIGNMENT_LETTER_MAX + 1))
    asked = moves[at(moves, "assignment_letter")].asked
    refusal = await one_line_error(officer, "terlalu panjang", asked)
    assert refusal.text_or_caption.startswith(
        f"Nomor surat tugas terlalu panjang (maksimal {ASSIGNMENT_LETTER_MAX} karakter)"
    )
    await db.unchanged()
    # Exactly the limit is taken, and the form goes on.
    longest = replace(
        moves[at(moves, "assignment_letter")], act=Act.TYPE, text="9" * ASSIGNMENT_LETTER_MAX
    )
    await act(officer, longest)
    summary = await fill_in(officer, moves[at(moves, "assignment_letter") + 1 :])
    assert f"No. Surat Tugas: {longest.text}" in summary.text_or_caption
