"""Queues end to end: real Asterisk 22, sipp callers, and agents that are phone numbers answered
by the sipp carrier (last digit 1 answers at once, 3 rings for ever). Who was offered a call is
read from app_queue's AgentCalled events (MemberName = the agent)."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session

from orchestrator.apply import ApplyTarget, apply_plan
from orchestrator.asterisk.ami import Ami
from orchestrator.asterisk.dialplan_files import DialplanFiles
from orchestrator.callcentre import control
from orchestrator.domain.plan import AMSTERDAM, parse_plan
from orchestrator.store import repository
from tests.e2e.events import EventLog
from tests.harness.sipp import place_call

pytestmark = pytest.mark.e2e

TENANT = "cc"
STRATEGIES = ("ringall", "fixed", "circular", "uniform")
FULL_EXIT, OVERFLOW, NIGHT = "+31205550021", "+31205550011", "+31205550031"
NEVER_ANSWERS = "+31201119993"


def agent_number(group: int, k: int) -> str:
    return f"+3120111{group}{k}01"  # ends in 1: the carrier answers at once


def number_of(i: int) -> str:
    return f"080000002{i:02d}"


def cc_plan() -> dict[str, Any]:
    agents: dict[str, Any] = {}
    queues: dict[str, Any] = {}
    numbers: list[dict[str, Any]] = []

    def route(i: int, target: str) -> None:
        numbers.append({"number": number_of(i), "routings": {"main": [{"number": target}]}, "active": "main"})

    for g, strategy in enumerate(STRATEGIES):
        names = [f"{strategy[:3]}{k}" for k in range(1, 4)]
        for k, name in enumerate(names, start=1):
            agents[name] = {"number": agent_number(g, k)}
        queues[strategy] = {"strategy": strategy, "agents": names, "ring_time": 10, "max_wait": 30}
        route(g + 1, f"queue:{strategy}")
    agents["nora"] = {"number": NEVER_ANSWERS}
    # Music on hold from the plan (a playlist class), interrupted every 5 s by the comfort message.
    queues["slow"] = {"agents": ["nora"], "max_wait": 12, "comfort": "comfort", "comfort_every": 5, "music": "music",
                      "timeout": OVERFLOW, "ring_time": 5}
    route(10, "queue:slow")
    queues["tiny"] = {"agents": ["nora"], "max_waiting": 2, "max_wait": 60, "full": FULL_EXIT}
    route(11, "queue:tiny")
    agents["wendy"] = {"number": agent_number(5, 1), "wrapup": 6}
    agents["xavi"] = {"number": agent_number(5, 2)}
    queues["wrap"] = {"strategy": "fixed", "agents": ["wendy", "xavi"], "ring_time": 10}
    route(20, "queue:wrap")
    agents["eve"] = {"number": agent_number(6, 1)}
    agents["dan"] = {"number": agent_number(6, 2), "skills": {"billing": 5}}
    queues["help"] = {"strategy": "fixed", "agents": ["eve", "dan"], "ring_time": 10}
    route(30, "queue:help/billing")
    agents["nina"] = {"number": agent_number(7, 1)}
    queues["nightq"] = {"tier": "premium", "agents": ["nina"], "ring_time": 10, "night": {"to": NIGHT}}
    route(40, "queue:nightq")
    return {"tenant": TENANT, "announcements": {"comfort": {"sound": "beep"},
                                                    "music": {"sound": "queue-thereare"}},
            "agents": agents, "queues": queues, "numbers": numbers}


class Centre:
    def __init__(self, runtime: Any, carrier: Any, ami: Ami, events: EventLog, workdir: Path) -> None:
        self.runtime, self.carrier, self.ami, self.events, self.workdir = runtime, carrier, ami, events, workdir
        self.files = DialplanFiles(runtime.etc_dir)

    async def call(self, to: str, hold_s: float = 2.0, caller: str = "0201234567") -> Any:
        return await asyncio.to_thread(place_call, self.runtime.settings.sip_port, to, caller,
                                       workdir=self.workdir, hold_s=hold_s, timeout=90)

    def offered(self, queue: str, since: int = 0) -> list[list[str]]:
        """Per caller (in order of the first offer): the agents app_queue rang, in order."""
        by_call: dict[str, list[str]] = defaultdict(list)
        for e in self.events.events[since:]:
            if e.get("Event") == "AgentCalled" and e.get("Queue") == f"{TENANT}.{queue}":
                by_call[e["Uniqueid"]].append(e["MemberName"])
        return list(by_call.values())

    def answered(self, queue: str, since: int = 0) -> list[str]:
        return [e["MemberName"] for e in self.events.events[since:]
                if e.get("Event") == "AgentConnect" and e.get("Queue", "").startswith(f"{TENANT}.{queue}")]


@pytest.fixture(scope="module")
async def centre(runtime: Any, carrier: Any, tmp_path_factory: pytest.TempPathFactory):
    tmp = tmp_path_factory.mktemp("queues")
    engine = repository.make_engine(f"sqlite:///{tmp / 'cc.db'}")
    s = runtime.settings
    log = EventLog()
    ami = Ami(s.bind_host, s.ami_port, s.ami_user, s.ami_secret, events=True)
    ami.on_event("*", log.record)
    await ami.connect()
    target = ApplyTarget(DialplanFiles(runtime.etc_dir), runtime.sounds_dir, runtime.asterisk_path, ami)
    with Session(engine) as session:
        report = await apply_plan(parse_plan(cc_plan()), session, target, now=datetime.now(AMSTERDAM))
    assert report.how in ("full reload", "incremental")
    yield Centre(runtime, carrier, ami, log, tmp)
    ami.close()


async def test_queues_loaded_from_the_plan(centre: Centre) -> None:
    out = await centre.ami.command("queue show cc.fixed")
    assert "linear" in out and "fix1" in out and "fix3" in out
    out = await centre.ami.command("queue show cc.help.billing")
    assert "dan" in out and "eve" not in out  # only agents with the skill
    out = await centre.ami.command("queue show cc.tiny")
    assert "max 2" in out


async def _twelve_calls(centre: Centre, index: int) -> None:
    for _ in range(12):
        r = await centre.call(number_of(index), hold_s=1.5)
        assert r.answered
        await asyncio.sleep(0.6)  # let the agent's leg clear before the next call


async def test_distribution_strategies_twelve_calls_three_agents(centre: Centre) -> None:
    since = len(centre.events.events)
    await asyncio.gather(*(_twelve_calls(centre, g + 1) for g in range(len(STRATEGIES))))
    await asyncio.sleep(0.5)
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
    waiting = [asyncio.create_task(centre.call(number_of(11), hold_s=8.0)) for _ in range(2)]
    await centre.events.wait_for(lambda e: e.get("Event") == "QueueCallerJoin" and e.get("Queue") == "cc.tiny"
                                 and e.get("Count") == "2", timeout=15)
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
    assert (await centre.call(number_of(20), hold_s=1.0)).answered
    await asyncio.sleep(0.6)
    assert (await centre.call(number_of(20), hold_s=1.0)).answered  # wendy is in wrap-up (6 s)
    await asyncio.sleep(6.5)
    assert (await centre.call(number_of(20), hold_s=1.0)).answered
    assert centre.answered("wrap", since) == ["wendy", "xavi", "wendy"]
    assert [c[0] for c in centre.offered("wrap", since)] == ["wendy", "xavi", "wendy"]


async def test_skill_call_reaches_billing_agent_while_other_idle(centre: Centre) -> None:
    since = len(centre.events.events)
    for _ in range(2):
        assert (await centre.call(number_of(30), hold_s=1.0)).answered
        await asyncio.sleep(0.6)
    offered = [e["MemberName"] for e in centre.events.events[since:] if e.get("Event") == "AgentCalled"]
    assert offered == ["dan", "dan"]  # eve is idle and first in the queue's order, yet never rung
    states = {s.agent: s for s in await control.agent_states(centre.ami, TENANT)}
    assert states["eve"].state == "available"


async def test_night_service_switches_without_reload(centre: Centre) -> None:
    version = centre.files.current()
    centre.carrier.clear()
    assert (await centre.call(number_of(40), hold_s=1.0)).answered
    assert centre.carrier.invites() == [agent_number(7, 1)]
    await control.set_night(centre.ami, TENANT, "queue", "nightq", "on")
    centre.carrier.clear()
    assert (await centre.call(number_of(40), hold_s=1.0)).answered
    assert centre.carrier.invites() == [NIGHT]
    await control.set_night(centre.ami, TENANT, "queue", "nightq", "auto")
    centre.carrier.clear()
    assert (await centre.call(number_of(40), hold_s=1.0)).answered
    assert centre.carrier.invites() == [agent_number(7, 1)]
    assert centre.files.current() == version  # no new dialplan version, no reload
