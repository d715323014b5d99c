"""/hari_ini: today's planned visits, each with a button to open it when the visitor comes.

Opening one (the KTP photo, the check, the badge) is the registration conversation's
(handlers/registration.py ``open_planned``), since it is the officer's form at the desk.
"""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import CommandHandler

from bot.app.context import BotContext, Handler
from bot.core import callbacks
from bot.core.callbacks import VisitTap
from bot.core.policy import Act, may
from bot.flows import workflow
from bot.texts import planning as plan_texts
from handlers.pages import reply_pages


async def today(update: Update, context: BotContext) -> None:
    """/hari_ini: approved and pending planned visits of today, by window."""
    message = update.effective_message
    assert message is not None
    services = context.services
    if not may(
        services.member(update.effective_user.id if update.effective_user else None), Act.PLAN
    ):
        await message.reply_text(plan_texts.ONLY_PLANNERS)
        return
    day = services.now().astimezone(services.config.timezone).date()
    visits = await workflow.planned_on(services, day)
    if not visits:
        await message.reply_text(plan_texts.NOTHING_TODAY)
        return
    buttons = [
        [
            InlineKeyboardButton(
                plan_texts.open_button(v), callback_data=VisitTap(callbacks.PLAN_OPEN, v.id).data
            )
        ]
        for v in visits
    ]
    await reply_pages(
        message, plan_texts.today_list(visits, day), reply_markup=InlineKeyboardMarkup(buttons)
    )


def build() -> list[Handler]:
    return [CommandHandler("hari_ini", today)]
