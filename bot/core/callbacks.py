"""Callback data: compact, versioned, parsed in one place (``v1:<action>:<arg>``).

Telegram caps callback_data at 64 bytes; everything here stays far below. Each kind of
button has its own type, built by the code that draws the button (``.data``) and returned
by parse(), which checks every argument as strictly as typed input: a visit id, a user id,
a role set, a number of days, a report period, each within its range. Anything else parses
to None, which handlers answer as a stale button. The data only names what was tapped: the
presser's permission and the visit's state are always checked again on the server, so
forged data cannot become an action.

The wire format is frozen: buttons already on people's phones must keep working, so an
action name or an argument's shape never changes meaning; a new shape gets a new action.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from bot.core.form import field_named
from bot.core.period import Preset
from bot.core.policy import DELEGATION_DAYS
from bot.core.roles import ALL_ROLES_MASK, Role, mask_of, roles_of
from bot.core.tokens import DOOR_NONCE_LENGTH
from bot.core.visits import EquipmentCheck

VERSION = "v1"

APPROVE = "ok"  # arg: visit id
DENY = "no"  # arg: visit id
DENY_ABORT = "nx"  # arg: visit id
# The second tap that approves a request whose NIK is on the watchlist; arg: visit id
APPROVE_BARRED = "okb"
ENTER = "in"  # arg: visit id; buttons from before door nonces: refused, "scan again"
EXIT = "out"  # arg: visit id; likewise
DOOR_ENTER = "din"  # arg: <visit id>:<nonce> (storage/door.py)
DOOR_EXIT = "dout"  # arg: <visit id>:<nonce>
# KELUAR of a visit that listed equipment, with the escort's check; the nonce is DOOR_EXIT's.
DOOR_EXIT_OK = "dxok"  # arg: <visit id>:<nonce>; the equipment matches
DOOR_EXIT_DIFF = "dxdif"  # arg: <visit id>:<nonce>; a discrepancy, a note follows
CANCEL = "cx"  # the officer picks a request to withdraw (/batalkan); arg: visit id
CANCEL_ABORT = "cxn"  # "Tidak jadi" under the cancel reason prompt; arg: visit id
OPEN_VISIT = "dv"  # arg: visit id; the escort's "a visitor is waiting" notice
PLAN_OPEN = "po"  # arg: visit id; the officer opens a planned visit from /hari_ini
REGISTRATION = "reg"  # the officer's form; arg: see FormWord, FormChoice, FormNone, FormEdit
# Staff administration (handlers/staff.py); a role set travels as its bit mask (Role.bit).
INVITE_ROLE = "invr"  # arg: mask
INVITE_MAKE = "invmk"  # arg: mask
INVITE_OK = "invok"  # arg: invitation id
INVITE_NO = "invno"  # arg: invitation id
STAFF_VIEW = "stf"  # arg: user id
STAFF_ROLE = "stfr"  # arg: <user id>:<mask>
STAFF_REMOVE = "stfx"  # arg: user id
DELEGATE = "dlg"  # arg: user id
# A departing officer's open requests: arg <from user>:<to user, 0: cancel them>:<then>,
# then = "x" (remove from staff) or the role mask they keep.
HANDOVER = "hov"
DELEGATE_FOR = "dlgp"  # arg: <user id>:<days>
REPORT = "rep"  # arg: the period preset (today, week, month)
STATS = "stat"  # arg: the period preset
ROLL_CALL_SAFE = "rcs"  # a visitor marked safe in a roll call; arg: <roll call id>:<visit id>
# The escort's duty toggle (/piket); arg: "on" or "off", the state the tap asks for, so a
# second tap of the same button finds it so already and changes nothing.
DUTY = "duty"

_DATA_RE = re.compile(r"v1:([a-z]{1,8}):([A-Za-z0-9_:-]{0,48})")  # fullmatch: no "\n" after
_NUMBER = re.compile(r"0|[1-9][0-9]{0,15}")
_NONCE = re.compile(rf"[A-Za-z0-9_-]{{{DOOR_NONCE_LENGTH}}}")

MAX_ROW_ID = 10**12 - 1  # visit and invitation ids: SQLite rowids, far below this
MAX_USER_ID = 2**52 - 1  # Telegram: "at most 52 significant bits" (Bot API, User.id)
# phone: show a returning visitor's full number; readok / readnik / readname: the KTP
# reader's findings confirmed, or one of them typed; onebyone: the fields after a KTP read
# asked one at a time instead of in one reply.
FORM_WORDS = frozenset(
    {
        "cancel",
        "back",
        "send",
        "reuse",
        "fresh",
        "phone",
        "readok",
        "readnik",
        "readname",
        "onebyone",
        "resume",
        "restart",
    }
)
MAX_CHOICE_INDEX = 9  # one digit: a question offers a handful of suggested answers


def pack(action: str, arg: str | int = "") -> str:
    data = f"{VERSION}:{action}:{arg}"
    if not _DATA_RE.fullmatch(data):
        raise ValueError(f"callback data out of shape: {data!r}")
    return data


def pattern(action: str) -> re.Pattern[str]:
    """The CallbackQueryHandler pattern for one action."""
    return re.compile(rf"^{VERSION}:{re.escape(action)}:")


_VISIT_ACTIONS = frozenset(
    {
        APPROVE,
        APPROVE_BARRED,
        DENY,
        DENY_ABORT,
        ENTER,
        EXIT,
        OPEN_VISIT,
        CANCEL,
        CANCEL_ABORT,
        PLAN_OPEN,
    }
)


def _require(ok: bool, what: str) -> None:
    if not ok:
        raise ValueError(what)


class Tap:
    """One kind of button. Constructing one checks it, so ``data`` is always parseable."""

    def wire(self) -> tuple[str, str]:
        """(action, arg) as they go on the wire."""
        raise NotImplementedError

    @property
    def data(self) -> str:
        return pack(*self.wire())


@dataclass(frozen=True)
class VisitTap(Tap):
    """A button on one visit: approve, deny, abort the denial, entry, exit, open (the escort's
    notice), and the officer's cancel and its abort."""

    action: str
    visit_id: int

    def __post_init__(self) -> None:
        _require(self.action in _VISIT_ACTIONS, "visit action")
        _require(1 <= self.visit_id <= MAX_ROW_ID, "visit id")

    def wire(self) -> tuple[str, str]:
        return self.action, str(self.visit_id)


_EXIT_CHECKS = {DOOR_EXIT_OK: EquipmentCheck.MATCHES, DOOR_EXIT_DIFF: EquipmentCheck.DIFFERS}


@dataclass(frozen=True)
class DoorTap(Tap):
    """MASUK (DOOR_ENTER) or KELUAR (DOOR_EXIT, or DOOR_EXIT_OK / DOOR_EXIT_DIFF with the
    equipment check) under a scanned badge, with the nonce that scan was given: the server
    redeems it once, for this visit and this escort."""

    action: str
    visit_id: int
    nonce: str

    def __post_init__(self) -> None:
        _require(self.action in {DOOR_ENTER, DOOR_EXIT, *_EXIT_CHECKS}, "door action")
        _require(1 <= self.visit_id <= MAX_ROW_ID, "visit id")
        _require(_NONCE.fullmatch(self.nonce) is not None, "door nonce")

    @property
    def enters(self) -> bool:
        return self.action == DOOR_ENTER

    @property
    def step(self) -> str:
        """The step the nonce was issued for (DOOR_ENTER or DOOR_EXIT)."""
        return DOOR_ENTER if self.enters else DOOR_EXIT

    @property
    def check(self) -> EquipmentCheck | None:
        """The equipment check a KELUAR button carries, if any."""
        return _EXIT_CHECKS.get(self.action)

    def wire(self) -> tuple[str, str]:
        return self.action, f"{self.visit_id}:{self.nonce}"


@dataclass(frozen=True)
class InvitationTap(Tap):
    """The admin's confirm (INVITE_OK) or decline (INVITE_NO) of a claimed invitation."""

    action: str
    invitation_id: int

    def __post_init__(self) -> None:
        _require(self.action in {INVITE_OK, INVITE_NO}, "invitation action")
        _require(1 <= self.invitation_id <= MAX_ROW_ID, "invitation id")

    @property
    def accept(self) -> bool:
        return self.action == INVITE_OK

    def wire(self) -> tuple[str, str]:
        return self.action, str(self.invitation_id)


@dataclass(frozen=True)
class StaffTap(Tap):
    """A person tapped: open their roles, remove them from staff, or make them a delegate."""

    action: str
    user_id: int

    def __post_init__(self) -> None:
        _require(self.action in {STAFF_VIEW, STAFF_REMOVE, DELEGATE}, "staff action")
        _require(1 <= self.user_id <= MAX_USER_ID, "user id")

    def wire(self) -> tuple[str, str]:
        return self.action, str(self.user_id)


@dataclass(frozen=True)
class StaffRolesTap(Tap):
    """A role toggled on a staff member: the role set the tap gives them (maybe empty)."""

    user_id: int
    roles: frozenset[Role]

    def __post_init__(self) -> None:
        _require(1 <= self.user_id <= MAX_USER_ID, "user id")

    def wire(self) -> tuple[str, str]:
        return STAFF_ROLE, f"{self.user_id}:{mask_of(self.roles)}"


@dataclass(frozen=True)
class HandoverTap(Tap):
    """Before an officer leaves (removed, or the officer role taken away): their open requests
    go to another officer (``to_id``), or are cancelled (``to_id`` 0); then the change the
    admin asked for is made: removal (``keeps`` None) or the roles they keep."""

    from_id: int
    to_id: int
    keeps: frozenset[Role] | None

    def __post_init__(self) -> None:
        _require(1 <= self.from_id <= MAX_USER_ID, "user id")
        _require(0 <= self.to_id <= MAX_USER_ID and self.to_id != self.from_id, "user id")
        _require(self.keeps is None or Role.OFFICER not in self.keeps, "officer leaves")

    def wire(self) -> tuple[str, str]:
        then = "x" if self.keeps is None else str(mask_of(self.keeps))
        return HANDOVER, f"{self.from_id}:{self.to_id}:{then}"


@dataclass(frozen=True)
class InviteRolesTap(Tap):
    """On an invitation: a role toggled (INVITE_ROLE), or the link asked for (INVITE_MAKE)."""

    action: str
    roles: frozenset[Role]

    def __post_init__(self) -> None:
        _require(self.action in {INVITE_ROLE, INVITE_MAKE}, "invitation roles action")

    def wire(self) -> tuple[str, str]:
        return self.action, str(mask_of(self.roles))


@dataclass(frozen=True)
class DelegateForTap(Tap):
    """How long the chosen delegate decides on the approver's behalf."""

    user_id: int
    days: int

    def __post_init__(self) -> None:
        _require(1 <= self.user_id <= MAX_USER_ID, "user id")
        _require(self.days in DELEGATION_DAYS, "delegation period")

    def wire(self) -> tuple[str, str]:
        return DELEGATE_FOR, f"{self.user_id}:{self.days}"


@dataclass(frozen=True)
class ReportTap(Tap):
    """A period button under /laporan (REPORT: the log) or /statistik (STATS: the chart)."""

    action: str
    preset: Preset

    def __post_init__(self) -> None:
        _require(self.action in {REPORT, STATS}, "report action")

    def wire(self) -> tuple[str, str]:
        return self.action, self.preset.value


@dataclass(frozen=True)
class RollCallTap(Tap):
    """ "Aman" under an evacuation roll call: this visitor of that roll call is outside."""

    roll_call_id: int
    visit_id: int

    def __post_init__(self) -> None:
        _require(1 <= self.roll_call_id <= MAX_ROW_ID, "roll call id")
        _require(1 <= self.visit_id <= MAX_ROW_ID, "visit id")

    def wire(self) -> tuple[str, str]:
        return ROLL_CALL_SAFE, f"{self.roll_call_id}:{self.visit_id}"


@dataclass(frozen=True)
class DutyTap(Tap):
    """ "Mulai piket" (``on``) or "Selesai piket" (not ``on``) under the escort's /piket."""

    on: bool

    def wire(self) -> tuple[str, str]:
        return DUTY, "on" if self.on else "off"


# The officer's form (``v1:reg:<arg>``): four shapes of arg, one type each.


@dataclass(frozen=True)
class FormWord(Tap):
    """cancel, back, send (the summary), reuse, fresh or phone (a returning visitor), readok,
    readnik or readname (what the KTP reader found), onebyone (the rest asked one by one),
    resume or restart (a form started again while one with answers was open)."""

    word: str

    def __post_init__(self) -> None:
        _require(self.word in FORM_WORDS, "form word")

    def wire(self) -> tuple[str, str]:
        return REGISTRATION, self.word


def _form_field(name: str) -> None:
    _require(field_named(name) is not None, "form field")


@dataclass(frozen=True)
class FormChoice(Tap):
    """One of a question's suggested answers, by its place (the form checks it is offered)."""

    field: str
    index: int

    def __post_init__(self) -> None:
        _form_field(self.field)
        _require(0 <= self.index <= MAX_CHOICE_INDEX, "choice index")

    def wire(self) -> tuple[str, str]:
        return REGISTRATION, f"c:{self.field}:{self.index}"


@dataclass(frozen=True)
class FormNone(Tap):
    """An optional field's "none" button."""

    field: str

    def __post_init__(self) -> None:
        field = field_named(self.field)
        _require(field is not None and field.optional, "optional field")

    def wire(self) -> tuple[str, str]:
        return REGISTRATION, f"n:{self.field}"


@dataclass(frozen=True)
class FormEdit(Tap):
    """From the summary: the field to change, by name."""

    field: str

    def __post_init__(self) -> None:
        _form_field(self.field)

    def wire(self) -> tuple[str, str]:
        return REGISTRATION, f"e:{self.field}"


def _int(text: str) -> int:
    """A canonical decimal: no sign, no leading zero, no spaces (int() allows all three)."""
    _require(_NUMBER.fullmatch(text) is not None, "number")
    return int(text)


def _roles(text: str) -> frozenset[Role]:
    mask = _int(text)
    _require(mask <= ALL_ROLES_MASK, "role mask")  # a bit no role has: not our button
    return roles_of(mask)


def _pair(text: str) -> tuple[int, str]:
    first, sep, second = text.partition(":")
    _require(bool(sep), "pair")
    return _int(first), second


def _preset(text: str) -> Preset:
    _require(text in {p.value for p in Preset}, "period preset")
    return Preset(text)


# Readers: the arg of one action into its typed button; ValueError when it is not one.


def _visit(action: str, arg: str) -> Tap:
    return VisitTap(action, _int(arg))


def _door(action: str, arg: str) -> Tap:
    visit_id, nonce = _pair(arg)
    return DoorTap(action, visit_id, nonce)


def _invitation(action: str, arg: str) -> Tap:
    return InvitationTap(action, _int(arg))


def _staff(action: str, arg: str) -> Tap:
    return StaffTap(action, _int(arg))


def _staff_roles(action: str, arg: str) -> Tap:
    user_id, mask = _pair(arg)
    return StaffRolesTap(user_id, _roles(mask))


def _handover(action: str, arg: str) -> Tap:
    from_id, rest = _pair(arg)
    to_id, then = _pair(rest)
    return HandoverTap(from_id, to_id, None if then == "x" else _roles(then))


def _invite_roles(action: str, arg: str) -> Tap:
    return InviteRolesTap(action, _roles(arg))


def _delegate_for(action: str, arg: str) -> Tap:
    user_id, days = _pair(arg)
    return DelegateForTap(user_id, _int(days))


def _report(action: str, arg: str) -> Tap:
    return ReportTap(action, _preset(arg))


def _roll_call(action: str, arg: str) -> Tap:
    roll_call_id, visit_id = _pair(arg)
    return RollCallTap(roll_call_id, _int(visit_id))


def _duty(action: str, arg: str) -> Tap:
    _require(arg in {"on", "off"}, "duty state")
    return DutyTap(arg == "on")


def _form(action: str, arg: str) -> Tap:
    if arg in FORM_WORDS:
        return FormWord(arg)
    kind, _, rest = arg.partition(":")
    if kind == "c":
        field, _, index = rest.partition(":")
        return FormChoice(field, _int(index))
    if kind == "n":
        return FormNone(rest)
    _require(kind == "e", "form button")
    return FormEdit(rest)


_READERS: dict[str, Callable[[str, str], Tap]] = {
    APPROVE: _visit,
    APPROVE_BARRED: _visit,
    DENY: _visit,
    DENY_ABORT: _visit,
    ENTER: _visit,
    EXIT: _visit,
    DOOR_ENTER: _door,
    DOOR_EXIT: _door,
    DOOR_EXIT_OK: _door,
    DOOR_EXIT_DIFF: _door,
    CANCEL: _visit,
    CANCEL_ABORT: _visit,
    OPEN_VISIT: _visit,
    PLAN_OPEN: _visit,
    INVITE_OK: _invitation,
    INVITE_NO: _invitation,
    STAFF_VIEW: _staff,
    STAFF_REMOVE: _staff,
    DELEGATE: _staff,
    HANDOVER: _handover,
    STAFF_ROLE: _staff_roles,
    INVITE_ROLE: _invite_roles,
    INVITE_MAKE: _invite_roles,
    DELEGATE_FOR: _delegate_for,
    REPORT: _report,
    STATS: _report,
    REGISTRATION: _form,
    ROLL_CALL_SAFE: _roll_call,
    DUTY: _duty,
}
T = TypeVar("T", bound=Tap)


def parse(data: str | None) -> Tap | None:
    """The typed button for well-formed data of this version, else None (a stale button)."""
    match = _DATA_RE.fullmatch(data or "")
    reader = _READERS.get(match.group(1)) if match else None
    if match is None or reader is None:
        return None
    try:
        return reader(match.group(1), match.group(2))
    except ValueError:
        return None


def parse_as(data: str | None, kind: type[T]) -> T | None:
    """parse(), for a handler that takes one kind of button: any other kind is None."""
    tap = parse(data)
    return tap if isinstance(tap, kind) else None


def handles(kind: type[T], check: Callable[[T], bool] | None = None) -> Callable[[object], bool]:
    """A CallbackQueryHandler pattern: data that parses as ``kind`` (and passes ``check``),
    so routing a button and reading it are the same parse."""

    def matches(data: object) -> bool:
        tap = parse_as(data, kind) if isinstance(data, str) else None
        return tap is not None and (check is None or check(tap))

    return matches
