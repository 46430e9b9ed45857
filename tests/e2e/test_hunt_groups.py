"""Hunt groups end to end (no queue, nobody waits): circular remembers the last agent, uniform
spreads calls, fixed order falls through to the no-answer exit, night service by hand."""

from __future__ import annotations

import pytest

from orchestrator.services.callcentre import control
from tests.e2e.queue_stack import NEVER_ANSWERS, NIGHT, OVERFLOW, TENANT, Centre, agent_number, centre, number_of

__all__ = ["centre"]
pytestmark = pytest.mark.e2e
H1, H2, H3 = (agent_number(9, k) for k in range(1, 4))


async def rang(c: Centre, number: str, calls: int) -> list[str]:
    out = []
    for _ in range(calls):
        c.carrier.clear()
        assert (await c.call(number, hold_s=1.0)).answered
        out += c.carrier.invites()  # Centre.call returned once every leg of the call had hung up
    return out


async def test_circular_remembers_the_last_agent(centre: Centre) -> None:
    first = await rang(centre, number_of(60), 4)
    assert first == [H1, H2, H3, H1]
    assert await rang(centre, number_of(60), 2) == [H2, H3]  # goes on from where it was


async def test_uniform_spreads_calls_evenly(centre: Centre) -> None:
    assert sorted(await rang(centre, number_of(61), 3)) == [H1, H2, H3]
    assert len(set(await rang(centre, number_of(61), 3))) == 3


async def test_fixed_order_then_no_answer_exit_and_night_service(centre: Centre) -> None:
    assert await rang(centre, number_of(62), 1) == [NEVER_ANSWERS, OVERFLOW]
    await control.set_night(centre.ami, TENANT, "hunt", "hfix", "on")
    try:
        assert await rang(centre, number_of(62), 1) == [NIGHT]
    finally:
        await control.set_night(centre.ami, TENANT, "hunt", "hfix", "auto")
