"""A full NIK typed into free text (a deny or cancel reason, the purpose, the equipment, the
escort's note at the exit) shows masked wherever that text is shown again: the officer's
messages, /riwayat and the access log's XLSX and PDF, as it already was on the cards
(``bot.core.nik.mask_niks_in``, docs/privacy.md)."""

from __future__ import annotations

import io

from openpyxl import load_workbook
from pypdf import PdfReader

from bot.core.nik import mask_nik
from simulator import BotApiSimulator, SimUser
from tests.conftest import APPROVER, ESCORT, OFFICER
from tests.e2e.test_e2e_reports import document
from tests.flows import Visitor, approve, badge_link, register, scan

NIK_B = "3508012303880003"  # visitor B's own NIK, typed again into free text
OTHER = "3508016204920004"  # someone else's, typed with spaces as on a KTP
OTHER_TYPED = "3508 0162 0492 0004"
FULL = (NIK_B, OTHER)
MASKED = (mask_nik(NIK_B), mask_nik(OTHER))
VISITOR_B = Visitor(
    nik=NIK_B,
    name="Bagus Santoso",
    organisation="CV Mitra Data",
    phone="0813-9876-5432",
    purpose=f"Serah terima laptop untuk NIK {OTHER_TYPED}",  # typed, not a button
    equipment=f"Laptop milik NIK {NIK_B}",
)


def shows_full(text: str) -> bool:
    """A full NIK in ``text``, also across the line breaks and spaces a PDF puts in it."""
    joined = "".join(text.split())
    return any(nik in joined for nik in FULL)


async def todays_documents(officer: SimUser) -> tuple[list[str], str]:
    """/laporan for today: every XLSX cell of the log as text, and the PDF's text."""
    await officer.send_text("/laporan")
    await officer.wait_for("Pilih periode")
    await officer.tap("Hari ini")
    xlsx = await officer.wait_for(
        predicate=lambda m: (m.document_name or "").endswith(".xlsx"), timeout=60
    )
    pdf = await officer.wait_for(predicate=lambda m: (m.document_name or "").endswith(".pdf"))
    sheet = load_workbook(io.BytesIO(document(xlsx)))["Log akses"]
    cells = [str(c) for row in sheet.iter_rows(values_only=True) for c in row if c is not None]
    text = "\n".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(document(pdf))).pages)
    return cells, text


async def test_a_nik_in_a_deny_reason_purpose_and_equipment_shows_masked(
    sim: BotApiSimulator, app: object
) -> None:
    await register(sim, VISITOR_B)
    approver, officer = sim.user(APPROVER), sim.user(OFFICER)
    await approver.wait_for("Permintaan akses ruang server")
    await approver.tap("Tolak")
    await approver.wait_for("alasan penolakan")
    await approver.send_text(f"KTP {NIK_B} tidak cocok dengan surat, lihat NIK {OTHER_TYPED}")
    await approver.wait_for("Permintaan ditolak")

    denied = await officer.wait_for("Pengunjung tidak dapat masuk ruang server")
    assert not shows_full(denied.text_or_caption)
    assert all(masked in denied.text_or_caption for masked in MASKED)

    await officer.send_text(f"/riwayat {NIK_B}")
    history = (await officer.wait_for("Riwayat kunjungan")).text_or_caption
    assert not shows_full(history)
    assert f"Ditolak: KTP {mask_nik(NIK_B)} tidak cocok" in history
    assert f"Serah terima laptop untuk NIK {mask_nik(OTHER)}" in history  # the purpose

    cells, pdf = await todays_documents(officer)
    assert [c for c in cells if shows_full(c)] == []
    assert f"Laptop milik NIK {mask_nik(NIK_B)}" in cells  # the equipment
    assert f"Serah terima laptop untuk NIK {mask_nik(OTHER)}" in cells  # the purpose
    assert any(c.startswith(f"Ditolak: KTP {mask_nik(NIK_B)} tidak cocok") for c in cells)
    assert not shows_full(pdf)
    assert "**********" in pdf


async def test_a_nik_in_a_cancel_reason_and_an_exit_note_shows_masked(
    sim: BotApiSimulator, app: object
) -> None:
    officer, escort = sim.user(OFFICER), sim.user(ESCORT)
    # Visitor A in and out, the escort's note naming a NIK.
    await register(sim)
    await approve(sim)
    link = badge_link(sim)
    await scan(sim, link)
    await escort.tap("Catat MASUK")
    await escort.wait_for("MASUK tercatat")
    await scan(sim, link)
    await escort.tap("Ada selisih")
    await escort.wait_for("Ketik catatannya")
    await escort.send_text(f"Charger milik NIK {OTHER_TYPED} tertinggal di dalam")
    await escort.wait_for("Catatan selisih tersimpan")
    # Visitor B withdrawn by the officer, the reason naming their NIK.
    await register(sim, VISITOR_B)
    await officer.send_text("/batalkan")
    listed = await officer.wait_for("Batalkan permintaan")
    await officer.tap("KRS-2026-00002", listed)
    await officer.wait_for("alasan pembatalan")
    await officer.send_text(f"NIK {NIK_B} salah ketik, didaftarkan ulang")

    done = await officer.wait_for("salah ketik")
    assert not shows_full(done.text_or_caption)
    assert f"NIK {mask_nik(NIK_B)} salah ketik" in done.text_or_caption

    cells, pdf = await todays_documents(officer)
    assert [c for c in cells if shows_full(c)] == []
    notes = "\n".join(cells)
    assert f"Selisih perangkat: Charger milik NIK {mask_nik(OTHER)} tertinggal" in notes
    assert f"NIK {mask_nik(NIK_B)} salah ketik" in notes
    assert not shows_full(pdf)
