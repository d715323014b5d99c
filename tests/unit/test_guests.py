"""Self-registration links (bot/core/guests.py): their shape never passes for a badge token or
a staff invitation, only the exact /start message opens one, and a link's life."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.core import guests, invites
from bot.core.tokens import TOKEN_LENGTH, looks_like_token


def test_a_link_is_neither_a_badge_token_nor_an_invitation() -> None:
    for _ in range(200):
        token = guests.new_link_token()
        assert len(token) == guests.LINK_LENGTH != TOKEN_LENGTH
        assert guests.is_link(token) and looks_like_token(token)
        assert not invites.is_invite(token)
        assert guests.START_RE.match(f"/start {token}")
    assert not guests.is_link(invites.new_invite_token())


def test_only_the_exact_start_message_opens_a_link() -> None:
    token = guests.new_link_token()
    for text in (
        f"/start {token} x",
        f"/start  {token}",
        f"/start {token[:-1]}",
        f"/start {token}!",
        f"/mulai {token}",
        token,
        f"/start\n{token}",
    ):
        assert guests.START_RE.match(text) is None, text
    assert guests.FORM_COMMAND_RE.match("/batal")
    assert guests.FORM_COMMAND_RE.match("/kembali")
    assert not guests.FORM_COMMAND_RE.match("/batalkan")
    assert not guests.FORM_COMMAND_RE.match("/batal 1")
    assert not guests.FORM_COMMAND_RE.match("/kembalikan")


def test_a_link_lives_until_used_or_expired() -> None:
    now = datetime(2026, 11, 28, 2, tzinfo=UTC)
    link = guests.GuestLink(1, 7, "2026-11-29", "09:00-12:00", now, now + guests.VALID)
    assert link.usable(now) and link.usable(now + guests.VALID - timedelta(seconds=1))
    assert not link.usable(now + guests.VALID)
    used = guests.GuestLink(1, 7, "2026-11-29", "09:00-12:00", now, now + guests.VALID, now, 3)
    assert not used.usable(now)
