"""Who may do what (DESIGN.md, "The domain"): every permission check in the bot asks may().

Handlers and flows name the act; only this module knows which roles allow it, so a new
role or a changed rule is one edit here, and tests/unit/test_policy.py is the whole
matrix. Pure: no Telegram, no storage.
"""

from __future__ import annotations

import enum
from typing import TypeGuard

from bot.core.roles import Role, StaffMember
from bot.core.visits import Visit


class Act(enum.Enum):
    """Every guarded action, named by what the person does."""

    USE_BOT = "use_bot"  # anything at all: the gate in handlers/access.py
    REGISTER = "register"  # fill in and submit the visitor form (SOP steps 1-3)
    PLAN = "plan"  # plan a visit ahead (/jadwal) and see today's planned visits (/hari_ini)
    INVITE_VISITOR = "invite_visitor"  # a self-registration link for a visitor (/undang_tamu)
    CANCEL = "cancel"  # withdraw a request not yet used (/batalkan), whoever registered it
    DECIDE = "decide"  # approve or deny a request (SOP steps 4-5)
    RECORD_DOOR = "record_door"  # record entry and exit at the door (SOP step 6, the end)
    VIEW_BADGE = "view_badge"  # see the visit behind a scanned QR or a badge photo
    USE_CODE = "use_code"  # look a badge up by the code printed under its QR (/kode)
    OVERSEE = "oversee"  # who is inside, what is pending (/aktif, /menunggu)
    VIEW_REPORTS = "view_reports"  # the access log, its statistics, a visitor's history
    ADMINISTER_STAFF = "administer_staff"  # /staf, /undang, confirming invitations
    DELEGATE = "delegate"  # name someone who decides on one's behalf for a while
    ROLL_CALL = "roll_call"  # start an evacuation roll call (/darurat), mark a visitor safe
    WATCHLIST = "watchlist"  # bar a NIK, lift the bar, see the list (/blokir, /daftar_blokir)
    TAKE_DUTY = "take_duty"  # go on or off duty as an escort (/piket)


# The roles that allow each act; None: every staff member (strangers never get this far).
_ALLOWED: dict[Act, frozenset[Role] | None] = {
    Act.USE_BOT: None,
    Act.REGISTER: frozenset({Role.OFFICER}),
    # A section head may plan a vendor's visit too; four eyes still keeps them off its
    # decision. Opening it on the day takes the KTP at the desk: REGISTER, officers only.
    Act.PLAN: frozenset({Role.OFFICER, Role.APPROVER}),
    # The officer at the desk vouches for the visitor they send a link to, and checks the
    # person on arrival; the request still goes to the section heads.
    Act.INVITE_VISITOR: frozenset({Role.OFFICER}),
    # Any officer at the desk, not only the registrant: shifts change, the audit keeps who.
    Act.CANCEL: frozenset({Role.OFFICER}),
    Act.DECIDE: frozenset({Role.APPROVER}),
    Act.RECORD_DOOR: frozenset({Role.ESCORT}),
    Act.VIEW_BADGE: None,
    Act.USE_CODE: None,
    Act.OVERSEE: None,
    Act.VIEW_REPORTS: frozenset({Role.OFFICER, Role.APPROVER, Role.ADMIN}),
    Act.ADMINISTER_STAFF: frozenset({Role.ADMIN}),
    Act.DELEGATE: frozenset({Role.APPROVER}),
    # An emergency is everyone's: whoever notices it starts the roll call, and whoever sees a
    # visitor outside marks them (the mark records who), not only their escort.
    Act.ROLL_CALL: None,
    # Those who decide on requests decide who is barred; the list names people and why.
    Act.WATCHLIST: frozenset({Role.APPROVER}),
    # Duty decides who hears that a visitor waits at the desk: the escorts' own roster.
    Act.TAKE_DUTY: frozenset({Role.ESCORT}),
}

# How long a delegation may run, in days: a stand-in is for an absence, never open-ended.
DELEGATION_DAYS = (1, 3, 7)


def may(
    member: StaffMember | None,
    act: Act,
    visit: Visit | None = None,
    *,
    acting_for: StaffMember | None = None,
) -> TypeGuard[StaffMember]:
    """May ``member`` do ``act`` (on ``visit``, when the act concerns one)?

    ``acting_for`` is the approver whose delegation ``member`` holds right now, if any. A
    delegation goes only to approvers (``may_stand_in``), so it never grants the right to
    decide; it only says on whose behalf ("a.n.") a decision is taken. ``visit`` is where
    rules about the request itself belong: four eyes (ISO 27002 5.3, segregation of duties).
    """
    if member is None:
        return False
    if act is Act.DECIDE and registered(member, visit):
        return False
    allowed = _ALLOWED[act]
    return allowed is None or not allowed.isdisjoint(member.roles)


def registered(member: StaffMember, visit: Visit | None) -> bool:
    """Four eyes: whoever registered a request never decides it, not even as a delegate."""
    return visit is not None and visit.officer_id == member.user_id


def may_stand_in(member: StaffMember | None) -> TypeGuard[StaffMember]:
    """Who may be named a delegate: an approver, never anyone else (issue 10). Naming an
    officer would let them approve what they registered in another's name; a delegation
    given to someone else before this rule is void (bot/app/services.py)."""
    return member is not None and member.has(Role.APPROVER)


def decides_for(
    member: StaffMember, acting_for: StaffMember | None, visit: Visit | None = None
) -> StaffMember | None:
    """The section head on whose behalf ("a.n.") ``member`` decides while their delegation
    runs; None in their own right. Never on behalf of whoever registered ``visit``: a
    decision in the registrant's name would be the self-approval four eyes forbids."""
    if (
        acting_for is None
        or acting_for.user_id == member.user_id
        or not may_stand_in(member)
        or not acting_for.has(Role.APPROVER)
        or registered(acting_for, visit)
    ):
        return None
    return acting_for


# Holding both lets a person register a request and decide others' (four eyes still bars
# their own); granting it is what a second pair of eyes should see.
SELF_APPROVAL_PAIR = frozenset({Role.OFFICER, Role.APPROVER})


def opens_self_approval(
    before: frozenset[Role], after: frozenset[Role], *, own: bool = False
) -> bool:
    """Does this role change open a self-approval path (issue 10)? Becoming both officer and
    approver, or an admin making themselves an approver (``own``): every approver is told."""
    if after >= SELF_APPROVAL_PAIR and not before >= SELF_APPROVAL_PAIR:
        return True
    return own and Role.APPROVER in after - before


def fixed_roles(seeded: StaffMember | None) -> frozenset[Role]:
    """Roles the chat cannot take away from someone the config file lists.

    A config admin stays an admin (and stays staff), so editing the config is always a way
    back in, even if the admins in the chat lock each other out.
    """
    return seeded.roles & {Role.ADMIN} if seeded is not None else frozenset()
