"""Shared objects handlers reach through the typed context (never a bot_data grab-bag)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from bot.app.config import Config
from bot.app.errorgroups import ErrorGroups
from bot.core import duty
from bot.core.duty import Shift
from bot.core.form import DECLARED, RULES, Form
from bot.core.policy import Act, may, may_stand_in
from bot.core.roles import Role, StaffMember, roles_named
from storage.db import Storage
from storage.staff import Delegation

if TYPE_CHECKING:
    from bot.flows.delivery import Delivery

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(UTC)


class Services:
    """The application's bot_data: config and clock set at build, storage in post_init."""

    config: Config
    storage: Storage
    delivery: Delivery
    delivery_task: asyncio.Task[None] | None = None
    retry_base: float = 1.0
    clock: Clock = staticmethod(system_clock)
    bot_username: str = ""
    # Unhandled errors grouped for the admins' report (handlers/errors.py), and when the
    # last update handled was recorded (bot/flows/health.py); both set in build_application.
    errors: ErrorGroups
    update_beat_at: datetime | None = None
    # The DB-backed staff (storage/staff.py), reloaded after every change so that member(),
    # called synchronously by every handler, stays a dict lookup. None until post_init.
    _staff: dict[int, StaffMember] | None = None
    _names: dict[int, str] | None = None
    _delegations: tuple[Delegation, ...] = ()
    # Staff known to have written to the bot (storage: staff.opened_at); Telegram delivers
    # nothing to the others ("chat not found"). None until post_init.
    _opened: set[int] | None = None
    # The escorts' open shifts (storage/duty.py), reloaded with the staff and after every
    # /piket tap, so that who hears of an approval is decided without a query.
    _shifts: tuple[Shift, ...] = ()

    def now(self) -> datetime:
        return self.clock()

    @property
    def form(self) -> Form:
        """The visitor form as this configuration asks it (bot/core/form.py switches)."""
        return DECLARED.enabled({RULES} if self.config.rules.enabled else ())

    def member(self, user_id: int | None) -> StaffMember | None:
        if self._staff is None:
            return self.config.member(user_id)
        return self._staff.get(user_id) if user_id is not None else None

    def staff_members(self) -> list[StaffMember]:
        """Active staff, in a stable order."""
        if self._staff is None:
            return list(self.config.staff)
        return sorted(self._staff.values(), key=lambda m: (m.name, m.user_id))

    def with_role(self, role: Role) -> list[StaffMember]:
        """Staff with the role (delegates are approvers themselves: policy.may_stand_in)."""
        return [m for m in self.staff_members() if m.has(role)]

    def on_duty(self) -> list[StaffMember]:
        """Escorts on duty now (bot/core/duty.py), in the staff order."""
        return duty.on_duty(self.with_role(Role.ESCORT), self._shifts, self.now())

    def shift_of(self, user_id: int) -> Shift | None:
        """This escort's running shift, if any."""
        now = self.now()
        return next((s for s in self._shifts if s.user_id == user_id and s.running(now)), None)

    def escorts_to_tell(self) -> list[StaffMember]:
        """Who hears that a visitor waits: the escorts on duty, or every escort when none is."""
        return duty.to_tell(self.with_role(Role.ESCORT), self._shifts, self.now())

    def acting_for(self, user_id: int | None) -> StaffMember | None:
        """The approver this person stands in for right now (a delegation), if any."""
        now = self.now()
        for d in self._delegations:
            if d.delegate_id == user_id and d.starts_at <= now < d.ends_at:
                approver = self.member(d.approver_id)
                # A delegation lapses with its giver's own right to decide, and holds only
                # while its delegate is an approver too.
                if may(approver, Act.DECIDE) and may_stand_in(self.member(user_id)):
                    return approver
        return None

    def name_of(self, user_id: int | None) -> str:
        """The name even of former staff, so old records still say who acted."""
        if self._names is not None and user_id in self._names:
            return self._names[user_id]
        member = self.config.member(user_id)
        return member.name if member else "-"

    def has_opened(self, user_id: int) -> bool:
        """Whether this staff member ever wrote to the bot (so it can write to them)."""
        return self._opened is None or user_id in self._opened

    async def note_opened(self, user_id: int) -> bool:
        """An update from this staff member: record their first one (one write, once).
        True for that first one."""
        if self._opened is None or user_id in self._opened:
            return False
        self._opened.add(user_id)
        await self.storage.staff.mark_opened(user_id, self.now())
        return True

    async def refresh_staff(self) -> None:
        rows = await self.storage.staff.all()
        self._opened = {r.user_id for r in rows if r.opened}
        self._names = {r.user_id: r.name for r in rows}
        self._staff = {
            r.user_id: StaffMember(r.user_id, r.name, roles_named(r.roles))
            for r in rows
            if r.active
        }
        self._delegations = tuple(await self._valid_delegations())
        await self.refresh_duty()

    async def refresh_duty(self) -> None:
        self._shifts = tuple(await self.storage.duty.open_shifts())

    async def _valid_delegations(self) -> list[Delegation]:
        """Current delegations; one whose delegate is not an approver (given before the rule,
        or the delegate lost the role since) is void from now on, and audited as such."""
        now, valid = self.now(), []
        for d in await self.storage.staff.current_delegations(now):
            if may_stand_in(self.member(d.delegate_id)):
                valid.append(d)
            else:
                await self.storage.staff.void_delegation(d, "not_approver", now)
        return valid
