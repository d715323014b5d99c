"""The demo page in real Chromium, beyond the paper SOP (issue 14): the watchlist's second
confirmation, the KTP photo on the escort's scan, the evacuation roll call, the equipment
check at KELUAR, and a visit planned for today opened from /hari_ini; then, in a second
demo run with [rules] on, the rules step and a visitor's own form from /undang_tamu.

One demo run, one browser page, one visitor inside: each step's screenshot lands in
$AKSES_SCREENSHOTS (`make screenshots` sets docs/img) as 1N-/2N-<name>.png for the guides.
"""

from __future__ import annotations

import re
from dataclasses import asdict
from datetime import datetime, time, timedelta

from playwright.async_api import Browser, expect

from bot.core.form import DECLARED, INVITE_FORM, PLAN_FORM, RULES, Act
from bot.core.visits import EquipmentCheck, VisitStatus
from bot.texts import door as door_texts
from bot.texts import form as form_texts
from bot.texts import guests as guest_texts
from bot.texts import planning as plan_texts
from bot.texts import watchlist as watch_texts
from demo.web import WebDemo
from tests.flows import NIK_MAN, Visitor, fill_in
from tests.system.browser import (
    WIDE,
    PhoneView,
    open_demo,
    register,
    scan_badge,
    screenshot,
)

expect.set_options(timeout=10_000)

BARRED = "BAGUS SANTOSO"  # specimen KTP 2 (NIK_MAN)
NOTE = "Kabel konsol tertinggal di rak 3"


async def opened(phone: PhoneView) -> PhoneView:
    """A chat never opened shows only Telegram's Start button: press it first."""
    start = phone.root.locator(".start")
    if await start.is_visible():
        await start.click()
        await phone.wait_for("Selamat datang")
    return phone


def window_around(now: datetime) -> str:
    """A window on today's date that holds the present moment (the demo runs in real time)."""
    start = max(datetime.combine(now.date(), time(0, 0), now.tzinfo), now - timedelta(hours=1))
    end = min(datetime.combine(now.date(), time(23, 59), now.tzinfo), now + timedelta(hours=2))
    return f"{start:%H}:00-{end:%H:%M}"


async def test_features_beyond_the_sop(demo: WebDemo, browser: Browser) -> None:
    errors: list[str] = []
    page = await open_demo(browser, demo.url, WIDE, errors)
    officer, head, escort = (PhoneView(page, t) for t in ("Petugas", "Kepala Seksi", "Pendamping"))
    storage = demo.app.bot_data.storage  # type: ignore[attr-defined]

    # The watchlist: the section head bars a NIK; the officer then registers that visitor.
    await opened(head)
    await head.send(f"/blokir {NIK_MAN} merusak rak server pada kunjungan sebelumnya")
    await head.wait_for("masuk daftar blokir")
    await register(officer, 2, NIK_MAN, BARRED)
    await officer.tap("Kirim ke Kepala Seksi")
    receipt = await officer.wait_for("terkirim")
    await expect(receipt).to_contain_text("NIK pengunjung ini ada dalam daftar blokir")
    card = head.bot("Permintaan akses ruang server")
    await expect(card).to_contain_text("NIK dalam daftar blokir")
    await expect(head.bot("Peringatan blokir")).to_be_visible()
    # Setujui only turns into the second confirmation; the card still says why.
    await head.tap("Setujui")
    alert = head.root.locator(".alert")
    await expect(alert).to_contain_text("Ya, setujui meski diblokir")
    await alert.get_by_role("button", name="OK").click()
    await expect(alert).to_be_hidden()
    await expect(card.locator(".ikb", has_text=watch_texts.BTN_APPROVE_BARRED)).to_be_visible()
    assert await head.buttons(card) == [watch_texts.BTN_APPROVE_BARRED, "❌ Tolak"]
    assert await storage.visits.with_status(VisitStatus.PENDING) != []
    await screenshot(page, "10-kasi-blokir")
    await head.tap(watch_texts.BTN_APPROVE_BARRED)
    await expect(card).to_contain_text("DISETUJUI oleh Budi")
    await officer.wait_for("🪪 Badge")

    # Identity at the door: the scan shows the KTP photo to compare with the face.
    await escort.wait_for("Pengunjung menunggu")
    await scan_badge(escort)
    view = await escort.wait_for("Badge pengunjung")
    await expect(view.locator(".photo img")).to_be_visible()
    await expect(view).to_contain_text(BARRED)
    assert await escort.buttons(view) == ["✅ Catat MASUK"]
    await screenshot(page, "11-pendamping-foto-ktp")
    await escort.tap("Catat MASUK")
    await escort.wait_for("MASUK tercatat")

    # The evacuation roll call: every phone gets the list, the escort marks the visitor safe.
    await officer.send("/darurat")
    for phone in (officer, head, escort):
        roll = await phone.wait_for("APEL DARURAT")
        await expect(roll).to_contain_text("belum aman")
    assert await escort.buttons(escort.bot("APEL DARURAT")) == [f"✅ Aman: {BARRED}"]
    await screenshot(page, "12-apel-darurat")
    await escort.tap("Aman:")
    for phone in (officer, head, escort):
        await expect(phone.bot("APEL DARURAT")).to_contain_text("Semua pengunjung aman")
        await expect(phone.bot("APEL DARURAT").locator(".ikb")).to_have_count(0)
    await screenshot(page, "13-apel-aman")

    # The exit: the listed equipment is checked; a discrepancy takes a note.
    await scan_badge(escort)
    view = await escort.wait_for("Badge pengunjung")
    await expect(view).to_contain_text("Laptop, kabel konsol")
    assert await escort.buttons(view) == [door_texts.BTN_EXIT_OK, door_texts.BTN_EXIT_DIFF]
    await screenshot(page, "14-keluar-perangkat")
    await escort.tap(door_texts.BTN_EXIT_DIFF)
    await escort.wait_for("Selisih perangkat")
    await escort.send(NOTE)
    await escort.wait_for("KELUAR tercatat")
    for phone in (officer, head):
        summary = phone.bot("Ada selisih perangkat saat keluar")
        await expect(summary).to_contain_text(NOTE)
    await screenshot(page, "15-selisih-perangkat")
    [done] = await storage.visits.with_status(VisitStatus.DONE)
    assert (done.equipment_check, done.equipment_note) == (EquipmentCheck.DIFFERS, NOTE)

    # A visit planned for today: /jadwal, decided ahead, then /hari_ini at the desk.
    now = datetime.now(demo.app.bot_data.config.timezone)  # type: ignore[attr-defined]
    window = window_around(now)
    visitor = Visitor(name="Ayu Lestari", equipment=None)
    values = {**asdict(visitor), "planned_date": f"{now:%d-%m-%Y}", "window": window}
    await officer.send("/jadwal")
    for move in form_texts.script(values, PLAN_FORM):
        await officer.wait_for(move.asked)
        if move.act == Act.TAP:
            await officer.tap(move.text)
        else:
            await officer.send(move.text)
    await officer.wait_for(form_texts.SUMMARY_TITLE)
    await officer.tap("Kirim ke Kepala Seksi")
    await officer.wait_for("terkirim")
    planned = head.bot("TERJADWAL")
    await expect(planned).to_contain_text(window)
    await head.tap("Setujui")
    await head.toast(plan_texts.APPROVED_AHEAD_TOAST[:20])
    await officer.wait_for("disetujui")
    [scheduled] = await storage.visits.with_status(VisitStatus.SCHEDULED)
    assert scheduled.plan is not None and scheduled.plan.window == window
    await officer.send("/hari_ini")
    listed = await officer.wait_for("Kunjungan terjadwal hari ini")
    assert await officer.buttons(listed) == [f"{window} Ayu Lestari"]
    await screenshot(page, "16-hari-ini")
    await officer.tap(f"{window} Ayu Lestari")
    await officer.wait_for("foto KTP")
    await officer.attach_sample(1)
    check = await officer.wait_for("Cocokkan KTP dengan orangnya")
    assert await officer.buttons(check) == [plan_texts.BTN_ISSUE, plan_texts.BTN_RETAKE, "✖ Batal"]
    await screenshot(page, "17-jadwal-cocokkan")
    assert errors == []


RULES_TOML = """
[rules]
enabled = true
text = \"\"\"1. Badge dipakai selama di ruang server.
2. Dilarang makan dan minum di dalam ruang server.
3. Perangkat yang dibawa masuk dicatat dan diperiksa saat keluar.\"\"\"
"""
GUEST = 901  # a visitor with Telegram, not staff: driven through the simulator, no phone


async def test_rules_and_self_registration(demo: WebDemo, browser: Browser) -> None:
    """With [rules] on (this test's config only), the form's last step shows the rules; then
    /undang_tamu's link, and the section head's card of the visitor's own form."""
    with demo.config_path.open("a", encoding="utf-8") as config:
        config.write(RULES_TOML)
    await demo.reset()  # the bot starts again with the rules on
    errors: list[str] = []
    page = await open_demo(browser, demo.url, WIDE, errors)
    officer, head = PhoneView(page, "Petugas"), PhoneView(page, "Kepala Seksi")
    await opened(head)
    await register(officer, 2, NIK_MAN, BARRED, rules_shot="18-tata-tertib")
    await officer.tap("Kirim ke Kepala Seksi")
    await expect(head.bot("Permintaan akses ruang server")).to_contain_text("Tata tertib")

    now = datetime.now(demo.app.bot_data.config.timezone)  # type: ignore[attr-defined]
    values = {"planned_date": f"{now + timedelta(days=1):%d-%m-%Y}", "window": "09:00-11:00"}
    await officer.send("/undang_tamu")
    for move in form_texts.script(values, INVITE_FORM):
        await officer.wait_for(move.asked)
        await (officer.tap if move.act == Act.TAP else officer.send)(move.text)
    await officer.wait_for(form_texts.INVITE_SUMMARY_TITLE)
    await officer.tap(guest_texts.BTN_GUEST_LINK)
    made = await officer.wait_for("Tautan isi mandiri untuk kunjungan")
    await expect(made).to_contain_text("?start=tamu_")
    await screenshot(page, "19-undang-tamu")

    # The visitor opens the link on their own phone and fills in the form, rules included.
    payload = re.search(r"start=(tamu_[A-Za-z0-9_-]{32})", await made.inner_text())
    assert payload is not None
    guest = demo.sim.add_user(GUEST, "Ayu")
    await guest.send_text(f"/start {payload.group(1)}")
    await guest.wait_for("Selamat datang")
    answers = {**asdict(Visitor()), "rules": form_texts.BTN_RULES_AGREED}
    moves = form_texts.script(answers, DECLARED.enabled({RULES}), visitor=True)
    summary = await fill_in(guest, moves)
    await guest.tap(form_texts.BTN_SUBMIT, summary)
    card = head.bot("Diisi sendiri oleh pengunjung")
    await expect(card).to_contain_text("Ayu Lestari")
    await screenshot(page, "20-diisi-sendiri")
    assert errors == []
