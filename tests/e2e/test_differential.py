"""Differential test: for sampled (number, caller, time, answer behaviour) cases over a mixed
plan, the simulator's predicted destination sequence and outcome equal what the real Asterisk
did with the generated dialplan.

Time is moved with libfaketime (Asterisk's clock) across the plan's switch moments; answer
behaviour comes from the destinations (the carrier answers by last digit), and the routings in
force at each time mix answering, busy, silent and unreachable destinations.
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlmodel import Session
from tests.harness.sipp import place_call

from orchestrator.apply import ApplyTarget, apply_plan
from orchestrator.asterisk.dialplan_files import DialplanFiles
from orchestrator.domain.compile import compile_plan
from orchestrator.domain.plan import AMSTERDAM, parse_plan
from orchestrator.domain.simulate import CallScenario, DestinationBehaviour, simulate
from orchestrator.store import repository
from tests.e2e.events import connect_events

pytestmark = pytest.mark.e2e

BEHAVIOUR = {"1": DestinationBehaviour.ANSWER, "2": DestinationBehaviour.BUSY,
             "3": DestinationBehaviour.NOANSWER, "4": DestinationBehaviour.UNAVAILABLE}
OUTCOME_BY_CODE = {200: "answered", 403: "blocked", 486: "busy", 480: "unanswered"}
BLACKLISTED = ["+31207770001", "+31612340001"]
CASES_PER_TIME = 40
PARALLEL = 8


def dest(last: str, area: str = "20", n: int = 0) -> dict[str, Any]:
    """A destination whose behaviour at the test carrier is its last digit."""
    return {"number": f"+31{area}555{n:03d}{last}", "ring_time": 5}


def mixed_plan(t1: datetime, t2: datetime) -> dict[str, Any]:
    at1, at2 = t1.strftime("%Y-%m-%d %H:%M"), t2.strftime("%Y-%m-%d %H:%M")
    return {
        "tenant": "diff",
        "numbers": [
            {"number": "0800 100 0001", "active": "a",
             "routings": {"a": [dest("1", n=1)], "b": [dest("3", n=2), dest("1", n=3)],
                          "c": [dest("2", n=4), dest("4", n=5), dest("3", n=6)]},
             "switches": [{"at": at1, "routing": "b"}, {"at": at2, "routing": "c"}],
             "blocking": {"anonymous": True, "mobile": True, "blacklist": BLACKLISTED},
             "announcements": {"final": "default-final"}},
            {"number": "0800 100 0002", "active": "a",
             "routings": {"a": [dest("2", n=7), dest("1", n=8)], "b": [dest("4", n=9), dest("2", n=10)]},
             "switches": [{"at": at2, "routing": "b"}],
             "blocking": {"foreign": True}},
            {"number": "088 100 0003", "active": "a",
             "routings": {"a": [dest("3", n=11), dest("3", n=12), dest("1", n=13)], "b": [dest("1", "10", 14)]},
             "switches": [{"at": at1, "routing": "b"}, {"at": at2, "routing": "a"}],
             "blocking": {"anonymous": True, "foreign": True, "blacklist": BLACKLISTED[:1]}},
            {"number": "020 100 0004", "active": "a",
             "routings": {"a": [dest("4", n=15), dest("1", n=16)]},
             "blocking": {}},
        ],
    }


CALLER_KINDS = ["landline", "landline-national", "landline-00", "mobile", "foreign", "anonymous", "blacklisted"]


def sample_caller(rng: random.Random, kind: str, serial: int) -> tuple[str, bool]:
    if kind == "landline":
        return f"+3120{rng.randrange(2000000, 9999999)}", False
    if kind == "landline-national":
        return f"010{rng.randrange(2000000, 9999999)}", False
    if kind == "landline-00":
        return f"003150{rng.randrange(2000000, 9999999)}", False
    if kind == "mobile":
        return f"06{rng.choice('123458')}{rng.randrange(1000000, 9999999)}", False
    if kind == "foreign":
        return f"+44207946{serial:04d}", False
    if kind == "anonymous":
        return "anonymous", True
    return rng.choice(BLACKLISTED), False


@dataclass
class Case:
    number: str  # as dialled (national)
    e164: str
    caller: str
    anonymous: bool
    offset: int


async def test_simulator_matches_asterisk(runtime: Any, carrier: Any, tmp_path: Any) -> None:
    rng = random.Random(20261123)
    now = datetime.now(AMSTERDAM).replace(second=0, microsecond=0)
    t1, t2 = now + timedelta(hours=1), now + timedelta(hours=3)
    engine = repository.make_engine(f"sqlite:///{tmp_path / 'diff.db'}")
    s = runtime.settings
    ami, events = await connect_events(s.bind_host, s.ami_port, s.ami_user, s.ami_secret)
    try:
        target = ApplyTarget(DialplanFiles(runtime.etc_dir), runtime.sounds_dir, runtime.asterisk_path, ami)
        with Session(engine) as session:
            await apply_plan(parse_plan(mixed_plan(t1, t2)), session, target, now=datetime.now(AMSTERDAM))
            plan = repository.load_plan(session, "diff")
        flows = {f.number.e164: f for f in compile_plan(plan, {})}
        blacklists = {n.number: frozenset(n.blocking.blacklist) for n in plan.numbers}

        compared = 0
        offsets = [0, int((t1 - now).total_seconds()) + 300, int((t2 - now).total_seconds()) + 300]
        for offset in offsets:
            runtime.set_clock_offset(offset)
            await asyncio.sleep(1.5)
            at = datetime.now(AMSTERDAM) + timedelta(seconds=offset)
            cases: list[Case] = []
            keys: set[tuple[str, str]] = set()
            while len(cases) < CASES_PER_TIME:
                flow = rng.choice(list(flows.values()))
                caller, anon = sample_caller(rng, rng.choice(CALLER_KINDS), len(cases))
                key = (flow.number.e164, caller)
                if key in keys:
                    continue  # one call per (number, caller) per batch, so events can be told apart
                keys.add(key)
                cases.append(Case(flow.number.national, flow.number.e164, caller, anon, offset))

            events.clear()
            with ThreadPoolExecutor(PARALLEL) as pool:
                results = await asyncio.gather(*[
                    asyncio.get_running_loop().run_in_executor(
                        pool, lambda c=c: place_call(s.sip_port, c.number, c.caller, anonymous=c.anonymous,
                                                     hold_s=0.5, workdir=tmp_path))
                    for c in cases])
            await asyncio.sleep(1.0)

            dialled: dict[tuple[str, str], list[str]] = defaultdict(list)
            for e in events.svc():
                if e.get("Step") == "dial":
                    dialled[(e["Number"], e.get("CallerIDNum", ""))].append(e["Destination"])

            for case, result in zip(cases, results, strict=True):
                flow = flows[case.e164]
                scenario = CallScenario(
                    "" if case.anonymous else case.caller, at, withheld=case.anonymous,
                    blacklist=blacklists[case.e164],
                    behaviour={d: BEHAVIOUR[d[-1]] for d in _destinations(flow)})
                predicted = simulate(flow, scenario)
                observed = dialled.get((case.e164, case.caller), [])
                label = f"{case} -> predicted {predicted.destinations} {predicted.outcome}"
                assert observed == predicted.destinations, f"{label}, Asterisk dialled {observed}"
                assert OUTCOME_BY_CODE.get(result.final_code) == predicted.outcome, (
                    f"{label}, caller got {result.final_code}")
                compared += 1
            # The carrier saw exactly the INVITEs of the dials Asterisk reported, no others.
            expected_invites = Counter(d for c in cases for d in dialled.get((c.e164, c.caller), []))
            assert Counter(carrier.invites()) == expected_invites
            carrier.clear()
        assert compared >= 100
    finally:
        runtime.set_clock_offset(0)
        ami.close()


def _destinations(flow: Any) -> list[str]:
    return [n.destination for n in flow.nodes.values() if hasattr(n, "destination")]

