"""A command typed without its argument asks for it and takes the next text as the answer.

/riwayat, /kode (and /keluar), /laporan, /statistik, /blokir and /buka_blokir: the command
itself shows its prompt (or its refusal); a person allowed to use it is then waiting for the
argument, and their next text message is read as if typed after the command, as BotFather
does; an answer the command cannot read (a date, a code) gets its one-line error and the wait
goes on. /batal abandons the wait; any other command abandons it silently and runs as usual.

The conversation sits in a handler group of its own before the flows' (see bot/app/build.py):
an answer stops there (ApplicationHandlerStop), so no flow sees the text as well, while any
other update passes on to the flows. Its state is persisted like the officer's form.
"""

from __future__ import annotations

import enum
import warnings
from collections.abc import Callable, Coroutine
from typing import Any

from telegram import Update
from telegram.ext import (
    ApplicationHandlerStop,
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)
from telegram.warnings import PTBUserWarning

from bot.app.context import BotContext, Handler
from bot.core import callbacks
from bot.core.callbacks import ReportTap
from bot.core.policy import Act, may
from bot.texts import common as common_texts
from handlers import reports, scan, watchlist


class Waiting(enum.IntEnum):
    """Which command's argument the next text message is (values persisted: never reuse)."""

    HISTORY = 1
    CODE = 2
    REPORT = 3
    STATS = 4
    BLOCK = 5
    UNBLOCK = 6


# A command returns True when it refused the argument as unreadable (a date, a code): the
# wait goes on, as BotFather keeps asking after an invalid answer.
Command = Callable[[Update, BotContext], Coroutine[Any, Any, bool | None]]
# command -> (the waiting state, the act that allows it, the command's handler)
COMMANDS: dict[str, tuple[Waiting, Act, Command]] = {
    "riwayat": (Waiting.HISTORY, Act.VIEW_REPORTS, reports.history_command),
    "kode": (Waiting.CODE, Act.USE_CODE, scan.manual_code),
    "keluar": (Waiting.CODE, Act.USE_CODE, scan.manual_code),
    "laporan": (Waiting.REPORT, Act.VIEW_REPORTS, reports.report_command),
    "statistik": (Waiting.STATS, Act.VIEW_REPORTS, reports.stats_command),
    "blokir": (Waiting.BLOCK, Act.WATCHLIST, watchlist.block),
    "buka_blokir": (Waiting.UNBLOCK, Act.WATCHLIST, watchlist.unblock),
}
_BY_STATE = {state: command for state, _, command in COMMANDS.values()}


async def ask(update: Update, context: BotContext) -> None:
    """The command without its argument: its own prompt, then wait for the answer."""
    message, user = update.effective_message, update.effective_user
    assert message is not None and message.text is not None and user is not None
    name = message.text.split()[0].lstrip("/").split("@")[0].lower()
    state, act, command = COMMANDS[name]
    await command(update, context)
    allowed = may(context.services.member(user.id), act)
    raise ApplicationHandlerStop(state if allowed else ConversationHandler.END)


def _answer(state: Waiting) -> Command:
    async def answer(update: Update, context: BotContext) -> None:
        """The awaited argument: the command runs as if it had been typed after it; an
        answer it cannot read is asked for again."""
        assert update.effective_message is not None
        context.args = (update.effective_message.text or "").split()
        again = await _BY_STATE[state](update, context)
        raise ApplicationHandlerStop(state if again else ConversationHandler.END)

    return answer


async def abandon(update: Update, context: BotContext) -> None:
    """/batal while an argument is awaited: a report's period buttons go with it."""
    message = update.effective_message
    assert message is not None
    await reports.drop_prompt(context, message.chat_id)
    await message.reply_text(common_texts.ARGUMENT_ABANDONED)
    raise ApplicationHandlerStop(ConversationHandler.END)


async def moved_on(update: Update, context: BotContext) -> int:
    """Another command, or a period button: the wait ends and the update goes on."""
    return ConversationHandler.END


def build() -> Handler:
    text = filters.TEXT & ~filters.COMMAND
    states: dict[object, list[BaseHandler[Any, Any, Any]]] = {
        state: [MessageHandler(text, _answer(state))] for state in Waiting
    }
    period_button = CallbackQueryHandler(moved_on, pattern=callbacks.handles(ReportTap))
    states[Waiting.REPORT].append(period_button)
    states[Waiting.STATS].append(period_button)
    with warnings.catch_warnings():
        # per_message=False is deliberate: a period button only ends the chat's wait.
        warnings.filterwarnings("ignore", message=".*per_message.*", category=PTBUserWarning)
        return ConversationHandler(
            entry_points=[CommandHandler(list(COMMANDS), ask, has_args=False)],
            states=states,
            fallbacks=[
                CommandHandler("batal", abandon),
                MessageHandler(filters.COMMAND, moved_on),
            ],
            allow_reentry=True,
            name="arguments",
            persistent=True,
        )
