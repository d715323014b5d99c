"""The typed CallbackContext every handler receives."""

from __future__ import annotations

from telegram.ext import Application, CallbackContext, ExtBot

from bot.app.services import Services


class BotContext(CallbackContext[ExtBot[None], dict, dict, Services]):
    """CallbackContext with the application's services as a typed attribute."""

    def __init__(
        self,
        application: Application,  # type: ignore[type-arg]
        chat_id: int | None = None,
        user_id: int | None = None,
    ) -> None:
        super().__init__(application=application, chat_id=chat_id, user_id=user_id)

    @property
    def services(self) -> Services:
        return self.bot_data
