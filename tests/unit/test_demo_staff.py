"""The demo's staff are named like people: the bot already says each one's role."""

from __future__ import annotations

import tomllib

from bot.core.roles import role_named
from bot.texts.common import ROLE_NAMES, welcome
from demo.app import CONFIG_TEMPLATE, PEOPLE


def test_demo_staff_names_do_not_repeat_their_role() -> None:
    values = dict.fromkeys(
        ["token", "base_url", "base_file_url", "secret", "key", "audit_key"], "x"
    )
    config = tomllib.loads(CONFIG_TEMPLATE.format(**values, officer=1, approver=2, escort=3))
    staff = config["staff"]
    assert len(staff) == len(PEOPLE)
    for person, (first_name, _) in zip(staff, PEOPLE.values(), strict=True):
        name = person["name"]
        assert name.split()[0] == first_name  # the phone's name and the bot's agree
        assert not any(role.lower() in name.lower() for role in ROLE_NAMES.values()), name
        roles = frozenset(role_named(r) for r in person["roles"])
        assert welcome(name, roles).count(ROLE_NAMES[next(iter(roles))]) == 1
