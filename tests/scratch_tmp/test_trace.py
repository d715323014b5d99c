import re
from collections import Counter
from bot.app.services import Services
from simulator import BotApiSimulator
from tests.conftest import FakeClock
from tests.flows import approve, badge_link, register, scan
from tests.conftest import ESCORT
from bot.texts import door as door_texts

async def test_trace(sim: BotApiSimulator, app, clock: FakeClock) -> None:
    services: Services = app.bot_data
    stmts = []
    await services.storage.connection.set_trace_callback(stmts.append)
    await register(sim)
    await approve(sim)
    link = badge_link(sim)
    await scan(sim, link)
    await sim.user(ESCORT).tap(door_texts.BTN_ENTER)
    await sim.user(ESCORT).wait_for("MASUK tercatat")
    await scan(sim, link)
    await sim.user(ESCORT).tap(door_texts.BTN_EXIT_OK)
    await sim.user(ESCORT).wait_for("KELUAR tercatat")
    await services.delivery.wait_idle()
    await sim.settle()
    norm = Counter(re.sub(r"\s+", " ", s)[:110] for s in stmts)
    print("\nTOTAL", len(stmts))
    for k, v in norm.most_common(60):
        print(f"{v:4d} {k}")
