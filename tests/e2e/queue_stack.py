"""The call centre used by the queue end-to-end tests: one plan, one Asterisk, AMI events kept.
Agents are phone numbers answered by the sipp carrier (last digit 1 answers at once, 3 rings for
ever). Who was offered a call is read from app_queue's AgentCalled events (MemberName = agent)."""

from __future__ import annotations

import asyncio
import re
import time
from collections import defaultdict
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session

from orchestrator.asterisk.ami import Ami
from orchestrator.asterisk.dialplan_files import DialplanFiles
from orchestrator.domain.plan import AMSTERDAM, parse_plan
from orchestrator.services.apply import ApplyTarget, apply_plan
from orchestrator.store import engine as store_engine
from tests.e2e.events import EventLog, first_channels, held_call
from tests.harness.clock import set_clock_offset
from tests.harness.sipp import place_call

TENANT = "cc"
STRATEGIES = ("ringall", "fixed", "circular", "uniform")
FULL_EXIT, OVERFLOW, NIGHT = "+31205550021", "+31205550011", "+31205550031"
NEVER_ANSWERS = "+31201119993"


def agent_number(group: int, k: int) -> str:
    return f"+3120111{group}{k}01"  # ends in 1: the carrier answers at once


def number_of(i: int) -> str:
    return f"080000002{i:02d}"


def day_moment(now: datetime) -> datetime:
    """The next Wednesday 10:00 (Amsterdam) after ``now``: outside every night span of ``cc_plan``
    (nightq's is Sunday 03:00-04:00). Asterisk's clock is pinned there while a module's calls run,
    so that no call depends on when the suite runs: on the real clock, a CI run on a Sunday night
    sent the day-service calls to nightq's night destination."""
    ahead = (2 - now.weekday()) % 7 or 7
    return (now + timedelta(days=ahead)).replace(hour=10, minute=0, second=0, microsecond=0)


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
    queues["nightq"] = {"tier": "premium", "agents": ["nina"], "ring_time": 10,
                        "night": {"to": NIGHT, "week": {"sun": [{"start": "03:00", "end": "04:00"}]}}}
    route(40, "queue:nightq")
    agents["liz"] = {"number": agent_number(8, 1)}
    agents["max"] = {"number": agent_number(8, 2)}
    queues["live"] = {"strategy": "fixed", "agents": ["liz", "max"], "ring_time": 10}
    route(50, "queue:live")
    hunts: dict[str, Any] = {}
    for k in range(1, 4):
        agents[f"hc{k}"] = {"number": agent_number(9, k)}
    hunts["hcirc"] = {"strategy": "circular", "agents": ["hc1", "hc2", "hc3"]}
    route(60, "hunt:hcirc")
    hunts["huni"] = {"strategy": "uniform", "agents": ["hc1", "hc2", "hc3"]}
    route(61, "hunt:huni")
    hunts["hfix"] = {"strategy": "fixed", "agents": ["nora"], "ring_time": 5, "no_answer": OVERFLOW,
                     "night": {"to": NIGHT}}
    route(62, "hunt:hfix")
    return {"tenant": TENANT, "hunt_groups": hunts, "announcements": {"comfort": {"sound": "beep"},
                                                    "music": {"sound": "queue-thereare"}},
            "agents": agents, "queues": queues, "numbers": numbers}


class Centre:
    def __init__(self, runtime: Any, carrier: Any, ami: Ami, events: EventLog, workdir: Path) -> None:
        self.runtime, self.carrier, self.ami, self.events, self.workdir = runtime, carrier, ami, events, workdir
        self.files = DialplanFiles(runtime.etc_dir)
        self.engine: Any = None
        self.day = day_moment(datetime.now(AMSTERDAM))

    async def set_clock(self, moment: datetime | None = None) -> None:
        """Move Asterisk's clock to ``moment`` (default: the module's day moment, ``day_moment``);
        returns once Asterisk's ${EPOCH} shows it. Mind: ``control.agent_states`` compares
        app_queue's last-call times (Asterisk's clock) with this process's clock, so an agent with
        a wrap-up time shows "wrap-up" for as long as Asterisk's clock is ahead."""
        offset = int((moment or self.day).timestamp() - time.time())
        await asyncio.to_thread(set_clock_offset, self.runtime, offset)

    async def call(self, to: str, hold_s: float = 2.0, caller: str = "0201234567", *,
                   connected: bool = False, release_on: Any = None, refused: bool = False) -> Any:
        """One call; returns once all its channels (the agent's leg too) have hung up, so the agent
        is free again for the next call (calls to other numbers may still be up). ``connected``:
        the caller stays until an agent answered (AgentConnect; or until an event matching
        ``release_on``), then ``hold_s``; else it hangs up
        ``hold_s`` after Asterisk answered it (a queue answers before it rings anyone). ``refused``:
        Asterisk refuses the call before it creates a channel (404: not a number the carrier routes)."""
        mark = self.events.mark()
        place = partial(place_call, self.runtime.settings.sip_port, to, caller, workdir=self.workdir,
                        hold_s=hold_s, timeout=90)
        if connected:
            result = await held_call(self.events, lambda hold: place(hold=hold), to, release_on)
        else:
            result = await asyncio.to_thread(place)
        await self.events.settled(mark, to, calls=first_channels(result, refused=refused))
        return result

    async def wait(self, since: int, predicate: Any, timeout: float = 15.0) -> dict[str, Any]:
        """The first event after index ``since`` matching ``predicate`` (waits for it)."""
        return await self.events.wait_for(predicate, timeout, since=since)

    async def until_wrapped_up(self, queue: str, agent: str, wrapup_s: int, timeout: float = 15.0) -> None:
        """Wait until app_queue's own clock says ``agent``'s last call ended more than ``wrapup_s``
        ago ("last was N secs ago" in ``queue show``): from then on it offers the agent calls again."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            out = await self.ami.command(f"queue show {TENANT}.{queue}")
            line = next((ln for ln in out.splitlines() if ln.strip().startswith(agent)), "")
            m = re.search(r"last was (\d+) secs? ago", line)
            if m and int(m.group(1)) > wrapup_s:
                return
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"{agent} still in wrap-up after {timeout} s: {line!r}")
            await asyncio.sleep(0.2)

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
    engine = store_engine.make_engine(f"sqlite:///{tmp / 'cc.db'}")
    s = runtime.settings
    log = EventLog()
    ami = Ami.from_settings(s, events=True)
    ami.on_event("*", log.record)
    c = Centre(runtime, carrier, ami, log, tmp)
    c.engine = engine
    # Before the AMI link logs in: a leap of the clock can cut a connection being accepted (clock.py).
    await c.set_clock()
    await ami.connect()
    target = ApplyTarget(DialplanFiles(runtime.etc_dir), runtime.sounds_dir, runtime.asterisk_path, ami)
    with Session(engine) as session:
        report = await apply_plan(parse_plan(cc_plan()), session, target, now=datetime.now(AMSTERDAM))
    assert report.how in ("full reload", "incremental", "unchanged")
    yield c
    ami.close()
    await asyncio.to_thread(set_clock_offset, runtime, 0)  # the other modules start on the real clock


