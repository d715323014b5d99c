"""Delivers the outbox: retries with backoff, honours retry_after, survives restarts.

One chat's messages about one visit (a lane) go out in the order they were queued: a card
before its edits, a badge before its PDF. A chat's lanes are served concurrently, up to
PER_CHAT at a time, so a section head's card for the next request does not queue behind
the last request's edits; different chats are served concurrently too. Approval cards are
rendered when they are sent, from the visit's current state, so a card that reaches a
section head after someone else decided shows the decision, not stale buttons.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import logging
import random
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    InputMediaPhoto,
    Message,
)
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError

from bot.app.services import Services
from bot.core import callbacks
from bot.core.placeholder import ktp_placeholder_png
from bot.core.visits import SYSTEM_ACTOR, Visit, VisitStatus
from bot.flows import recipients, rollcall, undeliverable
from bot.texts import approval as approval_texts
from bot.texts import cancel as cancel_texts
from bot.texts import door as door_texts
from bot.texts import duty as duty_texts
from bot.texts import guests as guest_texts
from bot.texts import staff as staff_texts
from bot.texts import watchlist as watchlist_texts
from storage.outbox import REDRAW, QueuedMessage, Waiting

log = logging.getLogger(__name__)

MAX_BACKOFF = 300.0
PARALLEL_CHATS = 24  # sends in flight at once, all chats together
# Sends in flight to one chat at once, each about another visit: a busy section head's
# cards and edits overlap (Telegram's per-chat limit is about one message a second
# sustained, with bursts allowed; a 429 pauses the whole chat, below).
PER_CHAT = 6
# The outbox kind telling an officer that their visitor sent the self-registration form.
GUEST_DONE = "guest_done"
# The escorts' "a visitor waits" notice goes to the escorts on duty, or to every escort when
# nobody is (bot/core/duty.py): behind the messages someone is
# waiting for (a card, a badge), which would otherwise queue behind many escorts' notices.
VISITOR_WAITING = "visitor_waiting"
# Notices of what happened that nobody needs to take the next step: the escorts' "a
# visitor waits", the officer's "entered", the exit summary (workflow.py). They go after
# what someone is waiting for (a card to decide, a badge to show, a tapped card's edit),
# which at a busy desk would otherwise queue behind them in a section head's chat.
NOTICES = (f"{VISITOR_WAITING}:", "entered:", "exit_summary:")
# The escorts' notice withdrawn (a cancelled or erased request), an edit of the notice.
WAITING_VOID = "waiting_void"
# The escorts' notice once another escort took the visitor in: who and when, no button
# (an outbox kind of its own, and its keys' purpose).
WAITING_TAKEN = "waiting_taken"
STOP_GRACE = 5.0  # seconds a send in flight may take to finish when the bot stops
# Seconds between two reads of every lane's next item (what changed in the outbox other
# than by this worker and by queuing, if anything, is seen by then).
FULL_EVERY = 5.0
NEWER_BATCH = 1000
Lane = tuple[int, int | None]  # a chat, and the visit its messages are about


def _notices_last(head: Waiting) -> tuple[bool, int]:
    """Lanes' next items in the order they were queued, notices last."""
    return head.key.startswith(NOTICES), head.id


class Delivery:
    def __init__(self, services: Services, bot: Bot, retry_base: float = 1.0) -> None:
        self._services = services
        self._bot = bot
        self._store = services.storage.outbox
        self._retry_base = retry_base
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._passes = 0  # the worker's passes begun
        self._idle_pass = 0  # the latest pass that found nothing to send
        # The worker knows each lane's next item (``run``): it reads them all at start, when
        # wait_idle asks (``_full``) and every FULL_EVERY seconds; between, only what was
        # queued since and the next item of each lane whose send ended (``_ended``).
        self._full = True
        self._ended: set[Lane] = set()
        # chat -> when Telegram lets it have messages again (a 429's retry_after): its
        # other lanes wait too, instead of each earning a 429 of its own.
        self._paused: dict[int, float] = {}
        # The placeholder that replaces a deleted KTP photo, once Telegram has it (file id).
        self._placeholder: str | None = None
        self._placeholder_upload = asyncio.Lock()

    def kick(self) -> None:
        """Something was queued: look now instead of at the next timer."""
        self._wake.set()

    def look_again(self) -> None:
        """Something already queued moved to another chat (a handover): read every lane's
        next item now, not only what was queued since the last read."""
        self._full = True
        self._wake.set()

    async def wait_idle(self, timeout: float = 10.0) -> None:  # noqa: ASYNC109
        """Until nothing is pending (for tests and the demo).

        Only a pass whose query began after this call counts: a pass already under way may
        have read the outbox before the caller's last message was queued."""
        called = self._passes
        self._full = True
        self.kick()
        async with asyncio.timeout(timeout):
            while self._idle_pass <= called:
                self._idle.clear()
                await self._idle.wait()

    async def run(self) -> None:
        """The worker loop; cancelled at shutdown. Each lane (a chat's messages about one
        visit) has at most one send in flight, and each chat at most PER_CHAT, so a slow
        chat (a 429, a timeout) never holds up the others."""
        inflight: dict[Lane, asyncio.Task[None]] = {}
        # Items on the wire, by id: an item handed to another chat while its send is out
        # (a handover) heads a lane not in ``inflight``, and must not go out twice at once.
        sending: set[int] = set()
        per_chat: dict[int, int] = {}
        heads: dict[Lane, Waiting] = {}
        seen = 0  # the newest pending item any read of the queue found
        refreshed = 0.0
        try:
            while True:
                self._wake.clear()
                self._passes += 1
                this_pass = self._passes
                # A pass after every send that ends: reading every lane's next item each
                # time was a fifth of the event loop's work with a few hundred waiting.
                if self._full or time.time() - refreshed >= FULL_EVERY:
                    self._full, refreshed = False, time.time()
                    self._ended.clear()
                    heads.clear()  # in place: a send's _done holds this dict
                    heads.update((w.lane, w) for w in await self._store.waiting(1000))
                    seen = max((w.id for w in heads.values()), default=seen)
                ended, self._ended = self._ended, set()
                for lane in ended:
                    head = await self._store.lane_head(*lane)
                    if head is None:
                        heads.pop(lane, None)
                    else:
                        heads[lane] = head
                queued = await self._store.newer(seen, NEWER_BATCH)
                for waiting in queued:
                    heads.setdefault(waiting.lane, waiting)
                    seen = max(seen, waiting.id)
                if len(queued) == NEWER_BATCH:
                    self.kick()  # more were queued than one read takes
                now = time.time()
                self._paused = {c: t for c, t in self._paused.items() if t > now}
                wait = 60.0
                for item in sorted(heads.values(), key=_notices_last):
                    if item.lane in inflight or item.id in sending:
                        continue
                    due = max(item.next_attempt_at, self._paused.get(item.chat_id, 0.0))
                    if due > now:
                        wait = min(wait, due - now)
                        continue
                    if len(inflight) >= PARALLEL_CHATS:
                        break
                    if per_chat.get(item.chat_id, 0) >= PER_CHAT:
                        continue  # sent when one of the chat's sends ends (_done wakes us)
                    task = asyncio.create_task(self._deliver_safely(item))
                    inflight[item.lane] = task
                    sending.add(item.id)
                    per_chat[item.chat_id] = per_chat.get(item.chat_id, 0) + 1
                    task.add_done_callback(
                        functools.partial(self._done, inflight, sending, per_chat, heads, item)
                    )
                # The full read is due every FULL_EVERY seconds even with nothing to send:
                # what changed outside this worker (a handover, a scrub) is seen by then.
                wait = min(wait, max(0.0, refreshed + FULL_EVERY - now))
                if not heads and not inflight:
                    self._idle_pass = this_pass
                    self._idle.set()
                # asyncio.timeout, not wait_for: on Python 3.11 wait_for swallows a
                # cancellation that arrives as the event is set (a kick() at shutdown), and
                # the worker would then never stop.
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(max(0.01, wait)):
                        await self._wake.wait()
        finally:
            # Sends already on the wire may finish (a cut one would be sent again after a
            # restart, a duplicate); whatever is still running after the grace is cut.
            if inflight:
                _, late = await asyncio.wait(list(inflight.values()), timeout=STOP_GRACE)
                for task in late:
                    task.cancel()
                await asyncio.gather(*late, return_exceptions=True)

    def _done(
        self,
        inflight: dict[Lane, asyncio.Task[None]],
        sending: set[int],
        per_chat: dict[int, int],
        heads: dict[Lane, Waiting],
        item: Waiting,
        _task: asyncio.Task[None],
    ) -> None:
        """A send finished (delivered, retried later or given up): its lane's next message
        may go, so look again now."""
        inflight.pop(item.lane, None)
        sending.discard(item.id)
        if heads.get(item.lane) is item:
            del heads[item.lane]
        self._ended.add(item.lane)
        left = per_chat.get(item.chat_id, 1) - 1
        if left > 0:
            per_chat[item.chat_id] = left
        else:
            per_chat.pop(item.chat_id, None)
        self.kick()

    async def _deliver_safely(self, head: Waiting) -> None:
        try:
            # Read (and decrypt) now: the list of heads may predate another task's
            # delivery of this very item.
            item = await self._store.pending(head.id)
            if item is not None:
                await self._deliver(item)
        except Exception:
            # A bug or a database hiccup must not stop the outbox; try the item again later.
            log.exception("outbox item %s could not be processed", head.id)
            await self._store.mark_retry(head.id, time.time() + MAX_BACKOFF / 10, "internal error")

    async def _deliver(self, item: QueuedMessage) -> None:
        # Someone removed from staff, or stripped of the role the message is for, gets
        # nothing that role entitled them to (bot/flows/recipients.py).
        if not await recipients.still_entitled(self._services, item):
            return
        try:
            message = await self._send(item)
        except RetryAfter as exc:
            retry = exc.retry_after
            seconds = retry.total_seconds() if isinstance(retry, timedelta) else float(retry)
            until = time.time() + seconds
            self._paused[item.chat_id] = max(self._paused.get(item.chat_id, 0.0), until)
            await self._store.mark_retry(item.id, until, "429 retry_after", item.chat_id)
        except BadRequest as exc:
            if "not modified" in exc.message:
                await self._store.mark_sent(item.id, item.chat_id, time.time(), None)
                return
            # Telegram refused the request itself; sending it again cannot help.
            log.error("outbox item %s (%s) refused: %s", item.id, item.kind, exc.message)
            await undeliverable.failed(self._services, item, exc.message)
        except Forbidden as exc:
            log.warning("outbox item %s: chat %s refused the bot", item.id, item.chat_id)
            await undeliverable.failed(self._services, item, exc.message)
        except (NetworkError, TelegramError) as exc:
            # Timeouts, 5xx, dropped connections: try again later, exponentially.
            delay = min(MAX_BACKOFF, self._retry_base * 2 ** min(item.attempts, 10))
            delay *= random.uniform(0.5, 1.0)  # jitter, not security
            await self._store.mark_retry(
                item.id, time.time() + delay, type(exc).__name__, item.chat_id
            )
        else:
            if item.kind == "card" and message is not None and item.visit_id is not None:
                # Marked sent and recorded together: a card no decision can find and edit
                # would keep its Setujui live.
                await self._services.storage.visits.card_delivered(
                    item.id,
                    item.visit_id,
                    item.chat_id,
                    message.message_id,
                    self._services.now(),
                    time.time(),
                )
            elif not await self._store.mark_sent(
                item.id, item.chat_id, time.time(), message.message_id if message else None
            ):
                # Handed to another officer while on the wire (a handover): still owed to
                # them, in a lane this worker has not seen yet.
                self._full = True
            if message is not None:  # delivered: their chat exists (an edit, or nothing
                # drawn to send, proves nothing; an edited message's delivery noted it)
                await self._services.note_opened(item.chat_id)

    async def _send(self, item: QueuedMessage) -> Message | None:
        bot, payload = self._bot, item.payload
        if item.kind == "text":
            markup = None
            if "button" in payload:  # one inline button: [label, callback data]
                label, data = payload["button"]
                markup = InlineKeyboardMarkup([[InlineKeyboardButton(label, callback_data=data)]])
            return await bot.send_message(item.chat_id, payload["text"], reply_markup=markup)
        if item.kind == "photo":
            return await bot.send_photo(
                item.chat_id,
                InputFile(item.blob or b"", filename=payload["filename"]),
                caption=payload.get("caption"),
            )
        if item.kind == "document":
            return await bot.send_document(
                item.chat_id,
                InputFile(item.blob or b"", filename=payload["filename"]),
                caption=payload.get("caption"),
            )
        if item.kind in ("card", "card_update"):
            return await self._card(item)
        if item.kind == "badge_void":
            return await self._void_badge(item)
        if item.kind == "notice_void":
            return await self._void_notice(item)
        if item.kind == WAITING_TAKEN:
            return await self._taken_notice(item)
        if item.kind == REDRAW:
            return await self._redraw(item)
        if item.kind == rollcall.SEND:
            return await rollcall.send(self._services, self._bot, item)
        if item.kind == rollcall.EDIT:
            return await rollcall.edit(self._services, self._bot, item)
        if item.kind == "watch_alert":
            return await self._watch_alert(item)
        if item.kind == GUEST_DONE:
            return await self._guest_done(item)
        raise ValueError(f"unknown outbox kind {item.kind!r}")

    async def _card(self, item: QueuedMessage) -> Message | None:
        """Send a section head's approval card, or bring an existing one up to date."""
        services = self._services
        assert item.visit_id is not None
        visit = await services.storage.visits.get(item.visit_id)
        if visit is None:
            return None
        caption, markup = self._card_face(visit)
        text_card = _text_card(visit)
        # Not forwardable (protect_content): the card shows a citizen's KTP photo and data,
        # and a forwarded copy could never be redrawn when the photo is deleted on schedule.
        if item.kind == "card" and text_card:
            return await self._bot.send_message(
                item.chat_id, caption, reply_markup=markup, protect_content=True
            )
        if item.kind == "card":
            return await self._bot.send_photo(
                item.chat_id,
                visit.ktp_file_id,
                caption=caption,
                reply_markup=markup,
                protect_content=True,
            )
        cards = {c.chat_id: c for c in await services.storage.visits.cards(visit.id)}
        card = cards.get(item.chat_id)
        if card is None:
            return None  # never delivered; the card itself will show the decision
        if text_card:
            await self._bot.edit_message_text(
                caption, card.chat_id, card.message_id, reply_markup=markup
            )
        else:
            await self._bot.edit_message_caption(
                card.chat_id, card.message_id, caption=caption, reply_markup=markup
            )
        return None

    def _card_face(self, visit: Visit) -> tuple[str, InlineKeyboardMarkup | None]:
        """An approval card's caption and buttons, drawn from the visit as it is now, within
        Telegram's 1024-character caption: a card too long for it (every field at its
        longest, and a long reason) has its free text shortened, or Telegram would refuse
        the edit and the card keep its old state, buttons and photo."""
        for shorter in fitted(visit):
            caption, markup = self._card_words(shorter)
            if door_texts.fits_caption(caption):
                break
        return caption, markup

    def _card_words(self, visit: Visit) -> tuple[str, InlineKeyboardMarkup | None]:
        services = self._services
        tz = services.config.timezone
        officer = services.name_of(visit.officer_id)
        decider = services.name_of(visit.decided_by)
        if visit.decided_for is not None:
            decider = staff_texts.on_behalf(decider, services.name_of(visit.decided_for))
        if visit.status == VisitStatus.PENDING:
            return approval_texts.approval_card(visit, officer, tz), approval_keyboard(visit.id)
        if visit.status == VisitStatus.CANCELLED:
            approver = decider if visit.decided_by is not None else None
            canceller = _canceller(services, visit)
            return cancel_texts.card(visit, officer, approver, canceller, tz), None
        if visit.status == VisitStatus.EXPIRED and visit.decided_by is None:
            return approval_texts.card_lapsed(visit, officer, tz), None  # nobody decided
        return approval_texts.card_decided(visit, officer, decider, tz), None

    async def _redraw(self, item: QueuedMessage) -> Message | None:
        """A delivered approval card or scan view of a visit whose KTP photo was deleted
        (retention, erasure) or which was anonymized: drawn again from the visit as it is
        now, the photo replaced by a placeholder (one editMessageMedia). Bots may edit their
        own messages at any age (TDLib: no edit time limit for a bot's outgoing messages).
        A message the person deleted answers "message to edit not found": a 400 that
        _deliver records as failed, with nobody to tell."""
        services = self._services
        assert item.visit_id is not None
        visit = await services.storage.visits.get(item.visit_id)
        if visit is None:
            return None
        message_id = int(item.payload["message_id"])
        markup = None
        if item.payload.get("of") == "card":
            caption, markup = self._card_face(visit)
            if _text_card(visit):  # no photo on it: only the words can change
                await self._bot.edit_message_text(
                    caption, item.chat_id, message_id, reply_markup=markup
                )
                return None
        else:
            for shorter in fitted(visit):
                # The view as the escort's own record of the scan: no buttons, and not the
                # "only escorts" line a view for someone else carries.
                caption = door_texts.scan_view(
                    shorter,
                    services.config.timezone,
                    can_act=True,
                    buttons=False,
                    ktp=door_texts.ktp_line(shorter, shown=False),
                )
                if door_texts.fits_caption(caption):
                    break
        if self._placeholder is None:
            # The first redraw uploads the image; the others wait and send its file id.
            async with self._placeholder_upload:
                if self._placeholder is None:
                    edited = await self._bot.edit_message_media(
                        InputMediaPhoto(ktp_placeholder_png(), caption=caption),
                        item.chat_id,
                        message_id,
                        reply_markup=markup,
                    )
                    if isinstance(edited, Message) and edited.photo:
                        self._placeholder = edited.photo[-1].file_id
                    return None
        await self._bot.edit_message_media(
            InputMediaPhoto(self._placeholder, caption=caption),
            item.chat_id,
            message_id,
            reply_markup=markup,
        )
        return None

    async def _guest_done(self, item: QueuedMessage) -> Message | None:
        """The officer hears that their visitor sent the self-registration form, written at
        send time (the reference exists only once the request is stored, and the visitor's
        name never waits in the outbox)."""
        assert item.visit_id is not None
        visit = await self._services.storage.visits.get(item.visit_id)
        if visit is None or visit.plan is None:
            return None
        text = guest_texts.visitor_sent_form(visit.reference, visit.name, visit.plan)
        if visit.watchlisted:
            text = f"{text}\n\n{watchlist_texts.OFFICER_FLAG}"
        return await self._bot.send_message(item.chat_id, text)

    async def _watch_alert(self, item: QueuedMessage) -> Message | None:
        """An approver's alert that a request matches the watchlist, written at send time
        (the request's reference exists only once it is stored)."""
        services = self._services
        assert item.visit_id is not None
        visit = await services.storage.visits.get(item.visit_id)
        entry = await services.storage.watchlist.get(item.payload["entry"])
        if visit is None or entry is None:
            return None
        text = watchlist_texts.alert(
            visit,
            entry,
            services.name_of(entry.blocked_by),
            services.name_of(visit.officer_id),
            services.config.timezone,
        )
        return await self._bot.send_message(item.chat_id, text)

    async def _delivered_of(self, item: QueuedMessage) -> tuple[int, Visit] | None:
        """The message an edit item changes (the outbox item ``of`` names, delivered to the
        same chat about the same visit) and the visit as it is now; None if either is gone."""
        assert item.visit_id is not None
        of = item.payload.get("of", "")
        sent = await self._store.delivered_message(f"{of}:{item.visit_id}:{item.chat_id}")
        visit = await self._services.storage.visits.get(item.visit_id)
        if sent is None or visit is None:
            return None
        return sent, visit

    async def _void_badge(self, item: QueuedMessage) -> Message | None:
        """A withdrawn request's badge, as delivered to the officer, now says it is void.

        A badge never delivered has nothing to edit. Telegram refusing the edit (the officer
        deleted the message: "message to edit not found") is a 400, marked failed by
        _deliver and not retried; the badge is dead at the door either way."""
        services = self._services
        delivered = await self._delivered_of(item)
        if delivered is None:
            return None
        sent, visit = delivered
        canceller = _canceller(services, visit)
        caption = cancel_texts.badge_void(visit, canceller, services.config.timezone)
        await self._bot.edit_message_caption(item.chat_id, sent, caption=caption)
        return None

    async def _void_notice(self, item: QueuedMessage) -> Message | None:
        """An escort's "a visitor waits" for a withdrawn request now says so, without its
        button and without the visitor's name. Nothing delivered, nothing to edit; Telegram
        refusing the edit (the escort deleted it) is a 400 that _deliver records."""
        services = self._services
        delivered = await self._delivered_of(item)
        if delivered is None:
            return None
        sent, visit = delivered
        if visit.status == VisitStatus.EXPIRED:
            text = door_texts.waiting_expired(visit, services.config.timezone)
        else:
            text = cancel_texts.waiting_void(
                visit, _canceller(services, visit), services.config.timezone
            )
        await self._bot.edit_message_text(text, item.chat_id, sent)
        return None

    async def _taken_notice(self, item: QueuedMessage) -> Message | None:
        """An escort's "a visitor waits", once another escort recorded MASUK: who took the
        visitor in and when, without the Buka kunjungan button (so nobody walks to the desk
        for nothing) and without the visitor's name. Nothing delivered, nothing to edit."""
        services = self._services
        delivered = await self._delivered_of(item)
        if delivered is None:
            return None
        sent, visit = delivered
        if visit.entered_at is None:
            return None  # not taken in after all (cannot happen: MASUK queued this)
        escort = services.name_of(visit.entry_escort_id)
        text = duty_texts.waiting_taken(visit, escort, services.config.timezone)
        await self._bot.edit_message_text(text, item.chat_id, sent)
        return None


# Free text a person typed about a visit, shortened in this order until a caption fits.
_SHORTENED = (
    "equipment",
    "purpose",
    "deny_reason",
    "cancel_reason",
    "assignment_letter",
    "organisation",
    "name",
)


def fitted(visit: Visit) -> Iterator[Visit]:
    """The visit as it is, then with its free text cut to ever fewer characters ("…"): a
    caption drawn from the first that fits goes out."""
    yield visit
    for keep in (80, 40, 16, 1):
        cut: dict[str, Any] = {}
        for name in _SHORTENED:
            value = getattr(visit, name)
            if isinstance(value, str) and len(value) > keep:
                cut[name] = value[:keep].rstrip() + "…"
        yield dataclasses.replace(visit, **cut)


def _text_card(visit: Visit) -> bool:
    """A visit planned ahead is decided before its KTP photo exists: its card is text; a
    visitor who registered themselves sent their photo, shown like a walk-in's."""
    return visit.planned and not visit.self_registered


def _canceller(services: Services, visit: Visit) -> str:
    """Who withdrew a request, as its messages say it: the bot itself for an erasure or
    retention (SYSTEM_ACTOR), not a "-" where a name would be."""
    if visit.cancelled_by == SYSTEM_ACTOR:
        return cancel_texts.BY_ERASURE
    return services.name_of(visit.cancelled_by)


def approval_keyboard(visit_id: int, *, barred: bool = False) -> InlineKeyboardMarkup:
    """Setujui / Tolak; ``barred``: the second step on a request whose NIK is on the
    watchlist, where Setujui became "Ya, setujui meski diblokir"."""
    label, action = (
        (watchlist_texts.BTN_APPROVE_BARRED, callbacks.APPROVE_BARRED)
        if barred
        else (approval_texts.BTN_APPROVE, callbacks.APPROVE)
    )
    approve = callbacks.VisitTap(action, visit_id).data
    deny = callbacks.VisitTap(callbacks.DENY, visit_id).data
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(label, callback_data=approve),
                InlineKeyboardButton(approval_texts.BTN_DENY, callback_data=deny),
            ]
        ]
    )
