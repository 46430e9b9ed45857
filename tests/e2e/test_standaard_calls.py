"""Standaard package end to end: origin regions, the weekly roster (Asterisk's clock moved with
libfaketime), Dutch holidays, a daylight-saving night, and the percentage split over 1,000 real
calls. Every destination in the plan ends in 1, so the test carrier answers it."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from dateutil.easter import easter  # (python-dateutil comes with holidays) an oracle apart from ours
from sqlmodel import Session

from orchestrator.domain.compile import compile_plan, holiday_dates
from orchestrator.domain.plan import AMSTERDAM, parse_plan
from orchestrator.domain.simulate import CallScenario, simulate
from orchestrator.services.apply import apply_plan
from orchestrator.store import engine as store_engine
from tests.e2e.events import EventLog, connect, first_channels
from tests.harness.clock import set_clock_offset
from tests.harness.sipp import place_call, place_calls
from tests.plans import standaard_number, tenant_plan

pytestmark = pytest.mark.e2e

NUMBER = "08007654321"
E164 = "+318007654321"
CLOSED, WEEKEND = "+31205550071", "+31205550081"
SPLIT_A, SPLIT_B = "+31205550021", "+31205550041"


def night_roster_number() -> dict[str, Any]:
    """A second number whose roster has a range across the small hours, for the DST nights."""
    n = standaard_number(number="0800 7654322", regions=None, start="night", splits={})
    n["rosters"] = {"night": {
        "week": {"sun": [{"start": "01:00", "end": "04:00", "exit": "night"}]},
        "exits": {"night": "weekend", "day": "main"}, "outside": "day", "holiday": "closed",
        "public_holidays": False}}
    return n


class Clock:
    def __init__(self, runtime: Any) -> None:
        self.runtime = runtime

    async def set(self, moment: datetime) -> None:
        set_clock_offset(self.runtime, int(moment.timestamp() - time.time()))  # returns once the clock moved


@pytest.fixture(scope="module")
async def stack(runtime: Any, carrier: Any, tmp_path_factory: pytest.TempPathFactory):
    tmp = tmp_path_factory.mktemp("standaard")
    engine = store_engine.make_engine(f"sqlite:///{tmp / 'std.db'}")
    ami, events, target = await connect(runtime)
    plan = parse_plan(tenant_plan(standaard_number(), night_roster_number()) | {"tenant": "std"})
    with Session(engine) as session:
        await apply_plan(plan, session, target, now=datetime.now(AMSTERDAM))
    yield {"runtime": runtime, "carrier": carrier, "events": events, "tmp": tmp, "plan": plan,
           "clock": Clock(runtime)}
    set_clock_offset(runtime, 0)
    ami.close()


async def call(stack: dict[str, Any], to: str, caller: str = "0201234567", **kw: Any) -> tuple[Any, list[str]]:
    carrier, events = stack["carrier"], stack["events"]
    carrier.clear()
    events.clear()
    mark = events.mark()
    result = await asyncio.to_thread(place_call, stack["runtime"].settings.sip_port, to, caller,
                                     workdir=stack["tmp"], hold_s=0.2, **kw)
    # every leg hung up: the call's last AMI events are in
    await events.settled(mark, calls=first_channels(result, refused=False))
    return result, carrier.invites()


def exits(events: EventLog, step: str) -> list[str]:
    return [e["Exit"] for e in events.svc() if e.get("Step") == step]


async def test_regions(stack: dict[str, Any]) -> None:
    await stack["clock"].set(datetime(2026, 12, 1, 10, 0, 10, tzinfo=AMSTERDAM))  # Tuesday
    cases = [("0101234567", "+31105550011", "rotterdam"), ("0612345678", "+31305550051", "mobile"),
             ("+4420794601", "+3225550061", "abroad"), ("0301234567", "+31205550091", "other")]
    for caller, dest, region in cases:
        result, invites = await call(stack, NUMBER, caller)
        assert (result.final_code, invites) == (200, [dest]), caller
        assert exits(stack["events"], "region") == [region]
    result, invites = await call(stack, NUMBER, "anonymous", anonymous=True)
    assert invites == ["+31205550091"] and exits(stack["events"], "region") == ["other"]


def holiday_moments(today: date) -> tuple[str, str]:
    """An Easter Monday and a King's Day moved to the Saturday (27 April a Sunday) near ``today``:
    the dialplan holds the holidays from two years before to ten after the apply
    (``holiday_dates``), so fixed years would drop out of it as the calendar moves on. Easter
    from dateutil, not the product's calendar."""
    easter_monday = easter(today.year + 1) + timedelta(days=1)
    years = sorted(range(today.year - 2, today.year + 11), key=lambda y: (abs(y - today.year), y))
    kings_day = next(date(y, 4, 26) for y in years if date(y, 4, 27).weekday() == 6)
    return f"{easter_monday} 10:00:05", f"{kings_day} 11:00:05"


EASTER_MONDAY, KINGS_DAY_ON_SATURDAY = holiday_moments(datetime.now(AMSTERDAM).date())


@pytest.mark.parametrize(("local", "exit_name", "dest"), [
    ("2026-12-01 08:59:10", "closed", CLOSED),   # Tuesday
    ("2026-12-01 09:00:05", "open", None),
    ("2026-12-01 17:59:10", "open", None),
    ("2026-12-01 18:00:05", "closed", CLOSED),
    ("2026-12-05 09:59:10", "closed", CLOSED),   # Saturday
    ("2026-12-05 10:00:05", "weekend", WEEKEND),
    (EASTER_MONDAY, "holiday", CLOSED),
    (KINGS_DAY_ON_SATURDAY, "holiday", CLOSED),  # e.g. 2025-04-26: 27 April was a Sunday
    ("2026-12-31 11:00:05", "holiday", CLOSED),  # the tenant's own closed date
])
async def test_roster_exits(stack: dict[str, Any], local: str, exit_name: str, dest: str | None) -> None:
    moment = datetime.strptime(local, "%Y-%m-%d %H:%M:%S").replace(tzinfo=AMSTERDAM)
    await stack["clock"].set(moment)
    result, invites = await call(stack, NUMBER, "0201234567")
    assert result.final_code == 200
    assert exits(stack["events"], "roster") == [exit_name]
    if dest is not None:
        assert invites == [dest]
    else:
        assert invites[0] in (SPLIT_A, SPLIT_B)


@pytest.mark.parametrize(("utc", "exit_name"), [
    ("2027-03-28 00:30", "night"),  # 01:30 CET, before clocks go forward
    ("2027-03-28 01:30", "night"),  # 03:30 CEST, after: 02:00-03:00 never happened
    ("2027-03-28 02:30", "day"),    # 04:30 CEST
    ("2026-10-25 00:30", "night"),  # 02:30 CEST, first pass
    ("2026-10-25 01:30", "night"),  # 02:30 CET, the hour repeats
    ("2026-10-25 03:30", "day"),    # 04:30 CET
])
async def test_dst_nights(stack: dict[str, Any], utc: str, exit_name: str) -> None:
    moment = datetime.strptime(utc, "%Y-%m-%d %H:%M").replace(tzinfo=ZoneInfo("UTC")) + timedelta(seconds=10)
    await stack["clock"].set(moment)
    result, invites = await call(stack, "08007654322", "0201234567")
    assert result.final_code == 200
    assert exits(stack["events"], "roster") == [exit_name]
    flow = next(f for f in compile_plan(stack["plan"], {}, holiday_dates(moment.date()))
                if f.number.e164 == "+318007654322")
    predicted = simulate(flow, CallScenario("0201234567", moment))
    assert invites == predicted.destinations


async def test_split_over_1000_real_calls(stack: dict[str, Any]) -> None:
    await stack["clock"].set(datetime(2026, 12, 2, 11, 0, tzinfo=AMSTERDAM))  # Wednesday, open
    stack["carrier"].clear()
    results = await asyncio.to_thread(
        place_calls, stack["runtime"].settings.sip_port, NUMBER, "0201234567", count=1000,
        hold_s=0.0, rate=40, workdir=stack["tmp"])
    answered = sum(1 for r in results if r.final_code == 200)
    shares = Counter(stack["carrier"].invites())
    total = shares[SPLIT_A] + shares[SPLIT_B]
    assert answered == 1000 and total == 1000, (answered, shares)
    assert abs(100 * shares[SPLIT_A] / total - 70) <= 1, shares
    assert abs(100 * shares[SPLIT_B] / total - 30) <= 1, shares
    print(f"split over {total} real calls: {dict(shares)}")
