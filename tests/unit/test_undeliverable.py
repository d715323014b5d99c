"""Which refusals mean "this person cannot be reached", in the words PTB hands them over."""

from __future__ import annotations

import pytest

from bot.flows.undeliverable import Reason, unreachable


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        # PTB drops "Bad Request: " / "Forbidden: " and capitalises what is left.
        ("Chat not found", Reason.NEVER_OPENED),
        ("Forbidden: bot can't initiate conversation with a user", Reason.NEVER_OPENED),
        ("Forbidden: bot was blocked by the user", Reason.BLOCKED),
        ("Forbidden: user is deactivated", Reason.DEACTIVATED),
        # Refusals of the request itself: a bug to log, nobody to tell.
        ("Message is too long", None),
        ("Can't parse entities: unsupported start tag", None),
        ("Message to edit not found", None),
        ("Wrong file identifier/http url specified", None),
    ],
)
def test_refusals_about_the_person_are_told_apart(error: str, reason: Reason | None) -> None:
    assert unreachable(error) is reason
