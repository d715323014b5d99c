"""Callback data: compact, versioned, parsed in one place (``v1:<action>:<arg>``).

Telegram caps callback_data at 64 bytes; everything here stays far below. The data
only names what was tapped: the presser's role and the visit's state are always
checked again on the server, so forged data cannot become an action.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

VERSION = "v1"

APPROVE = "ok"
DENY = "no"
DENY_ABORT = "nx"
ENTER = "in"
EXIT = "out"
REGISTRATION = "reg"
# Staff administration (handlers/staff.py); a role set travels as a bit mask of config.ROLES.
INVITE_ROLE = "invr"  # arg: mask
INVITE_MAKE = "invmk"  # arg: mask
INVITE_OK = "invok"  # arg: invitation id
INVITE_NO = "invno"
STAFF_VIEW = "stf"  # arg: user id
STAFF_ROLE = "stfr"  # arg: <user id>:<mask>
STAFF_REMOVE = "stfx"  # arg: user id
DELEGATE = "dlg"  # arg: user id
DELEGATE_FOR = "dlgp"  # arg: <user id>:<days>
REPORT = "rep"  # arg: the period preset (today, week, month)
STATS = "stat"

_DATA_RE = re.compile(r"^v1:([a-z]{1,8}):([A-Za-z0-9_:-]{0,48})$")


@dataclass(frozen=True)
class Callback:
    action: str
    arg: str

    @property
    def visit_id(self) -> int | None:
        """The visit id for visit-keyed actions; None when the arg is not a plain id."""
        return int(self.arg) if self.arg.isdigit() and len(self.arg) <= 12 else None


def pack(action: str, arg: str | int = "") -> str:
    data = f"{VERSION}:{action}:{arg}"
    if not _DATA_RE.match(data):
        raise ValueError(f"callback data out of shape: {data!r}")
    return data


def parse(data: str | None) -> Callback | None:
    """The Callback for well-formed data of this version, else None."""
    match = _DATA_RE.match(data or "")
    return Callback(match.group(1), match.group(2)) if match else None


def pattern(action: str) -> re.Pattern[str]:
    """The CallbackQueryHandler pattern for one action."""
    return re.compile(rf"^{VERSION}:{re.escape(action)}:")
