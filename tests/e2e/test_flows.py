"""Premium call flows on the real Asterisk 22 (issue 15): sipp callers press real RFC 4733 keys;
what Asterisk did (the flow's SvcFlow user events: block and exit, in order, and the numbers
dialled) must equal the simulator's walk of the same IR."""

from __future__ import annotations

import asyncio
import random
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session

from orchestrator.domain.compile import compile_plan, holiday_dates
from orchestrator.domain.flow_compile import compile_flows
from orchestrator.domain.flow_simulate import parse_keys, simulate_number
from orchestrator.domain.ir import NumberFlow
from orchestrator.domain.plan import AMSTERDAM, TenantPlan
from orchestrator.domain.simulate import CallScenario, DestinationBehaviour
from orchestrator.services.apply import apply_document
from orchestrator.services.flow_lists import change_list
from orchestrator.store import repository
from tests.e2e.events import EventLog, connect
from tests.flow_plans import flow_plan, mixed_plan
from tests.harness.keys import call_with_keys
from tests.harness.sipp import CallResult

pytestmark = pytest.mark.e2e
BEHAVIOUR = {"1": DestinationBehaviour.ANSWER, "2": DestinationBehaviour.BUSY,
             "3": DestinationBehaviour.NOANSWER, "4": DestinationBehaviour.UNAVAILABLE}
PARALLEL = 8
# The menus' and inputs' wait for a key in these tests: long next to the replayed keys' spacing
# (0.44 s), so a machine that stalls sipp for a few seconds cannot split a digit entry (see
# tests/harness/keys.py). The timeouts are real: silence still times out, after 4 s.
TIMEOUT = 4
DIFF_PARALLEL = 12  # the differential's calls at a time (most of a call is waiting)
LONGEST_TAIL = 6 * (TIMEOUT + 1) + 12  # after the last key: 3 input then 3 menu waits, two dials, a goodbye


def behaviour(flows: dict[str, Any]) -> dict[str, DestinationBehaviour]:
    out = {}
    for f in flows.values():
        for node in f.nodes.values():
            for number, _ring in getattr(node, "destinations", ()):
                out[number] = BEHAVIOUR[number[-1]]
    return out


class FlowBench:
    """A tenant's plan applied to the test Asterisk, its compiled numbers and flows, and calls."""

    def __init__(self, runtime: Any, tmp_path: Path, ami: Any, events: EventLog, session: Session,
                 plan: TenantPlan) -> None:
        self.runtime, self.tmp_path, self.ami, self.events, self.session = runtime, tmp_path, ami, events, session
        self.last_calls: list[CallResult] = []  # sipp's view of the calls of the last calls()
        self.set_plan(plan)

    def set_plan(self, plan: TenantPlan) -> None:
        self.plan = plan
        self.holidays = holiday_dates(datetime.now(AMSTERDAM).date())
        self.numbers: dict[str, NumberFlow] = {n.number.national: n for n in compile_plan(plan, {}, self.holidays)}
        self.flows = {f.name: f for f in compile_flows(plan.tenant, plan.flows, {}, self.holidays)}

    def predict(self, number: str, caller: str, keys: str, at: datetime,
                split_state: dict[str, tuple[int, ...]] | None = None) -> dict[str, Any]:
        lists = {name: frozenset(repository.list_entries(self.session, self.plan.tenant, name))
                 for name in self.plan.lists}
        scenario = CallScenario(caller, at, behaviour=behaviour(self.flows), split_state=split_state or {})
        return simulate_number(self.numbers[number], self.flows, scenario, parse_keys(keys), lists, self.holidays)

    async def calls(self, cases: list[tuple[str, str, str]], offset: int = 0, wait: float = LONGEST_TAIL,
                    parallel: int = PARALLEL) -> list[tuple[dict[str, Any], list[tuple[str, str]], list[str]]]:
        """Place (number, caller, keys) calls, ``parallel`` at a time (callers distinct); per call:
        the simulator's prediction, the path Asterisk took and the numbers it dialled."""
        assert len({c[1] for c in cases}) == len(cases)
        at = datetime.now(AMSTERDAM) + timedelta(seconds=offset)
        predicted = [self.predict(n, c, k, at) for n, c, k in cases]
        self.events.clear()
        loop = asyncio.get_running_loop()
        port = self.runtime.settings.sip_port
        with ThreadPoolExecutor(parallel) as pool:
            self.last_calls = await asyncio.gather(*[loop.run_in_executor(pool, lambda c=c: call_with_keys(
                port, c[0], c[1], c[2], workdir=self.tmp_path, timeout=TIMEOUT, wait=wait)) for c in cases])
        await self.events.settled()
        out = []
        for (_n, caller, _k), p in zip(cases, predicted, strict=True):
            mine = [e for e in self.events.events
                    if e.get("Event") == "UserEvent" and e.get("CallerIDNum") == caller]
            path = [(e["Block"], e["Exit"]) for e in mine if e.get("UserEvent") == "SvcFlow"]
            dialled = [e["Destination"] for e in mine if e.get("UserEvent") == "SvcCall" and e.get("Step") == "dial"]
            out.append((p, path, dialled))
        return out


    def trace(self, caller: str) -> str:
        """What Asterisk saw of a call, for a mismatch: each key received and each block event,
        in seconds since the first of them (a late key shows as a gap here)."""
        mine = [e for e in self.events.events if e.get("CallerIDNum") == caller and "Timestamp" in e and (
            (e.get("Event") == "DTMFEnd" and e.get("Direction") == "Received") or e.get("UserEvent") == "SvcFlow")]
        if not mine:
            return "no events"
        t0 = float(mine[0]["Timestamp"])
        return " ".join(f"{float(e['Timestamp']) - t0:.2f}:" + (e["Digit"] if e["Event"] == "DTMFEnd"
                                                                 else f"{e['Block']}/{e['Exit']}") for e in mine)


def sim_path(predicted: dict[str, Any]) -> list[tuple[str, str]]:
    # An answered dial ends the call inside Dial(): no event follows it in the dialplan.
    return [(b["block"], b["event"]) for b in predicted.get("blocks", []) if b["event"] != "answered"]


async def bench(runtime: Any, tmp_path: Path, document: dict[str, Any]) -> tuple[FlowBench, Any]:
    ami, events, target = await connect(runtime)
    engine = repository.make_engine(f"sqlite:///{tmp_path / 'flows.db'}")
    session = Session(engine)
    await apply_document(document, session, target, now=datetime.now(AMSTERDAM))
    return FlowBench(runtime, tmp_path, ami, events, session, repository.load_plan(session, document["tenant"])), target


async def test_menus_inputs_and_lists_route_as_simulated(runtime: Any, carrier: Any, tmp_path: Path) -> None:
    b, _target = await bench(runtime, tmp_path, flow_plan("flowe2e", TIMEOUT))
    try:
        await change_list(b.session, b.ami, "flowe2e", "members", "123456782", add=True)
        n1, n2 = "08003000001", "08003000002"
        cases = [
            (n1, "0101110001", "1"),  # menu key routes to sales
            (n1, "0101110002", "9,9,9"),  # invalid three times -> failed -> goodbye
            (n1, "0101110003", ""),  # silence: three timeouts -> failed
            (n1, "0101110004", "2,1,*,*,1"),  # three levels deep, back twice, then sales
            (n2, "0101110005", "3,123456782"),  # valid 11-check, on the list -> billing (overflow)
            (n2, "0101110006", "3,123456783"),  # fails the 11-check
            (n1, "0101110007", "3,111222333"),  # passes the 11-check, not on the list (yet)
            (n1, "0101110008", "4,-,2,9"),  # invalid, timeout, then a nested menu; its 9 is invalid
        ]
        results = await b.calls(cases)
        for case, (p, path, dialled) in zip(cases, results, strict=True):
            assert path == sim_path(p), f"{case}: Asterisk {path}, simulator {sim_path(p)}; {b.trace(case[1])}"
            assert dialled == p["destinations"], f"{case}: dialled {dialled}, simulator {p['destinations']}"
        assert sim_path(results[1][0])[-4:] == [("main", "invalid"), ("main", "failed"), ("sorry", "next"),
                                                ("bye", "end")]
        assert ("deeper", "back") in results[3][1] and results[3][2] == ["+31205550011"]
        assert ("member", "valid") in results[4][1] and results[4][2] == ["+31205550023", "+31205550031"]
        assert ("member", "valid") not in results[6][1]

        # The list changes live (AstDB, no reload): the next call with the same digits is let in.
        await change_list(b.session, b.ami, "flowe2e", "members", "111222333", add=True)
        [(p, path, _d)] = await b.calls([(n1, "0101110009", "3,111222333")])
        assert ("member", "valid") in path and path == sim_path(p)
    finally:
        b.ami.close()
        b.session.close()


async def test_two_numbers_share_one_flow_context(runtime: Any, carrier: Any, tmp_path: Path) -> None:
    b, _target = await bench(runtime, tmp_path, flow_plan("flowshare", TIMEOUT))
    try:
        out = await b.ami.command("dialplan show fl-flowshare-support")
        assert "[ Context 'fl-flowshare-support'" in out
        flow_text = (runtime.etc_dir / "svc" / "fl-flowshare-support.conf").read_text()
        assert flow_text.count("[fl-flowshare-support]") == 1
        for digits in ("318003000001", "318003000002"):
            number = await b.ami.command(f"dialplan show svc-{digits}")
            assert "fl-flowshare-support,start,1" in number
            assert "Read(" not in number  # the menus live in the flow, not per number
    finally:
        b.ami.close()
        b.session.close()


KEY_TOKENS = ["1", "1", "2", "2", "3", "4", "9", "*", "#", "-",
              "123456782", "111222333", "123456783", "4539578763621486", "4539578763621487"]


def sample_case(rng: random.Random, serial: int, numbers: list[str]) -> tuple[str, str, str]:
    caller = rng.choice([f"020{serial:07d}", f"010{serial:07d}", f"030{serial:07d}", f"+4420{serial:08d}"])
    keys = ",".join(rng.choice(KEY_TOKENS) for _ in range(rng.randrange(0, 6)))
    return rng.choice(numbers), caller, keys


def forced_splits(b: FlowBench, path: list[tuple[str, str]]) -> dict[str, tuple[int, ...]]:
    """Split counters that make the simulator pick what Asterisk picked (calls run in parallel,
    so which call got which share depends on their order)."""
    state: dict[str, tuple[int, ...]] = {}
    for f in b.flows.values():
        for node_id, events in (f.split_events or {}).items():
            node = f.nodes[node_id]
            taken = [e for blk, e in path if blk == node_id[2:] and e in events]
            if taken:
                counters = [0] * len(events)
                counters[events.index(taken[0])] = 10**9
                state[node.state_family] = tuple(counters)  # type: ignore[union-attr]
    return state


async def test_differential_flows_simulator_matches_asterisk(runtime: Any, carrier: Any, tmp_path: Path) -> None:
    b, _target = await bench(runtime, tmp_path, mixed_plan("flowdiff", TIMEOUT))
    rng = random.Random(15)
    compared = 0
    try:
        await change_list(b.session, b.ami, "flowdiff", "members", "123456782", add=True)
        numbers = list(b.numbers)
        moments = [None, datetime(2030, 7, 1, 12, 0, tzinfo=AMSTERDAM)]
        serial = 0
        for moment, count in zip(moments, (176, 32), strict=True):
            offset = 0 if moment is None else int(moment.timestamp() - time.time())
            runtime.set_clock_offset(offset)  # returns once Asterisk's clock moved
            cases = []
            for _ in range(count):
                serial += 1
                cases.append(sample_case(rng, serial, numbers))
            # A pool keeps DIFF_PARALLEL calls going; each caller waits long enough after its keys
            # for any sampled path to end (answered calls are held that long too).
            results = await b.calls(cases, offset=offset, parallel=DIFF_PARALLEL)
            for case, (_p, path, dialled) in zip(cases, results, strict=True):
                at = datetime.now(AMSTERDAM) + timedelta(seconds=offset)
                p = b.predict(*case, at, split_state=forced_splits(b, path))
                assert path == sim_path(p), f"{case}: Asterisk {path}, simulator {sim_path(p)}; {b.trace(case[1])}"
                assert dialled == p["destinations"], f"{case}: dialled {dialled}, simulator {p['destinations']}"
                compared += 1
    finally:
        runtime.set_clock_offset(0)
        b.ami.close()
        b.session.close()
    assert compared >= 200
