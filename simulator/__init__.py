"""A local stand-in for the Telegram Bot API, for tests, the demo and benchmarks.

It speaks the Bot API over HTTP, so an unmodified python-telegram-bot Application pointed
at `sim.base_url` cannot tell it from Telegram. It never imports the bot.
"""

from simulator.faults import FAULT_KINDS, Faults
from simulator.html import HtmlParseError, ParsedText, parse_html
from simulator.message import SimFile, SimMessage
from simulator.people import SimUser
from simulator.server import BotApiSimulator
from simulator.state import SimAlert, SimCallback

__all__ = [
    "FAULT_KINDS",
    "BotApiSimulator",
    "Faults",
    "HtmlParseError",
    "ParsedText",
    "SimAlert",
    "SimCallback",
    "SimFile",
    "SimMessage",
    "SimUser",
    "parse_html",
]
