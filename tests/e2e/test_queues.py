"""Queues end to end: real Asterisk 22, sipp callers, agents answered by the sipp carrier
(see queue_stack.py): tier limit, overflow, comfort messages, strategies, wrap-up, skills, night."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from orchestrator.services.callcentre import control
from tests.e2e.queue_stack import (
    FULL_EXIT,
    NIGHT,
    OVERFLOW,
    STRATEGIES,
    TENANT,
    Centre,
    agent_number,
    centre,
    number_of,
)

__all__ = ["centre"]  # the module fixture
pytestmark = pytest.mark.e2e


async def test_queues_loaded_from_the_plan(centre: Centre) -> None:
    out = await centre.ami.command("queue show cc.fixed")
    assert "linear" in out and "fix1" in out and "fix3" in out
    out = await centre.ami.command("queue show cc.help.billing")
    assert "dan" in out and "eve" not in out  # only agents with the skill
    out = await centre.ami.command("queue show cc.tiny")
    assert "max 2" in out


async def _twelve_calls(centre: Centre, index: int) -> None:
    for _ in range(12):
        r = await centre.call(number_of(index), hold_s=1.0, connected=True)
        assert r.answered  # and the agent's leg has cleared (Centre.call waits for it)


async def test_distribution_strategies_twelve_calls_three_agents(centre: Centre) -> None:
    since = len(centre.events.events)
    await asyncio.gather(*(_twelve_calls(centre, g + 1) for g in range(len(STRATEGIES))))
    ringall = centre.offered("ringall", since)
    assert len(ringall) == 12
    assert all(sorted(c) == ["rin1", "rin2", "rin3"] for c in ringall)  # every agent on every call
    fixed = centre.offered("fixed", since)
    assert fixed == [["fix1"]] * 12  # the first agent is free each time: always first in order
    circular = [c[0] for c in centre.offered("circular", since)]
    assert len(circular) == 12
    assert circular[:3] == ["cir1", "cir2", "cir3"] or sorted(circular[:3]) == ["cir1", "cir2", "cir3"]
    assert circular == circular[:3] * 4  # round robin remembering the last
    uniform = centre.answered("uniform", since)
    assert len(uniform) == 12
    assert {a: uniform.count(a) for a in set(uniform)} == {"uni1": 4, "uni2": 4, "uni3": 4}


async def test_overflow_after_max_wait_with_periodic_messages(centre: Centre) -> None:
    # app_queue plays comfort messages only to callers waiting their turn, not while it rings an
    # agent for them: so the only agent is unavailable (paused with a reason) during this call.
    await control.set_agent_state(centre.ami, TENANT, "nora", "unavailable", "lunch")
    since = len(centre.events.events)
    centre.carrier.clear()
    try:
        # Asterisk answers before the queue: the caller stays 16 s, past the 12 s maximum wait.
        r = await centre.call(number_of(10), hold_s=16.0)
    finally:
        await control.set_agent_state(centre.ami, TENANT, "nora", "available")
    assert r.answered
    assert centre.carrier.invites() == [OVERFLOW]  # the unavailable agent was never rung
    events = centre.events.events[since:]
    statuses = [e.get("Status") for e in events if e.get("UserEvent") == "SvcCall" and e.get("Step") == "queued"]
    assert statuses == ["TIMEOUT"]
    left = [e for e in events if e.get("Event") == "QueueCallerLeave" and e.get("Queue") == "cc.slow"]
    assert left
    # app_queue stops the music for each comfort message (every 5 s) and starts it again after.
    channel = left[0]["Channel"]
    starts = [e for e in events if e.get("Event") == "MusicOnHoldStart" and e.get("Channel") == channel]
    assert starts and starts[0]["Class"] == "svc-cc-music"
    assert len(starts) >= 3, f"music started {len(starts)} times in 12 s: no periodic comfort messages"
    log = Path(centre.runtime.log_file).read_text(errors="replace")
    assert f"<{channel}> Playing 'beep" in log


async def test_queue_full_goes_to_full_exit(centre: Centre) -> None:
    since = len(centre.events.events)
    waiting = [asyncio.create_task(centre.call(number_of(11), hold_s=8.0)) for _ in range(2)]
    await centre.wait(since, lambda e: e.get("Event") == "QueueCallerJoin" and e.get("Queue") == "cc.tiny"
                      and e.get("Count") == "2")
    centre.carrier.clear()
    since = len(centre.events.events)
    r = await centre.call(number_of(11), hold_s=1.0)
    assert r.answered
    assert FULL_EXIT in centre.carrier.invites()
    steps = [e.get("Step") for e in centre.events.events[since:] if e.get("UserEvent") == "SvcCall"]
    assert "queue-full" in steps
    await asyncio.gather(*waiting)


async def test_wrapup_agent_skipped_then_offered_again(centre: Centre) -> None:
    since = len(centre.events.events)
    assert (await centre.call(number_of(20), hold_s=1.0, connected=True)).answered
    assert (await centre.call(number_of(20), hold_s=1.0, connected=True)).answered  # wendy is in wrap-up (6 s)
    await centre.until_wrapped_up("wrap", "wendy", 6)
    assert (await centre.call(number_of(20), hold_s=1.0, connected=True)).answered
    assert centre.answered("wrap", since) == ["wendy", "xavi", "wendy"]
    assert [c[0] for c in centre.offered("wrap", since)] == ["wendy", "xavi", "wendy"]


async def test_skill_call_reaches_billing_agent_while_other_idle(centre: Centre) -> None:
    since = len(centre.events.events)
    for _ in range(2):
        assert (await centre.call(number_of(30), hold_s=1.0, connected=True)).answered
    offered = [e["MemberName"] for e in centre.events.events[since:] if e.get("Event") == "AgentCalled"]
    assert offered == ["dan", "dan"]  # eve is idle and first in the queue's order, yet never rung
    states = {s.agent: s for s in await control.agent_states(centre.ami, TENANT)}
    assert states["eve"].state == "available"


async def test_night_service_switches_without_reload(centre: Centre) -> None:
    version = centre.files.current()
    centre.carrier.clear()
    assert (await centre.call(number_of(40), hold_s=1.0, connected=True)).answered
    assert centre.carrier.invites() == [agent_number(7, 1)]
    await control.set_night(centre.ami, TENANT, "queue", "nightq", "on")
    centre.carrier.clear()
    assert (await centre.call(number_of(40), hold_s=1.0)).answered
    assert centre.carrier.invites() == [NIGHT]
    await control.set_night(centre.ami, TENANT, "queue", "nightq", "auto")
    centre.carrier.clear()
    assert (await centre.call(number_of(40), hold_s=1.0, connected=True)).answered
    assert centre.carrier.invites() == [agent_number(7, 1)]
    assert centre.files.current() == version  # no new dialplan version, no reload


async def test_apply_during_a_waiting_call_keeps_the_caller_waiting(centre: Centre) -> None:
    from datetime import datetime

    from sqlmodel import Session

    from orchestrator.domain.plan import AMSTERDAM, parse_plan
    from orchestrator.services.apply import ApplyTarget, apply_plan
    from tests.e2e.queue_stack import cc_plan

    since = len(centre.events.events)
    call = asyncio.create_task(centre.call(number_of(11), hold_s=8.0))  # 'tiny': nobody answers
    join = await centre.wait(since, lambda e: e.get("Event") == "QueueCallerJoin" and e.get("Queue") == "cc.tiny")
    changed = cc_plan()
    changed["queues"]["tiny"]["ring_time"] = 20  # in queues.inc: the queues are reloaded
    target = ApplyTarget(centre.files, centre.runtime.sounds_dir, centre.runtime.asterisk_path, centre.ami)
    notes: list[str] = []
    with Session(centre.engine) as session:
        await apply_plan(parse_plan(changed), session, target, now=datetime.now(AMSTERDAM), progress=notes.append)
    assert any(n.startswith("queues reloaded") for n in notes), notes
    result = await call
    assert result.answered and result.duration_s >= 7.5  # the caller stayed until hanging up
    # sipp is done before Asterisk's last events reach us on a loaded machine: wait for them.
    await centre.wait(since, lambda e: e.get("Event") == "QueueCallerLeave" and e.get("Channel") == join["Channel"])
    leave = [e for e in centre.events.events[since:] if e.get("Event") in ("QueueCallerLeave", "QueueCallerAbandon")
             and e.get("Channel") == join["Channel"]]
    # Left by hanging up (Asterisk sends Abandon, then Leave), not by the reload.
    assert [e["Event"] for e in leave] == ["QueueCallerAbandon", "QueueCallerLeave"]
    with Session(centre.engine) as session:  # back to the module's plan for the other tests
        await apply_plan(parse_plan(cc_plan()), session, target, now=datetime.now(AMSTERDAM))


async def test_night_service_by_schedule_and_manual_day_override(centre: Centre) -> None:
    from datetime import timedelta

    sunday = (centre.day + timedelta(days=4)).replace(hour=3, minute=30)  # the day moment is a Wednesday
    try:
        await centre.set_clock(sunday)
        centre.carrier.clear()
        assert (await centre.call(number_of(40), hold_s=1.0)).answered
        assert centre.carrier.invites() == [NIGHT]  # inside the weekly night span
        await control.set_night(centre.ami, TENANT, "queue", "nightq", "off")  # day service by hand
        centre.carrier.clear()
        assert (await centre.call(number_of(40), hold_s=1.0, connected=True)).answered
        assert centre.carrier.invites() == [agent_number(7, 1)]
    finally:
        await control.set_night(centre.ami, TENANT, "queue", "nightq", "auto")
        await centre.set_clock()  # back to the module's day moment
