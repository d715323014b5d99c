"""The typed CallbackContext every handler receives, and the types the wiring shares."""

from __future__ import annotations

from typing import Any

from telegram import Update
from telegram.ext import Application, BaseHandler, CallbackContext, ExtBot, JobQueue

from bot.app.services import Services

# One person's own data: the open form's draft, a pending deny reason. A plain dict, so the
# conversation persistence stores it as it is.
UserData = dict[str, Any]


class BotContext(CallbackContext[ExtBot[None], UserData, dict[str, Any], Services]):
    """CallbackContext with the application's services as a typed attribute."""

    def __init__(
        self,
        application: BotApp,
        chat_id: int | None = None,
        user_id: int | None = None,
    ) -> None:
        super().__init__(application=application, chat_id=chat_id, user_id=user_id)

    @property
    def services(self) -> Services:
        return self.bot_data

    @property
    def user_state(self) -> UserData:
        """This person's data. Every update that reaches a handler has a user (the access
        gate stops the rest), so PTB always provides it."""
        if self.user_data is None:
            raise RuntimeError("an update without a user reached a handler")
        return self.user_data


BotApp = Application[
    ExtBot[None], BotContext, UserData, dict[str, Any], Services, JobQueue[BotContext]
]
Handler = BaseHandler[Update, BotContext, Any]
