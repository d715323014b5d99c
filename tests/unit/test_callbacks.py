"""Callback data: one parser, a type per kind of button, every argument range-checked, and
the wire format of buttons already on people's phones unchanged."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.core import callbacks as cb
from bot.core.form import FORM
from bot.core.period import Preset
from bot.core.policy import DELEGATION_DAYS
from bot.core.roles import Role

FIELDS = [field.name for field in FORM]
OPTIONAL = [field.name for field in FORM if field.optional]

ACTIONS = [
    cb.APPROVE,
    cb.DENY,
    cb.DENY_ABORT,
    cb.ENTER,
    cb.EXIT,
    cb.CANCEL,
    cb.CANCEL_ABORT,
    cb.OPEN_VISIT,
    cb.REGISTRATION,
    cb.INVITE_ROLE,
    cb.INVITE_MAKE,
    cb.INVITE_OK,
    cb.INVITE_NO,
    cb.STAFF_VIEW,
    cb.STAFF_ROLE,
    cb.STAFF_REMOVE,
    cb.DELEGATE,
    cb.DELEGATE_FOR,
    cb.REPORT,
    cb.STATS,
    cb.ROLL_CALL_SAFE,
    cb.APPROVE_BARRED,
    cb.DUTY,
]
# The order handlers/staff.py numbered roles in before bits were explicit.
OLD_ROLE_ORDER = ("officer", "approver", "escort", "admin")

visit_ids = st.integers(min_value=1, max_value=cb.MAX_ROW_ID)
user_ids = st.integers(min_value=1, max_value=cb.MAX_USER_ID)
role_sets = st.frozensets(st.sampled_from(list(Role)))
taps: st.SearchStrategy[cb.Tap] = st.one_of(
    st.builds(cb.VisitTap, st.sampled_from(ACTIONS[:5]), visit_ids),
    st.builds(cb.InvitationTap, st.sampled_from([cb.INVITE_OK, cb.INVITE_NO]), visit_ids),
    st.builds(
        cb.StaffTap, st.sampled_from([cb.STAFF_VIEW, cb.STAFF_REMOVE, cb.DELEGATE]), user_ids
    ),
    st.builds(cb.StaffRolesTap, user_ids, role_sets),
    st.builds(cb.InviteRolesTap, st.sampled_from([cb.INVITE_ROLE, cb.INVITE_MAKE]), role_sets),
    st.builds(cb.DelegateForTap, user_ids, st.sampled_from(DELEGATION_DAYS)),
    st.builds(cb.ReportTap, st.sampled_from([cb.REPORT, cb.STATS]), st.sampled_from(Preset)),
    st.builds(cb.FormWord, st.sampled_from(sorted(cb.FORM_WORDS))),
    st.builds(cb.FormChoice, st.sampled_from(FIELDS), st.integers(0, cb.MAX_CHOICE_INDEX)),
    st.builds(cb.FormNone, st.sampled_from(OPTIONAL)),
    st.builds(cb.FormEdit, st.sampled_from(FIELDS)),
    st.builds(cb.RollCallTap, visit_ids, visit_ids),
    st.builds(cb.DutyTap, st.booleans()),
)


@given(taps)
def test_every_button_parses_back_to_itself(tap: cb.Tap) -> None:
    assert cb.parse(tap.data) == tap
    assert len(tap.data.encode()) <= 64  # Bot API: callback_data is 1-64 bytes


@given(taps)
def test_each_button_reaches_exactly_its_own_handler(tap: cb.Tap) -> None:
    action, _ = tap.wire()
    assert [a for a in ACTIONS if cb.pattern(a).match(tap.data)] == [action]


@given(st.one_of(st.text(), st.from_regex(r"v1:[a-z]{1,8}:[A-Za-z0-9_:-]{0,48}", fullmatch=True)))
def test_anything_else_is_none_and_what_parses_is_canonical(data: str) -> None:
    tap = cb.parse(data)
    assert tap is None or tap.data == data


@given(user_ids, role_sets)
def test_role_masks_keep_the_old_numbering(user_id: int, roles: frozenset[Role]) -> None:
    old_mask = sum(1 << i for i, name in enumerate(OLD_ROLE_ORDER) if name in roles)
    assert cb.StaffRolesTap(user_id, roles).data == f"v1:stfr:{user_id}:{old_mask}"
    assert cb.InviteRolesTap(cb.INVITE_MAKE, roles).data == f"v1:invmk:{old_mask}"


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        # As the buttons were built before the parser was typed: these are on phones now.
        ("v1:ok:12", cb.VisitTap(cb.APPROVE, 12)),
        ("v1:no:12", cb.VisitTap(cb.DENY, 12)),
        ("v1:nx:12", cb.VisitTap(cb.DENY_ABORT, 12)),
        ("v1:in:7", cb.VisitTap(cb.ENTER, 7)),
        ("v1:out:7", cb.VisitTap(cb.EXIT, 7)),
        ("v1:cx:42", cb.VisitTap(cb.CANCEL, 42)),
        ("v1:okb:42", cb.VisitTap(cb.APPROVE_BARRED, 42)),
        ("v1:cxn:42", cb.VisitTap(cb.CANCEL_ABORT, 42)),
        ("v1:invok:3", cb.InvitationTap(cb.INVITE_OK, 3)),
        ("v1:invno:3", cb.InvitationTap(cb.INVITE_NO, 3)),
        ("v1:invr:0", cb.InviteRolesTap(cb.INVITE_ROLE, frozenset())),
        ("v1:invmk:5", cb.InviteRolesTap(cb.INVITE_MAKE, frozenset({Role.OFFICER, Role.ESCORT}))),
        ("v1:stf:1001", cb.StaffTap(cb.STAFF_VIEW, 1001)),
        ("v1:stfx:1001", cb.StaffTap(cb.STAFF_REMOVE, 1001)),
        ("v1:stfr:1001:0", cb.StaffRolesTap(1001, frozenset())),
        ("v1:stfr:1001:15", cb.StaffRolesTap(1001, frozenset(Role))),
        ("v1:dlg:3001", cb.StaffTap(cb.DELEGATE, 3001)),
        ("v1:dlgp:3001:1", cb.DelegateForTap(3001, 1)),
        ("v1:dlgp:3001:3", cb.DelegateForTap(3001, 3)),
        ("v1:dlgp:3001:7", cb.DelegateForTap(3001, 7)),
        ("v1:rep:today", cb.ReportTap(cb.REPORT, Preset.TODAY)),
        ("v1:stat:month", cb.ReportTap(cb.STATS, Preset.MONTH)),
        ("v1:reg:send", cb.FormWord("send")),
        ("v1:hov:1001:1002:x", cb.HandoverTap(1001, 1002, None)),
        ("v1:hov:1001:0:4", cb.HandoverTap(1001, 0, frozenset({Role.ESCORT}))),
        ("v1:din:7:AbC-_12345xy", cb.DoorTap(cb.DOOR_ENTER, 7, "AbC-_12345xy")),
        ("v1:dout:7:AbC-_12345xy", cb.DoorTap(cb.DOOR_EXIT, 7, "AbC-_12345xy")),
        ("v1:reg:c:purpose:0", cb.FormChoice("purpose", 0)),
        ("v1:reg:c:duration:4", cb.FormChoice("duration", 4)),
        ("v1:reg:n:equipment", cb.FormNone("equipment")),
        ("v1:reg:e:organisation", cb.FormEdit("organisation")),
        ("v1:rcs:3:17", cb.RollCallTap(3, 17)),
        ("v1:duty:on", cb.DutyTap(on=True)),
        ("v1:duty:off", cb.DutyTap(on=False)),
    ],
)
def test_buttons_already_sent_still_parse(data: str, expected: cb.Tap) -> None:
    assert cb.parse(data) == expected
    assert expected.data == data


@pytest.mark.parametrize(
    "data",
    [
        None,
        "",
        "x" * 64,
        "v9:ok:1",
        "v1:zz:1",
        "v1:ok:",
        "v1:ok:0",  # ids start at 1
        "v1:ok:007",  # never written with leading zeros
        "v1:ok:1_000",  # int() would take it
        "v1:ok:-1",
        "v1:ok:abc",
        "v1:ok:5\n",  # a regex's $ would let the newline through
        "v1:ok:1000000000000",  # past any visit id
        "v1:stf:4503599627370496",  # 2**52: past any Telegram user id
        "v1:cx:0",
        "v1:cx:1000000000000",
        "v1:cxn:abc",
        "v1:invok:0",
        "v1:stfr:1001",
        "v1:stfr:1001:16",  # a bit no role has
        "v1:stfr:1001:99",
        "v1:stfr::5",
        "v1:invmk:16",
        "v1:dlgp:3001",
        "v1:dlgp:3001:2",  # not a period the approver was offered
        "v1:dlgp:3001:0",
        "v1:dlgp:0:1",
        "v1:rep:year",
        "v1:duty:",
        "v1:duty:ON",
        "v1:duty:1",
        "v1:rep:TODAY",
        "v1:stat:",
        "v1:reg:",
        "v1:reg:submit",
        # The form's buttons before it was declared once: a restart re-asks with new ones.
        "v1:reg:none",
        "v1:reg:p:0",
        "v1:reg:d:15",
        "v1:reg:c:purpose:10",
        "v1:reg:c:purpose:01",
        "v1:reg:c:purpose",
        "v1:reg:c:umur:0",  # not a field of the form
        "v1:reg:n:name",  # a required field has no "none"
        "v1:reg:n:",
        "v1:reg:e:",
        "v1:reg:e:NIK",
        "v1:reg:x:1",
        "v1:hov:1001:1001:x",  # to the one leaving
        "v1:hov:1001:1002:1",  # keeps the officer role: nothing to hand over
        "v1:hov:1001:1002:y",
        "v1:hov:1001:1002",
        "v1:hov:0:1002:x",
        "v1:din:7",  # a door button without its scan's nonce
        "v1:din:7:short",
        "v1:dout:7:AbC-_12345xyzz",  # one character too many
        "v1:dout:0:AbC-_12345xy",
        "v1:din:7:AbC-_1234.xy",
        "v1:rcs:3",  # a roll call without the visitor
        "v1:rcs:0:17",
        "v1:rcs:3:0",
        "v1:rcs:3:017",
    ],
)
def test_stale_forged_or_out_of_range_data_is_none(data: str | None) -> None:
    assert cb.parse(data) is None


def test_parse_as_takes_only_its_kind() -> None:
    assert cb.parse_as("v1:ok:5", cb.VisitTap) == cb.VisitTap(cb.APPROVE, 5)
    assert cb.parse_as("v1:stf:5", cb.VisitTap) is None
    assert cb.parse_as("v1:ok:5", cb.StaffTap) is None


@pytest.mark.parametrize(
    "build",
    [
        lambda: cb.VisitTap(cb.STAFF_VIEW, 1),  # a user id is not a visit id
        lambda: cb.VisitTap(cb.APPROVE, 0),
        lambda: cb.StaffTap(cb.APPROVE, 1),
        lambda: cb.StaffTap(cb.STAFF_VIEW, cb.MAX_USER_ID + 1),
        lambda: cb.InvitationTap(cb.INVITE_ROLE, 1),
        lambda: cb.InviteRolesTap(cb.INVITE_OK, frozenset()),
        lambda: cb.DelegateForTap(1, 2),
        lambda: cb.ReportTap(cb.APPROVE, Preset.TODAY),
        lambda: cb.FormWord("submit"),
        lambda: cb.FormChoice("purpose", cb.MAX_CHOICE_INDEX + 1),
        lambda: cb.FormChoice("umur", 0),
        lambda: cb.FormNone("nik"),
        lambda: cb.FormEdit("Nama"),
    ],
)
def test_a_button_that_could_not_be_parsed_cannot_be_built(build: Callable[[], cb.Tap]) -> None:
    with pytest.raises(ValueError):
        build()
