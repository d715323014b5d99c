"""Driving the demo page in headless Chromium: fixtures' helpers and one phone's actions.

Chromium is the Debian package (/usr/bin/chromium); Playwright's own browser downloads are
not used. A missing or broken Chromium makes the browser tests fail, never skip.
"""

from __future__ import annotations

import os
import re
from dataclasses import asdict
from pathlib import Path

from playwright.async_api import Browser, Locator, Page, Playwright, expect

from bot.core.form import DECLARED, FORM, RULES, Act
from bot.texts import form as form_texts
from tests.flows import Visitor

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",  # CI runs as root, where Chromium's sandbox refuses to start
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
# docs/img/ is committed, so every run rewrites its PNGs (the bubbles show the time);
# AKSES_SCREENSHOTS=/tmp/shots keeps a working tree clean.
SCREENSHOTS = Path(
    os.environ.get("AKSES_SCREENSHOTS") or Path(__file__).resolve().parents[2] / "docs" / "img"
)
WIDE = {"width": 1280, "height": 860}
NARROW = {"width": 420, "height": 860}
OFFICE_TZ = "Asia/Jakarta"  # the demo config's default [office] timezone
_CLASS = "contains(concat(' ', @class, ' '), ' {} ')"
_ANSWERS = (
    f"xpath=.//li[{_CLASS.format('bot')}][not(following-sibling::li[{_CLASS.format('me')}])]"
)


def chromium() -> str:
    """Chromium's path, or a failure that says how to install it (never a skip)."""
    if not Path(CHROMIUM).exists():
        raise RuntimeError(
            f"{CHROMIUM} not found: install the Debian package `chromium` (see .ci/run)"
        )
    return CHROMIUM


async def launch(playwright: Playwright) -> Browser:
    return await playwright.chromium.launch(executable_path=chromium(), args=CHROMIUM_ARGS)


async def open_demo(browser: Browser, url: str, viewport: dict, errors: list[str]) -> Page:
    """The page, once its live connection is up; script errors are collected in `errors`."""
    # The bubbles' clock in the demo's office time zone, as on a phone in the office (the
    # messages' own times are WIB), whatever the machine running the tests uses.
    page = await browser.new_page(viewport=viewport, timezone_id=OFFICE_TZ)  # type: ignore[arg-type]
    page.set_default_timeout(10_000)
    page.on("pageerror", lambda error: errors.append(str(error)))
    await page.goto(url)
    await expect(page.locator("body")).to_have_attribute("data-live", "true")
    return page


async def screenshot(page: Page, name: str) -> None:
    """Saved into docs/img/ for the README and the guides (Playwright creates the folder),
    once the pop-up notes (3.5 s each, e.g. "Disalin") are gone, so none hides a message."""
    await expect(page.locator(".toast")).to_have_count(0)
    await page.screenshot(path=SCREENSHOTS / f"{name}.png")


class PhoneView:
    """One phone on the page, acted on as a person would: typing, tapping, attaching."""

    def __init__(self, page: Page, title: str):
        self.page = page
        self.title = title
        self.root = page.locator(f'section.phone[data-title="{title}"]')

    async def show(self) -> None:
        """On a narrow screen, switch to this phone's tab first."""
        tab = self.page.locator(".tabs button", has_text=self.title)
        if await tab.is_visible():
            await tab.click()
        await expect(self.root).to_be_visible()

    def bot(self, text: str | None = None, *, since_my_last: bool = False) -> Locator:
        """The newest bot bubble containing `text` (case-sensitive).

        since_my_last: only bubbles below this person's last message, i.e. the answer to it
        rather than an earlier message that happens to contain the same words.
        """
        found = self.root.locator(_ANSWERS if since_my_last else "li.msg.bot")
        if text is not None:
            found = found.filter(has_text=re.compile(re.escape(text)))
        return found.last

    async def wait_for(self, text: str) -> Locator:
        bubble = self.bot(text, since_my_last=True)
        await expect(bubble).to_be_visible()
        return bubble

    async def send(self, text: str) -> None:
        box = self.root.locator(".composer textarea")
        await box.fill(text)
        await box.press("Enter")
        await expect(self.root.locator("li.msg.me").last).to_contain_text(text)

    async def tap(self, label: str) -> None:
        await self.root.locator(".ikb", has_text=label).last.click()

    async def menu(self, command: str) -> None:
        await self.root.locator(".menu-btn").click()
        await self.root.locator(".command-menu .command", has_text=f"/{command}").click()

    async def attach_sample(self, number: int) -> None:
        await self.root.locator(".attach-btn").click()
        await self.page.locator("#attach .sample", has_text=f"KTP spesimen {number}").click()
        await expect(self.root.locator("li.msg.me img").last).to_be_visible()

    async def buttons(self, bubble: Locator) -> list[str]:
        return [text.strip() for text in await bubble.locator(".ikb").all_inner_texts()]

    async def toast(self, text: str) -> None:
        await expect(self.root.locator(".toast", has_text=text)).to_be_visible()


async def scan_badge(escort: PhoneView, shot: str | None = None) -> None:
    """The escort's camera dialog, pointed at the newest badge shown in any chat."""
    await escort.root.locator(".scan-btn").click()
    dialog = escort.page.locator("#scanner")
    await expect(dialog).to_be_visible()
    if shot:
        await screenshot(escort.page, shot)
    await dialog.locator(".badge-choice", has_text="🪪 Badge").first.click()
    await expect(dialog).to_be_hidden()


async def register(
    officer: PhoneView,
    sample: int,
    nik: str,
    name: str,
    shots: tuple[str, str] | None = None,
    rules_shot: str | None = None,
) -> None:
    """The officer's whole form in the officer's phone: the sample KTP is read, ✅ Benar, and
    the rest goes in one reply typed into the template a tap copied into the composer.

    shots: the names of the screenshots of the KTP's reading and of the filled-in template.
    rules_shot: with [rules] on, the name of the screenshot of the rules step, then agreed."""
    start = officer.root.locator(".start")
    if await start.is_visible():  # a chat never opened shows only Telegram's Start button
        await start.click()
        await officer.wait_for("Selamat datang")
    await officer.menu("daftar")
    # The form's shared step script (bot/texts/form.py), as the tests and the demo use it.
    moves = Visitor(nik=nik, name=name).script()
    if rules_shot:  # the steps are numbered out of one more
        answers = {**asdict(Visitor(nik=nik, name=name)), "rules": form_texts.BTN_RULES_AGREED}
        moves = form_texts.script(answers, DECLARED.enabled({RULES}))
    await officer.wait_for(moves[0].asked)
    await officer.attach_sample(sample)
    read = await officer.wait_for("Terbaca dari foto KTP")
    await expect(read).to_contain_text(nik)
    await expect(read).to_contain_text(name)
    if shots:  # what the KTP photo filled in, waiting for ✅ Benar
        await screenshot(officer.page, shots[0])
    await officer.tap(form_texts.BTN_READ_OK)
    template = await officer.wait_for("satu pesan")
    await template.locator("code").click()  # copies the template into the composer
    box = officer.root.locator(".composer textarea")
    await expect(box).to_have_value(re.compile(r"Instansi: \n"))
    answers = {move.field: move for move in moves}
    filled = []
    for line in (await box.input_value()).splitlines():
        label = line.partition(":")[0]
        field = next(f for f in FORM if form_texts.template_label(f) == label)
        move = answers[field.name]
        value = (
            ""
            if move.act == Act.TAP and move.text == form_texts.FIELDS[field.name].none
            else move.text
        )
        filled.append(f"{label}: {value}")
    await box.fill("\n".join(filled))
    if shots:  # the one-reply template, filled in before it is sent
        await screenshot(officer.page, shots[1])
    await box.press("Enter")
    await expect(officer.root.locator("li.msg.me").last).to_contain_text("Instansi:")
    if rules_shot:  # the form's last step: the rules, agreed with the visitor's consent
        await officer.wait_for("Tata tertib")
        await screenshot(officer.page, rules_shot)
        await officer.tap(form_texts.BTN_RULES_AGREED)
    summary = await officer.wait_for(form_texts.SUMMARY_TITLE)
    await expect(summary).to_contain_text(re.compile(name))
