"""Issue 13: a complete visit costs fewer Bot API calls, with every notice still delivered.

Telegram allows a bot about 30 messages a second overall and about one a second per chat,
so each call a visit saves is room for more visits. Counted by the simulator, which sees
every call the bot makes.

Before issue 13 this visit (16 updates: /daftar, 10 form answers, submit, approve, two
scans, two taps) took 45 calls, and 36 now. The issue's goal of 24 (1.6 per update) is not
reached: what is left is one call per message someone must get, per change to one, and
per tap answered (Telegram shows a tap as pending until answerCallbackQuery, an edit does
not end it); bench/findings.md counts them.
"""

from __future__ import annotations

from collections import Counter

from bot.app.services import Services
from bot.texts import form as form_texts
from simulator import BotApiSimulator
from tests.conftest import APPROVER, APPROVER2, ESCORT, OFFICER, FakeClock
from tests.e2e.test_e2e_ktp_read import CARD, REPLY, send_card
from tests.flows import approve, badge_link, register, scan

# Was 45; 41 after issue 13's edits, plus the getFile that fetches the KTP photo for the
# reader (issue 15) before the form goes on: 42; the copy kept at submit reuses that
# getFile's link (bot/flows/telegram_files.py): 41. A question answered by typing has no
# buttons (its text ends with /kembali and /batal), so its answer costs the next question
# alone: 36. The summary becomes its receipt, after the request is stored (the form's key
# makes a second submit of it store nothing): 35. The KTP photo shows "typing…"
# (sendChatAction) while it is read, a few round trips, so the officer sees it arrived: 36.
MAX_CALLS_PER_VISIT = 36
UPDATES_PER_VISIT = 16
MAX_CALLS_PER_UPDATE = 2.25  # was 45 / 16 = 2.8; the goal, 1.6, is not reached (above)
# One button drop is left: the equipment question's (it has "Tidak membawa perangkat", and
# is answered by typing here). Every other typed answer's question had no buttons (was 7:
# 6 typed answers and the submit); a tap changes its own message into its answer and the
# next question, and the submit tap changes the summary into its receipt.
MAX_KEYBOARD_DROPS = 1
MAX_SENT_MESSAGES = 12  # was 19: three form taps and the approval need none of their own
# The same visit with the form filled in from the KTP photo (issue 15): 10 updates, 30
# calls when the typed questions had buttons and ✅ Benar dropped the reading's and sent the
# template apart, 28 with typed questions without buttons, 27 with the summary edited into
# its receipt, 28 with "typing…" while the photo is read.
UPDATES_KTP_PATH = 10
MAX_CALLS_KTP_PATH = 28


def calls(sim: BotApiSimulator) -> Counter[str]:
    counts = Counter(sim.call_counts)
    for name in ("getUpdates", "getMe", "setMyCommands", "deleteWebhook"):
        counts.pop(name, None)
    return counts


async def approve_enter_exit(sim: BotApiSimulator, clock: FakeClock) -> None:
    """The rest of the visit after the submit: approved, in and out, everyone told."""
    await approve(sim)
    link = badge_link(sim)
    await scan(sim, link)
    escort = sim.user(ESCORT)
    await escort.tap("Catat MASUK")
    await escort.wait_for("MASUK tercatat")
    clock.advance(minutes=25)
    await scan(sim, link)
    await escort.tap("Perangkat sesuai")
    await escort.wait_for("KELUAR tercatat")
    for person in (OFFICER, APPROVER, APPROVER2):
        await sim.user(person).wait_for("Kunjungan selesai")
    await sim.settle()


async def test_a_complete_visit_takes_fewer_calls_and_tells_everyone_the_same(
    sim: BotApiSimulator, app: object, services: Services, clock: FakeClock
) -> None:
    await sim.settle()
    before = calls(sim)
    first_update = sim.state.next_update_id
    await register(sim)
    await approve_enter_exit(sim, clock)

    used = calls(sim) - before
    total = sum(used.values())
    updates = sim.state.next_update_id - first_update
    assert updates == UPDATES_PER_VISIT
    assert total <= MAX_CALLS_PER_VISIT, f"{total} calls: {dict(used.most_common())}"
    assert total / updates <= MAX_CALLS_PER_UPDATE, f"{total} calls for {updates} updates"
    assert used["getFile"] == 1, dict(used)  # the KTP photo: read and kept from one link
    assert used["sendChatAction"] == 1, dict(used)  # "typing…" while it is read
    assert used["editMessageReplyMarkup"] <= MAX_KEYBOARD_DROPS, dict(used)
    assert used["sendMessage"] <= MAX_SENT_MESSAGES, dict(used)

    officer = sim.user(OFFICER)
    # The approval reaches the officer as the badge's caption, with the badge itself.
    badge = next(m for m in officer.bot_messages if m.photo_bytes)
    caption = badge.text_or_caption
    assert "disetujui" in caption and "Budi" in caption and "Badge KRS-" in caption
    assert not any("disetujui" in m.text_or_caption for m in officer.bot_messages if m != badge)
    # Nothing in the officer's chat is still live.
    assert [m for m in officer.bot_messages if m.buttons] == []


async def test_a_complete_visit_through_the_ktp_reader(
    sim: BotApiSimulator, app: object, services: Services, clock: FakeClock
) -> None:
    """The same visit, the form filled in from the KTP photo (issue 15): /daftar, the photo,
    ✅ Benar, one reply to the template, Kirim; then approve, MASUK, KELUAR. 10 updates,
    MAX_CALLS_KTP_PATH calls:

    - /daftar: the first question (typed, no buttons) 1;
    - the photo: "typing…" while it is read, ``getFile`` for the reader, what was read
      with its buttons 3;
    - ✅ Benar: the tap answered, what was read edited into itself with the choice and the
      template under it, its buttons (Isi satu per satu, « Kembali, ✖ Batal) 2;
    - the reply: the template's buttons dropped, the summary 2;
    - Kirim: the tap answered, the summary's buttons dropped, the receipt 3;
    - approval, door and exit: as in the visit above, 18.
    """
    await sim.settle()
    before = calls(sim)
    first_update = sim.state.next_update_id
    officer = sim.user(OFFICER)
    await send_card(sim, CARD)
    await officer.wait_for("Terbaca dari foto KTP", timeout=15)
    await officer.tap(form_texts.BTN_READ_OK)
    await officer.wait_for("satu pesan")
    await officer.send_text(REPLY)
    summary = await officer.wait_for(form_texts.SUMMARY_TITLE)
    await officer.tap(form_texts.BTN_SUBMIT, summary)
    await officer.wait_for("terkirim")
    await approve_enter_exit(sim, clock)

    used = calls(sim) - before
    total = sum(used.values())
    assert sim.state.next_update_id - first_update == UPDATES_KTP_PATH
    assert total <= MAX_CALLS_KTP_PATH, f"{total} calls: {dict(used.most_common())}"
    assert used["getFile"] == 1, dict(used)  # the reader's link also serves the copy kept
    assert used["editMessageReplyMarkup"] <= 1, dict(used)  # the template's
    assert [m for m in officer.bot_messages if m.buttons] == []
