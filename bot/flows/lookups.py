"""Looking up citizens' data leaves a trace: who looked, when, and at whom (UU 27/2022).

Every lookup of stored personal data is an audit event: /riwayat (by NIK or by name), a
returning visitor's details offered to the officer, and the full phone number shown on
the officer's tap. The event names the visitor by id and the visits found, never by NIK
or name, so the audit log itself holds no personal data.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.app.services import Services
from bot.core.visits import Visit

HISTORY = "history_viewed"  # /riwayat answered
RECALLED = "visitor_recalled"  # a returning visitor's stored details offered in the form
PHONE_SHOWN = "phone_revealed"  # the full phone number of a stored visitor shown on a tap


async def history_viewed(
    services: Services, user_id: int, by: str, visits: Sequence[Visit]
) -> None:
    """/riwayat: ``by`` is "nik" or "name"; the visits shown (or none) by id."""
    visitors = sorted({v.visitor_id for v in visits})
    detail = f"by {by}; visitors {_ids(visitors)}; visits {_ids(sorted(v.id for v in visits))}"
    await services.storage.audit.record(services.now(), user_id, HISTORY, detail=detail)


async def recalled(services: Services, officer_id: int, visitor_id: int) -> None:
    await services.storage.audit.record(
        services.now(), officer_id, RECALLED, detail=f"visitor {visitor_id}"
    )


async def phone_shown(services: Services, officer_id: int, visitor_id: int) -> None:
    await services.storage.audit.record(
        services.now(), officer_id, PHONE_SHOWN, detail=f"visitor {visitor_id}"
    )


def _ids(ids: Sequence[int]) -> str:
    return ",".join(str(i) for i in ids) or "none"
