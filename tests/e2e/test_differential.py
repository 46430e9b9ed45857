"""Differential test: for sampled (number, caller, time, answer behaviour) cases over mixed plans,
the simulator's predicted destination sequence and outcome equal what the real Asterisk did with
the generated dialplan. Callers include hostile forms of their number (+0031…, ++31…, +31(0)…) in
From or P-Asserted-Identity, numbers in the display name only, Privacy headers and callers without
a usable number (issue 14), so both sides run the one caller-ID normaliser table.

Time is moved with libfaketime (Asterisk's clock) across switch moments, roster ranges and
holidays; answer behaviour comes from the destinations (the carrier answers by last digit).
Calls run in parallel batches. A split picks under a lock, one call after the other, so the
multiset of picks in a batch is fixed by the counters at its start, whatever the order: each call
is checked against the simulator for the share it got, and the picks against the simulator's.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlmodel import Session

from orchestrator.domain.compile import compile_plan, holiday_dates
from orchestrator.domain.ir import NumberFlow, Split
from orchestrator.domain.naming import SPLIT_TICKET_KEY
from orchestrator.domain.plan import AMSTERDAM, parse_plan
from orchestrator.domain.simulate import CallScenario, DestinationBehaviour, SimulationResult, simulate
from orchestrator.services.apply import apply_plan
from orchestrator.store import engine as store_engine
from orchestrator.store import plans as plan_store
from tests.e2e.events import connect, first_channels
from tests.harness.clock import ahead, set_clock_offset
from tests.harness.sipp import Identity, place_call

pytestmark = pytest.mark.e2e

BEHAVIOUR = {"1": DestinationBehaviour.ANSWER, "2": DestinationBehaviour.BUSY,
             "3": DestinationBehaviour.NOANSWER, "4": DestinationBehaviour.UNAVAILABLE}
OUTCOME_BY_CODE = {200: "answered", 403: "blocked", 486: "busy", 480: "unanswered"}
BLACKLISTED = ["+31207770001", "+31612340001"]
PARALLEL = 8


def dest(last: str, n: int, area: str = "20") -> dict[str, Any]:
    """A destination whose behaviour at the test carrier is its last digit."""
    return {"number": f"+31{area}555{n:03d}{last}", "ring_time": 5}


def basis_numbers(at1: str, at2: str) -> list[dict[str, Any]]:
    return [
        {"number": "0800 100 0001", "active": "a",
         "routings": {"a": [dest("1", 1)], "b": [dest("3", 2), dest("1", 3)],
                      "c": [dest("2", 4), dest("4", 5), dest("3", 6)]},
         "switches": [{"at": at1, "routing": "b"}, {"at": at2, "routing": "c"}],
         "blocking": {"anonymous": True, "mobile": True, "blacklist": BLACKLISTED},
         "announcements": {"final": "default-final"}},
        {"number": "0800 100 0002", "active": "a",
         "routings": {"a": [dest("2", 7), dest("1", 8)], "b": [dest("4", 9), dest("2", 10)]},
         "switches": [{"at": at2, "routing": "b"}],
         "blocking": {"foreign": True}},
        {"number": "088 100 0003", "active": "a",
         "routings": {"a": [dest("3", 11), dest("3", 12), dest("1", 13)], "b": [dest("1", 14, "10")]},
         "switches": [{"at": at1, "routing": "b"}, {"at": at2, "routing": "a"}],
         "blocking": {"anonymous": True, "foreign": True, "blacklist": BLACKLISTED[:1]}},
        {"number": "020 100 0004", "active": "a", "routings": {"a": [dest("4", 15), dest("1", 16)]}},
    ]


def standaard_numbers(at1: str) -> list[dict[str, Any]]:
    week = {d: [{"start": "08:30", "end": "17:30", "exit": "open"}] for d in ("mon", "tue", "wed", "thu", "fri")}
    week["sat"] = [{"start": "10:00", "end": "16:00", "exit": "weekend"}]
    return [
        {"number": "0800 200 0001", "package": "standaard", "active": "main",
         "routings": {"main": [dest("1", 21)], "ams": [dest("3", 22), dest("1", 23)], "rdam": [dest("2", 24)],
                      "mob": [dest("4", 25), dest("2", 26), dest("1", 27)], "intl": [dest("1", 28)],
                      "shut": [dest("3", 29)], "wknd": [dest("1", 30)], "alt": [dest("1", 31)]},
         "switches": [{"at": at1, "routing": "alt"}],
         "blocking": {"blacklist": BLACKLISTED[1:]},
         "regions": {"exits": [{"name": "ams", "areas": ["020"], "to": "office"},
                               {"name": "rdam", "areas": ["010", "070"], "to": "rdam"},
                               {"name": "mob", "areas": ["mobile"], "to": "spread"},
                               {"name": "intl", "areas": ["BE", "DE"], "to": "intl"}],
                     "other": "active"},
         "rosters": {"office": {"week": week, "exits": {"open": "spread", "weekend": "wknd", "closed": "shut"},
                                "outside": "closed", "holiday": "shut", "closed_dates": ["2026-12-31"]}},
         "splits": {"spread": [{"percent": 50, "to": "ams"}, {"percent": 30, "to": "mob"},
                               {"percent": 20, "to": "main"}]},
         "announcements": {"final": "default-final"}},
        {"number": "0800 200 0002", "package": "standaard", "active": "day",
         "routings": {"day": [dest("1", 32)], "night": [dest("3", 33), dest("1", 34)], "hol": [dest("2", 35)]},
         "start": "hours",
         "rosters": {"hours": {"week": {d: [{"start": "07:00", "end": "22:00", "exit": "day"}]
                                        for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")},
                               "exits": {"day": "day", "night": "night"}, "outside": "night", "holiday": "hol"}},
         "blocking": {"anonymous": True}},
    ]


CALLER_KINDS = ["landline", "landline-national", "landline-00", "rotterdam", "mobile", "foreign", "belgian",
                "anonymous", "blacklisted", "hostile-from", "hostile-pai", "display", "privacy", "no-digits"]
# Hostile ways to write a Dutch national significant number (issue 14): the normaliser table must
# give the same decision as for its plain form, in the simulator and in Asterisk.
HOSTILE_FORMS = [lambda n: f"+0031{n}", lambda n: f"++31{n}", lambda n: f"+31(0){n}", lambda n: f"31{n}",
                 lambda n: f"0031(0){n}", lambda n: f"+31-{n[:2]}-{n[2:]}", lambda n: f"+310{n}"]
NO_DIGITS = ["+", "00", "+anonymous", "restricted+", "+31", "++", "+0031"]


def hostile_nsn(rng: random.Random) -> str:
    return rng.choice([f"20{rng.randrange(2000000, 9999999)}", f"10{rng.randrange(2000000, 9999999)}",
                       f"6{rng.choice('123458')}{rng.randrange(1000000, 9999999)}",
                       rng.choice(BLACKLISTED)[3:], f"2{rng.choice('345')}{rng.randrange(100000, 999999)}"])


def sample_identity(rng: random.Random, kind: str) -> tuple[str, Identity, str]:
    """(the number Asterisk sees, i.e. CALLERID(num), the INVITE's identity, its Privacy)."""
    plain = f"030{rng.randrange(2000000, 9999999)}"
    if kind == "hostile-from":
        form = rng.choice(HOSTILE_FORMS)(hostile_nsn(rng))
        return form, Identity(form), ""
    if kind == "hostile-pai":
        form = rng.choice(HOSTILE_FORMS)(hostile_nsn(rng))
        return form, Identity(plain, pai=form, pai_display=rng.choice([None, plain])), ""
    if kind == "display":  # a blacklisted number in the display name only
        return plain, Identity(plain, display=rng.choice(BLACKLISTED)), ""
    if kind == "privacy":
        privacy = rng.choice(["id", "header", "user;id", "none"])
        number = f"0{hostile_nsn(rng)}"
        pai = rng.random() < 0.5
        return number, Identity(number, pai=number if pai else None, privacy=privacy), privacy
    value = rng.choice(NO_DIGITS)
    return value, Identity(value), ""


def sample_caller(rng: random.Random, kind: str, serial: int) -> tuple[str, bool]:
    if kind == "landline":
        return f"+3120{rng.randrange(2000000, 9999999)}", False
    if kind == "landline-national":
        return f"030{rng.randrange(2000000, 9999999)}", False
    if kind == "landline-00":
        return f"003150{rng.randrange(2000000, 9999999)}", False
    if kind == "rotterdam":
        return f"010{rng.randrange(2000000, 9999999)}", False
    if kind == "mobile":
        return f"06{rng.choice('123458')}{rng.randrange(1000000, 9999999)}", False
    if kind == "foreign":
        return f"+44207946{serial:04d}", False
    if kind == "belgian":
        return f"+3225{rng.randrange(100000, 999999)}", False
    if kind == "anonymous":
        return "anonymous", True
    return rng.choice(BLACKLISTED), False


@dataclass
class Case:
    flow: NumberFlow
    caller: str
    anonymous: bool
    identity: Identity | None = None
    privacy: str = ""

    def key(self) -> tuple[str, str]:
        return (self.flow.number.e164, self.caller)


def behaviour_of(flow: NumberFlow) -> dict[str, DestinationBehaviour]:
    return {n.destination: BEHAVIOUR[n.destination[-1]] for n in flow.nodes.values() if hasattr(n, "destination")}


def predict(case: Case, at: datetime, blacklist: frozenset[str], forced: dict[str, int]) -> SimulationResult:
    """Simulate, with each split at the ticket Asterisk gave this call (if any): calls run in
    parallel, so which call got which ticket depends on their order."""
    state = {node.state_family: forced[node.id] for node in case.flow.nodes.values()
             if isinstance(node, Split) and node.id in forced}
    scenario = CallScenario("" if case.anonymous else case.caller, at, withheld=case.anonymous,
                            privacy=case.privacy, blacklist=blacklist, behaviour=behaviour_of(case.flow),
                            split_state=state)
    return simulate(case.flow, scenario)


async def split_counters(ami: Any, flows: list[NumberFlow]) -> dict[str, int]:
    """Each split's next ticket (its AstDB counter; 0 before the first call)."""
    out = {}
    for flow in flows:
        for node in flow.nodes.values():
            if isinstance(node, Split):
                value = await ami.db_get(node.state_family, SPLIT_TICKET_KEY)
                out[node.state_family] = int(value) if value not in (None, "") else 0
    return out


async def run_differential(runtime: Any, carrier: Any, tmp_path: Any, plan_data: dict[str, Any],
                           moments: list[datetime], cases_per_moment: int, seed: int) -> int:
    rng = random.Random(seed)
    engine = store_engine.make_engine(f"sqlite:///{tmp_path / 'diff.db'}")
    s = runtime.settings
    ami, events, target = await connect(runtime)
    compared = hostile = 0
    try:
        with Session(engine) as session:
            await apply_plan(parse_plan(plan_data), session, target, now=datetime.now(AMSTERDAM))
            plan = plan_store.load_plan(session, plan_data["tenant"])
        flows = compile_plan(plan, {}, holiday_dates(datetime.now(AMSTERDAM).date()))
        blacklists = {n.number: frozenset(n.blocking.blacklist) for n in plan.numbers}

        for moment in moments:
            offset = int(moment.timestamp() - time.time())
            set_clock_offset(runtime, offset)  # returns once Asterisk's clock moved
            cases: list[Case] = []
            keys: set[tuple[str, str]] = set()
            while len(cases) < cases_per_moment:
                kind = rng.choice(CALLER_KINDS)
                if kind in ("hostile-from", "hostile-pai", "display", "privacy", "no-digits"):
                    caller, identity, privacy = sample_identity(rng, kind)
                    case = Case(rng.choice(flows), caller, False, identity, privacy)
                else:
                    caller, anon = sample_caller(rng, kind, len(cases))
                    case = Case(rng.choice(flows), caller, anon)
                if case.key() not in keys:  # one call per (number, caller) per batch
                    keys.add(case.key())
                    cases.append(case)

            before = await split_counters(ami, flows)
            events.clear()
            carrier.clear()
            mark = events.mark()
            loop = asyncio.get_running_loop()
            calls_start = time.time()
            with ThreadPoolExecutor(PARALLEL) as pool:
                results = await asyncio.gather(*[
                    loop.run_in_executor(pool, lambda c=c: place_call(
                        s.sip_port, c.flow.number.national, c.caller, anonymous=c.anonymous, hold_s=0.3,
                        workdir=tmp_path, identity=c.identity))
                    for c in cases])
            # Every case's number has a flow (no 404): each call has a channel. Every leg hung up:
            # the calls' last AMI events are in.
            await events.settled(mark, calls=sum(first_channels(r, refused=False) for r in results))

            dialled: dict[tuple[str, str], list[str]] = defaultdict(list)
            picked: dict[tuple[str, str], dict[str, int]] = defaultdict(dict)  # call -> split node -> ticket
            exits: dict[tuple[str, str], list[int]] = defaultdict(list)
            nodes_by_name = {(f.number.e164, n.name): n.id for f in flows for n in f.nodes.values()
                             if isinstance(n, Split)}
            for e in events.svc():
                key = (e["Number"], e.get("CallerIDNum", ""))
                if e.get("Step") == "dial":
                    dialled[key].append(e["Destination"])
                elif e.get("Step") == "split":
                    picked[key][nodes_by_name[(e["Number"], e["Split"])]] = int(e["Ticket"])
                    exits[key].append(int(e["Exit"]))

            # Asterisk's clock when the calls ran: real time plus the (whole-second) offset. Not the
            # moment itself: that is up to a second earlier, which crosses a roster's closing minute.
            at = datetime.fromtimestamp(calls_start + offset, AMSTERDAM)
            tickets: dict[str, list[int]] = defaultdict(list)  # split family -> the tickets Asterisk gave
            for case, result in zip(cases, results, strict=True):
                forced = picked.get(case.key(), {})
                predicted = predict(case, at, blacklists[case.flow.number.e164], forced)
                observed = dialled.get(case.key(), [])
                label = f"{case.key()} at {moment:%Y-%m-%d %H:%M %Z} -> predicted {predicted.destinations}"
                seen = [(e.get("Step"), e.get("Exit") or e.get("Reason") or e.get("Destination"))
                        for e in events.svc() if (e["Number"], e.get("CallerIDNum", "")) == case.key()]
                assert observed == predicted.destinations, (
                    f"{label}, Asterisk dialled {observed}; caller got {result.final_code}; events {seen}")
                assert OUTCOME_BY_CODE.get(result.final_code) == predicted.outcome, (
                    f"{label} {predicted.outcome}, caller got {result.final_code}")
                # The share Asterisk took for its ticket is the simulator's share for that ticket.
                assert exits.get(case.key(), []) == [st["exit"] for st in predicted.steps if st["step"] == "split"]
                for node_id, ticket in forced.items():
                    node = case.flow.nodes[node_id]
                    assert isinstance(node, Split)
                    tickets[node.state_family].append(ticket)
                compared += 1
                hostile += case.identity is not None

            # Exact shares: each split handed out the next tickets, each once (no ticket lost or
            # shared by two calls), and its counter moved on by as many.
            after = await split_counters(ami, flows)
            for family, taken in tickets.items():
                start = before.get(family, 0)
                assert sorted(taken) == list(range(start, start + len(taken))), (family, start, taken)
                assert after[family] == start + len(taken), (family, after[family], start, taken)
            expected_invites = Counter(d for c in cases for d in dialled.get(c.key(), []))
            assert Counter(carrier.invites()) == expected_invites
    finally:
        set_clock_offset(runtime, 0)
        ami.close()
    assert hostile >= compared // 4, f"only {hostile} of {compared} calls had a hostile caller identity"
    return compared


async def test_basis_simulator_matches_asterisk(runtime: Any, carrier: Any, tmp_path: Any) -> None:
    now = datetime.now(AMSTERDAM).replace(second=0, microsecond=0)
    t1, t2 = ahead(now, timedelta(hours=1)), ahead(now, timedelta(hours=3))  # real hours, also on a DST night
    plan = {"tenant": "diffb", "numbers": basis_numbers(f"{t1:%Y-%m-%d %H:%M}", f"{t2:%Y-%m-%d %H:%M}")}
    moments = [ahead(now, timedelta(minutes=1)), ahead(t1, timedelta(minutes=5)), ahead(t2, timedelta(minutes=5))]
    assert await run_differential(runtime, carrier, tmp_path, plan, moments, 40, seed=20261123) >= 100


async def test_standaard_simulator_matches_asterisk(runtime: Any, carrier: Any, tmp_path: Any) -> None:
    now = datetime.now(AMSTERDAM).replace(second=0, microsecond=0)
    t1 = ahead(now, timedelta(hours=1))
    plan = {"tenant": "diffs", "numbers": standaard_numbers(f"{t1:%Y-%m-%d %H:%M}")}

    def local(text: str) -> datetime:
        return datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=AMSTERDAM)

    moments = [
        ahead(now, timedelta(minutes=1)), ahead(t1, timedelta(minutes=5)),
        local("2027-01-05 10:00"),  # Tuesday, office hours
        local("2027-01-05 08:29"),  # Tuesday, just before opening
        local("2027-01-05 17:30"),  # Tuesday, closing minute
        local("2027-01-09 11:00"),  # Saturday
        local("2027-01-10 23:30"),  # Sunday night
        local("2027-03-29 10:00"),  # Easter Monday 2027
        local("2026-12-31 12:00"),  # the tenant's closed date
        local("2027-03-28 03:30"),  # the night clocks go forward
    ]
    assert await run_differential(runtime, carrier, tmp_path, plan, moments, 32, seed=3) >= 300
