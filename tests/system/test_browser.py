"""The demo page in real Chromium: three people complete (or are refused) a visit by clicking.

The demo runs in-process (simulator + page + the real bot on SQLite in tmp_path); the
browser only clicks and types. Each step's screenshot lands in docs/img/.
"""

from __future__ import annotations

from playwright.async_api import Browser, expect

from bot.core.visits import VisitStatus
from demo.web import WebDemo
from tests.flows import NIK_MAN, NIK_WOMAN
from tests.system.browser import (
    NARROW,
    WIDE,
    PhoneView,
    open_demo,
    register,
    scan_badge,
    screenshot,
)

expect.set_options(timeout=10_000)


async def stored(demo: WebDemo, status: VisitStatus) -> list:
    return await demo.app.bot_data.storage.visits.with_status(status)  # type: ignore[attr-defined]


async def test_whole_visit_in_three_phones(demo: WebDemo, browser: Browser) -> None:
    errors: list[str] = []
    page = await open_demo(browser, demo.url, WIDE, errors)
    officer, head, escort = (PhoneView(page, t) for t in ("Petugas", "Kepala Seksi", "Pendamping"))

    # A fresh chat shows Telegram's Start button; the menu lists the officer's commands.
    await officer.root.locator(".start").click()
    await officer.wait_for("Selamat datang")
    await screenshot(page, "01-mulai")
    await register(
        officer,
        1,
        NIK_WOMAN,
        "AYU LESTARI",
        shots=("02a-petugas-ktp-terbaca", "02b-petugas-satu-pesan"),
    )
    await expect(officer.root.locator("li.msg.me img").first).to_be_visible()
    await screenshot(page, "02-petugas-daftar")
    await officer.tap("Kirim ke Kepala Seksi")
    await officer.wait_for("terkirim")

    # The section head's card: the KTP photo, the NIK masked, two buttons.
    card = await head.wait_for("Permintaan akses ruang server")
    await expect(card.locator(".photo img")).to_be_visible()
    await expect(card).to_contain_text("3508**********02")
    assert await head.buttons(card) == ["✅ Setujui", "❌ Tolak"]
    await screenshot(page, "03-kasi-kartu")
    await head.tap("Setujui")
    await head.toast("Disetujui")
    # The card is edited in place: same bubble, decision shown, buttons gone.
    await expect(card).to_contain_text("DISETUJUI oleh Budi")
    await expect(card.locator(".ikb")).to_have_count(0)
    await expect(card.locator(".edited")).to_be_visible()

    # The officer receives the badge picture and its printable PDF.
    badge = await officer.wait_for("🪪 Badge")
    await expect(badge.locator(".photo img")).to_be_visible()
    pdf = officer.root.locator("li.msg.bot .document").last
    await expect(pdf).to_contain_text(".pdf")
    await screenshot(page, "04-petugas-badge")

    # At the door the escort scans the badge shown in the officer's chat.
    await scan_badge(escort, "04b-pendamping-kamera")
    view = await escort.wait_for("Badge pengunjung")
    await expect(view).to_contain_text("AYU LESTARI")
    assert await escort.buttons(view) == ["✅ Catat MASUK"]
    await escort.tap("Catat MASUK")
    await escort.wait_for("MASUK tercatat")
    await officer.wait_for("masuk ruang server")
    await screenshot(page, "05-pendamping-masuk")
    assert [v.entry_escort_id for v in await stored(demo, VisitStatus.INSIDE)] == [301]

    # At the exit: the same badge, the other button; then everyone gets the summary.
    await scan_badge(escort)
    view = await escort.wait_for("Badge pengunjung")
    assert await escort.buttons(view) == ["✅ Perangkat sesuai", "⚠️ Ada selisih"]
    await escort.tap("Perangkat sesuai")
    await escort.wait_for("KELUAR tercatat")
    for phone in (officer, head):
        await phone.wait_for("Kunjungan selesai")
    await screenshot(page, "06-selesai")
    done = await stored(demo, VisitStatus.DONE)
    assert [(v.decided_by, v.exit_escort_id) for v in done] == [(201, 301)]
    assert errors == []


async def test_deny_with_reason_on_a_narrow_screen_then_reset(
    demo: WebDemo, browser: Browser
) -> None:
    errors: list[str] = []
    page = await open_demo(browser, demo.url, NARROW, errors)
    officer, head = PhoneView(page, "Petugas"), PhoneView(page, "Kepala Seksi")
    # One phone at a time: only the chosen tab's phone is on screen.
    await expect(officer.root).to_be_visible()
    await expect(head.root).to_be_hidden()

    await register(officer, 2, NIK_MAN, "BAGUS SANTOSO")
    await officer.tap("Kirim ke Kepala Seksi")
    await officer.wait_for("terkirim")
    await expect(page.locator('.tabs button.unread[data-user="201"]')).to_be_visible()

    await head.show()
    await expect(officer.root).to_be_hidden()
    await head.wait_for("BAGUS SANTOSO")
    await head.tap("Tolak")
    await head.wait_for("alasan penolakan")
    await head.send("Jadwal pemeliharaan bentrok dengan backup")
    await head.wait_for("ditolak")
    # The card is edited through the outbox: shoot it once it says DITOLAK, buttons gone.
    await expect(head.bot("DITOLAK oleh")).to_be_visible()
    await expect(head.bot("Bagus Santoso").locator(".ikb")).to_have_count(0)
    await screenshot(page, "07-kasi-tolak")

    await officer.show()
    refusal = await officer.wait_for("ditolak")
    await expect(refusal).to_contain_text("Jadwal pemeliharaan bentrok dengan backup")
    await screenshot(page, "08-petugas-ditolak")
    [denied] = await stored(demo, VisitStatus.DENIED)
    assert denied.deny_reason == "Jadwal pemeliharaan bentrok dengan backup"

    # Reset asks first; "Batal" keeps everything.
    confirm = page.locator("#confirm-reset")
    await page.locator("#reset").click()
    await expect(confirm).to_be_visible()
    await screenshot(page, "09-konfirmasi-mulai-ulang")
    await confirm.get_by_role("button", name="Batal").click()
    await expect(confirm).to_be_hidden()
    await expect(officer.root.locator("li.msg").first).to_be_visible()
    assert await stored(demo, VisitStatus.DENIED) != []
    # Confirmed: empty chats, a new database, and a bot that answers again.
    await page.locator("#reset").click()
    await confirm.get_by_role("button", name="Mulai ulang").click()
    await expect(officer.root.locator("li.msg")).to_have_count(0)
    await expect(page.locator("#reset")).to_be_enabled()
    assert await stored(demo, VisitStatus.DENIED) == []
    await officer.root.locator(".start").click()
    await officer.wait_for("Selamat datang")
    assert errors == []
