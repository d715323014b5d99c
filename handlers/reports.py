"""/laporan, /statistik and /riwayat: the access log, its time-standard statistics, history.

Officers, section heads and admins only; an escort-only person is refused politely. The
XLSX is written in a process of its own while the log is read, the PDF and the chart in a
worker thread (bot/reports/export.py, bot/reports/), so the bot keeps answering.
"""

from __future__ import annotations

import asyncio

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, InputFile, Update
from telegram.ext import CallbackQueryHandler, CommandHandler

from bot.app.context import BotContext, Handler
from bot.core import callbacks
from bot.core.callbacks import ReportTap
from bot.core.nik import NIK_LENGTH, normalise_nik
from bot.core.period import (
    Period,
    PeriodError,
    Preset,
    ReversedPeriod,
    parse_period,
    preset_period,
)
from bot.core.policy import Act, may
from bot.flows import lookups
from bot.reports.export import file_name, load_access_log, load_with_xlsx, render
from bot.reports.log import AccessLog, notes
from bot.texts import common as common_texts
from bot.texts import reports as reports_texts
from handlers.edits import answer_tap, claim, drop_buttons
from handlers.pages import reply_pages
from storage.reports import HISTORY_LIMIT

MAX_CHAT_DAYS = 366  # longer periods: python -m bot export on the server
HISTORY_NAME_MIN = 3  # letters of a name to search by; fewer match half the log
# chat_data (kept in memory only): the period prompt whose buttons go once a typed period
# answers it. After a restart an old prompt keeps them; a tap on it still works.
_PROMPT = "period_prompt"
PRESET_LABELS = {
    Preset.TODAY: common_texts.BTN_TODAY,
    Preset.WEEK: reports_texts.BTN_WEEK,
    Preset.MONTH: reports_texts.BTN_MONTH,
}


def _allowed(context: BotContext, user_id: int) -> bool:
    return may(context.services.member(user_id), Act.VIEW_REPORTS)


def _period_keyboard(action: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(label, callback_data=ReportTap(action, preset).data)
                for preset, label in PRESET_LABELS.items()
            ]
        ]
    )


async def report_command(update: Update, context: BotContext) -> bool:
    """/laporan [from to]: period buttons, or the log of the typed period."""
    return await _command(update, context, callbacks.REPORT, reports_texts.CHOOSE_REPORT_PERIOD)


async def stats_command(update: Update, context: BotContext) -> bool:
    """/statistik [from to]: period buttons, or the chart of the typed period."""
    return await _command(update, context, callbacks.STATS, reports_texts.CHOOSE_STATS_PERIOD)


async def _command(update: Update, context: BotContext, action: str, choose: str) -> bool:
    """True when the typed period was refused, so an awaited answer is asked for again
    (handlers/arguments.py)."""
    message, user = update.effective_message, update.effective_user
    assert message is not None and user is not None
    if not _allowed(context, user.id):
        await message.reply_text(reports_texts.ONLY_REPORT_ROLES)
        return False
    if not context.args:
        prompt = await message.reply_text(choose, reply_markup=_period_keyboard(action))
        await drop_prompt(context, message.chat_id)  # the newer prompt replaces it
        _chat(context)[_PROMPT] = prompt.message_id
        return False
    try:
        period = parse_period(context.args)
    except ReversedPeriod:
        await message.reply_text(reports_texts.REVERSED_DATES)
        return True
    except PeriodError:
        await message.reply_text(reports_texts.BAD_DATES)
        return True
    if period.days > MAX_CHAT_DAYS:
        await message.reply_text(reports_texts.period_too_long(MAX_CHAT_DAYS))
        return True
    await drop_prompt(context, message.chat_id)  # answered by the typed period
    await _deliver(context, message.chat_id, user.id, action, period)
    return False


def _chat(context: BotContext) -> dict[str, object]:
    if context.chat_data is None:
        raise RuntimeError("a report command without a chat")
    return context.chat_data


async def drop_prompt(context: BotContext, chat_id: int) -> None:
    """The period buttons of the last /laporan or /statistik go (answered, or given up)."""
    prompt = _chat(context).pop(_PROMPT, None)
    if isinstance(prompt, int):
        await drop_buttons(context.bot, chat_id, prompt)


async def period_chosen(update: Update, context: BotContext) -> None:
    """A period button under /laporan or /statistik."""
    query = update.callback_query
    assert query is not None and query.message is not None
    if not _allowed(context, query.from_user.id):
        answer_tap(query, reports_texts.ONLY_REPORT_ROLES, show_alert=True)
        return
    tap = callbacks.parse_as(query.data, ReportTap)
    if tap is None:
        answer_tap(query, common_texts.STALE_BUTTON, show_alert=True)
        return
    answer_tap(query, reports_texts.PREPARING)
    if not await claim(query):
        return  # a double tap: the first one prepares the report
    if _chat(context).get(_PROMPT) == query.message.message_id:
        _chat(context).pop(_PROMPT)  # answered by the tap: its buttons are gone already
    services = context.services
    period = preset_period(tap.preset, services.now(), services.config.timezone)
    await _deliver(context, query.message.chat.id, query.from_user.id, tap.action, period)


async def _deliver(
    context: BotContext, chat_id: int, user_id: int, action: str, period: Period
) -> None:
    """Build the period's log and send it as documents, or as the chart."""
    services = context.services
    xlsx = b""
    if action == callbacks.STATS:
        log = await load_access_log(services.storage, services.config, period, services.now())
    else:  # the workbook written in a process of its own while the log is read
        log, xlsx = await load_with_xlsx(services.storage, services.config, period, services.now())
    if not log.rows:
        await context.bot.send_message(
            chat_id, reports_texts.nothing_in_period(period.start, period.end)
        )
        return
    # Who took a copy of the log, and of which days (ISO 27002 7.2: protect the log).
    kind = "stats_sent" if action == callbacks.STATS else "report_sent"
    await services.storage.audit.record(services.now(), user_id, kind, detail=period.slug)
    if action == callbacks.STATS:
        await _send_chart(context, chat_id, log)
    else:
        await _send_documents(context, chat_id, log, xlsx)


async def _send_chart(context: BotContext, chat_id: int, log: AccessLog) -> None:
    period = log.period
    png = await asyncio.to_thread(render, log, "png")
    caption = reports_texts.stats_caption(
        period.start, period.end, len(log.rows), log.breach_counts()
    )
    photo = InputFile(png, filename=file_name(period, "png", "statistik"))
    await context.bot.send_photo(chat_id, photo, caption=caption)


async def _send_documents(context: BotContext, chat_id: int, log: AccessLog, xlsx: bytes) -> None:
    period = log.period
    pdf = await asyncio.to_thread(render, log, "pdf")
    caption = reports_texts.report_sent(period.start, period.end, len(log.rows), log.breached_rows)
    sheet = InputFile(xlsx, filename=file_name(period, "xlsx"))
    await context.bot.send_document(chat_id, sheet, caption=caption)
    await context.bot.send_document(chat_id, InputFile(pdf, filename=file_name(period, "pdf")))


async def history_command(update: Update, context: BotContext) -> bool:
    """/riwayat <NIK or name>: one visitor's visits, newest first, NIK masked. True when the
    query was too short to search by, so an awaited answer is asked for again."""
    message, user = update.effective_message, update.effective_user
    assert message is not None and user is not None
    if not _allowed(context, user.id):
        await message.reply_text(reports_texts.ONLY_REPORT_ROLES)
        return False
    query = " ".join(context.args or []).strip()
    if not query:
        await message.reply_text(reports_texts.HISTORY_USAGE)
        return False
    services = context.services
    nik = normalise_nik(query)
    limit = HISTORY_LIMIT
    if len(nik) == NIK_LENGTH and nik.isascii() and nik.isdigit():
        query, by = nik, "nik"
        visits = await services.storage.reports.history_by_nik(nik, limit + 1)
    elif len(query) >= HISTORY_NAME_MIN and not nik.isdigit():
        by = "name"
        visits = await services.storage.reports.history_by_name(query, limit + 1)
    else:
        await message.reply_text(reports_texts.history_query_too_short(HISTORY_NAME_MIN))
        return True
    # Every lookup is recorded, one that finds nothing too (who searched for whom is the point).
    await lookups.history_viewed(services, user.id, by, visits[:limit])
    if not visits:
        await message.reply_text(reports_texts.history_none(query))
        return False
    people = {p for v in visits for p in (v.entry_escort_id, v.cancelled_by) if p is not None}
    names = {p: services.name_of(p) for p in people}
    tz = services.config.timezone
    outcomes = {v.id: notes(v, names, tz) for v in visits[:limit]}
    await reply_pages(message, reports_texts.history(query, visits, tz, names, limit, outcomes))
    return False


def build() -> list[Handler]:
    return [
        CommandHandler("laporan", report_command),
        CommandHandler("statistik", stats_command),
        CommandHandler("riwayat", history_command),
        CallbackQueryHandler(period_chosen, pattern=callbacks.pattern(callbacks.REPORT)),
        CallbackQueryHandler(period_chosen, pattern=callbacks.pattern(callbacks.STATS)),
    ]
