"""The bench the call-flow e2e tests share: a tenant's plan applied to the test Asterisk, the
simulator's view of it, and sipp callers pressing real RFC 4733 keys.

Every call ends by itself, however slow the machine: a flow that ends hangs the caller up
(Asterisk's BYE), and an answered call (the carrier never hangs up) is hung up by the bench
``hold`` s after its Dial was answered. The caller itself only gives up after PATIENCE s, far
beyond any sampled path, so a machine that stalls Asterisk for half a minute (seen at load 40 on
2 cores: a 4 s menu timeout fired after 34 s) makes a call slow, never shorter than its flow.
"""

from __future__ import annotations

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlmodel import Session

from orchestrator.domain.compile import compile_plan, holiday_dates
from orchestrator.domain.flow_compile import compile_flows
from orchestrator.domain.flow_simulate import parse_keys, simulate_number
from orchestrator.domain.ir import NumberFlow, Split
from orchestrator.domain.plan import AMSTERDAM, TenantPlan
from orchestrator.domain.simulate import CallScenario, DestinationBehaviour
from orchestrator.services.apply import apply_document
from orchestrator.store import engine as store_engine
from orchestrator.store import flows as flow_store
from orchestrator.store import plans as plan_store
from tests.e2e.events import EventLog, connect
from tests.harness.keys import call_with_keys
from tests.harness.sipp import CallResult

BEHAVIOUR = {"1": DestinationBehaviour.ANSWER, "2": DestinationBehaviour.BUSY,
             "3": DestinationBehaviour.NOANSWER, "4": DestinationBehaviour.UNAVAILABLE}
PARALLEL = 8
# The menus' and inputs' wait for a key in these tests: long next to the replayed keys' spacing
# (0.44 s), so a machine that stalls sipp for a few seconds cannot split a digit entry (see
# tests/harness/keys.py). The timeouts are real: silence still times out, after 4 s.
TIMEOUT = 4
PATIENCE = 300.0  # s a caller waits after its keys for Asterisk to end the call (a safety net only)
BlockPath = list[tuple[str, str]]


def behaviour(flows: dict[str, Any]) -> dict[str, DestinationBehaviour]:
    out = {}
    for f in flows.values():
        for node in f.nodes.values():
            for number, _ring in getattr(node, "destinations", ()):
                out[number] = BEHAVIOUR[number[-1]]
    return out


def sim_path(predicted: dict[str, Any]) -> BlockPath:
    # An answered dial ends the call inside Dial(): no event follows it in the dialplan.
    return [(b["block"], b["event"]) for b in predicted.get("blocks", []) if b["event"] != "answered"]


class FlowBench:
    """A tenant's plan applied to the test Asterisk, its compiled numbers and flows, and calls."""

    def __init__(self, runtime: Any, tmp_path: Path, ami: Any, events: EventLog, session: Session,
                 plan: TenantPlan) -> None:
        self.runtime, self.tmp_path, self.ami, self.events, self.session = runtime, tmp_path, ami, events, session
        self.last_calls: list[CallResult] = []  # sipp's view of the calls of the last calls()
        self._placed: dict[str, CallResult] = {}  # caller -> its call, for trace()
        self._answered: dict[str, float] = {}  # caller channel -> when to hang it up (monotonic)
        self.set_plan(plan)

    def set_plan(self, plan: TenantPlan) -> None:
        self.plan = plan
        self.holidays = holiday_dates(datetime.now(AMSTERDAM).date())
        self.numbers: dict[str, NumberFlow] = {n.number.national: n for n in compile_plan(plan, {}, self.holidays)}
        self.flows = {f.name: f for f in compile_flows(plan.tenant, plan.flows, {}, self.holidays)}

    def predict(self, number: str, caller: str, keys: str, at: datetime,
                split_state: dict[str, int] | None = None) -> dict[str, Any]:
        lists = {name: frozenset(flow_store.list_entries(self.session, self.plan.tenant, name))
                 for name in self.plan.lists}
        scenario = CallScenario(caller, at, behaviour=behaviour(self.flows), split_state=split_state or {})
        return simulate_number(self.numbers[number], self.flows, scenario, parse_keys(keys), lists, self.holidays)

    async def calls(self, cases: list[tuple[str, str, str]], offset: int = 0, parallel: int = PARALLEL,
                    hold: float | None = 1.0) -> list[tuple[dict[str, Any], BlockPath, list[str]]]:
        """Place (number, caller, keys) calls, ``parallel`` at a time (callers distinct); per call:
        the simulator's prediction, the path Asterisk took and the numbers it dialled. Answered
        calls are hung up ``hold`` s after the answer (None: when ``release_answered()`` says)."""
        assert len({c[1] for c in cases}) == len(cases)
        at = datetime.fromtimestamp(time.time() + offset, AMSTERDAM)  # Asterisk's clock, not wall arithmetic
        predicted = [self.predict(n, c, k, at) for n, c, k in cases]
        self.events.clear()
        mark = self.events.mark()
        self._answered.clear()
        loop = asyncio.get_running_loop()
        port = self.runtime.settings.sip_port
        done = asyncio.Event()
        watcher = asyncio.create_task(self._hang_up_answered(hold, done))
        try:
            with ThreadPoolExecutor(parallel) as pool:
                self.last_calls = await asyncio.gather(*[loop.run_in_executor(pool, lambda c=c: call_with_keys(
                    port, c[0], c[1], c[2], workdir=self.tmp_path, timeout=TIMEOUT, wait=PATIENCE)) for c in cases])
        finally:
            done.set()
            await watcher
        await self.events.settled(mark, calls=len(cases))  # every flow call is answered: a channel each
        self._placed = {c[1]: r for c, r in zip(cases, self.last_calls, strict=True)}
        out = []
        for (_n, caller, _k), p in zip(cases, predicted, strict=True):
            mine = [e for e in self.events.events
                    if e.get("Event") == "UserEvent" and e.get("CallerIDNum") == caller]
            path = [(e["Block"], e["Exit"]) for e in mine if e.get("UserEvent") == "SvcFlow"]
            dialled = [e["Destination"] for e in mine if e.get("UserEvent") == "SvcCall" and e.get("Step") == "dial"]
            out.append((p, path, dialled))
        return out

    def release_answered(self) -> None:
        """Hang up the answered calls now (for calls placed with ``hold=None``)."""
        self._answered = dict.fromkeys(self._answered, 0.0)

    async def _hang_up_answered(self, hold: float | None, done: asyncio.Event) -> None:
        seen = 0
        while not done.is_set():
            events = self.events.events
            for e in events[seen:]:
                if e.get("Event") == "DialEnd" and e.get("DialStatus") == "ANSWER":
                    self._answered.setdefault(str(e["Channel"]), time.monotonic() + (hold if hold is not None
                                                                                    else float("inf")))
            seen = len(events)
            now = time.monotonic()
            for channel, when in list(self._answered.items()):
                if when <= now:
                    self._answered[channel] = float("inf")  # once
                    await self.ami.command(f"channel request hangup {channel}")
            await asyncio.sleep(0.1)

    def trace(self, caller: str) -> str:
        """What Asterisk saw of a call, for a mismatch: each key received, each block event and
        each hangup (with its cause), in seconds since the first of them (a late key shows as a
        gap here), and what sipp saw of it."""
        mine = [e for e in self.events.events if e.get("CallerIDNum") == caller and "Timestamp" in e and (
            (e.get("Event") == "DTMFEnd" and e.get("Direction") == "Received") or e.get("UserEvent") == "SvcFlow"
            or e.get("Event") == "Hangup")]
        if not mine:
            return "no events"
        t0 = float(mine[0]["Timestamp"])

        def one(e: dict[str, Any]) -> str:
            if e["Event"] == "DTMFEnd":
                return str(e["Digit"])
            if e["Event"] == "Hangup":
                return f"hangup[{e.get('Channel')} cause {e.get('Cause')} {e.get('Cause-txt')}]"
            return f"{e['Block']}/{e['Exit']}"

        seen = " ".join(f"{float(e['Timestamp']) - t0:.2f}:{one(e)}" for e in mine)
        return f"{seen}; sipp {self._placed.get(caller)}"


def forced_splits(b: FlowBench, path: list[tuple[str, str]]) -> dict[str, int]:
    """Split tickets that make the simulator pick what Asterisk picked at each split's first pass
    (calls run in parallel, so which call got which ticket depends on their order)."""
    state: dict[str, int] = {}
    for f in b.flows.values():
        for node_id, events in (f.split_events or {}).items():
            node = f.nodes[node_id]
            assert isinstance(node, Split)
            taken = [e for blk, e in path if blk == node_id[2:] and e in events]
            if taken:
                state[node.state_family] = node.ticket_for(events.index(taken[0]))
    return state


async def bench(runtime: Any, tmp_path: Path, document: dict[str, Any]) -> tuple[FlowBench, Any]:
    ami, events, target = await connect(runtime)
    engine = store_engine.make_engine(f"sqlite:///{tmp_path / 'flows.db'}")
    session = Session(engine)
    await apply_document(document, session, target, now=datetime.now(AMSTERDAM))
    return FlowBench(runtime, tmp_path, ami, events, session, plan_store.load_plan(session, document["tenant"])), target
