"""Every value in callback data is checked like typed input (issue 10): a tap that is
well-shaped but names a visit, person, invitation or nonce that does not exist, from the
one role allowed to press it, is answered as stale and changes nothing."""

from __future__ import annotations

import pytest

from bot.app.services import Services
from bot.core import callbacks
from simulator import BotApiSimulator
from tests.conftest import ADMIN, APPROVER, ESCORT, OFFICER
from tests.dbstate import watch
from tests.flows import register

NOBODY, NO_VISIT = 987654321, 987654

TAPS = [
    (APPROVER, f"v1:ok:{NO_VISIT}", []),
    (APPROVER, f"v1:no:{NO_VISIT}", []),
    (OFFICER, f"v1:cx:{NO_VISIT}", []),
    (ESCORT, f"v1:dv:{NO_VISIT}", []),
    (ESCORT, callbacks.DoorTap(callbacks.DOOR_ENTER, 1, "Z" * 12).data, ["door_tap_refused"]),
    (ESCORT, f"v1:dout:{NO_VISIT}:{'Z' * 12}", ["door_tap_refused"]),
    (ADMIN, f"v1:stf:{NOBODY}", []),
    (ADMIN, f"v1:stfx:{NOBODY}", []),
    (ADMIN, f"v1:stfr:{NOBODY}:1", []),
    (ADMIN, f"v1:invok:{NO_VISIT}", []),
    (ADMIN, f"v1:hov:{NOBODY}:0:x", []),
    (ADMIN, f"v1:hov:{OFFICER}:{NOBODY}:x", []),
    (APPROVER, f"v1:dlg:{NOBODY}", []),
    (APPROVER, f"v1:dlgp:{NOBODY}:1", []),
    (OFFICER, "v1:reg:c:duration:9", []),  # no such suggested duration (and no form open)
]


@pytest.mark.parametrize(("presser", "data", "audited"), TAPS)
async def test_a_tap_naming_nothing_that_exists_changes_nothing(
    sim: BotApiSimulator,
    app: object,
    services: Services,
    presser: int,
    data: str,
    audited: list[str],
) -> None:
    await register(sim)
    person = sim.user(presser)
    await person.send_text("/start")
    shown = await person.wait_for("Selamat datang")
    db = await watch(app, sim)
    tap = await person.send_callback(shown, data)
    await sim.settle()
    assert tap.answer is not None and tap.answer.show_alert, tap.answer
    await db.unchanged(new_audit=audited)
