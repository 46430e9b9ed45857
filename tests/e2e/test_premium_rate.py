"""090x numbers end to end: the generated tariff prompt plays before the destination rings, the
maximum duration ends the call on time (Dial's L(), so it holds with the orchestrator stopped),
foreign callers are blocked unless the number opts in."""

from __future__ import annotations

import asyncio
import re
import statistics
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session

from orchestrator.domain.plan import AMSTERDAM, parse_plan
from orchestrator.services.apply import apply_plan
from orchestrator.store import engine as store_engine
from tests.e2e.events import connect, first_channels
from tests.harness.sipp import place_call

pytestmark = pytest.mark.e2e

DEST = "+31205550011"
LIMIT = 20
WARNING = 10
LOG_TIME = re.compile(r"^\[(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3})\]")


def beep_after_answer(log: str, caller_channel: str) -> float:
    """Seconds from the answer to the first warning beep on the caller's side, from the log."""
    answered_at = None
    for line in log.splitlines():
        m = LOG_TIME.match(line)
        if m is None:
            continue
        at = datetime.strptime(m.group(1), "%Y-%m-%d %H:%M:%S.%f")
        if f"answered {caller_channel}" in line:
            answered_at = at
        elif answered_at is not None and f"<{caller_channel}> Playing 'beep" in line:
            return (at - answered_at).total_seconds()
    raise AssertionError(f"no warning beep for {caller_channel} in the Asterisk log")


def plan() -> dict[str, Any]:
    base = {"routings": {"main": [{"number": DEST}]}, "active": "main"}
    return {"tenant": "premium", "numbers": [
        base | {"number": "0900 1234561", "tariff": {"per_call": "0.20", "per_minute": "1.00",
                                                       "max_call_cost": "10.00"}},
        base | {"number": "0900 1234562", "tariff": {"per_call": "0.10", "max_duration": LIMIT,
                                                       "warning_before": WARNING}},
        base | {"number": "0906 1234563", "tariff": {"per_minute": "0.10"}, "allow_foreign": True},
    ]}


@pytest.fixture(scope="module")
async def stack(runtime: Any, carrier: Any, tmp_path_factory: pytest.TempPathFactory):
    tmp = tmp_path_factory.mktemp("premium")
    engine = store_engine.make_engine(f"sqlite:///{tmp / 'p.db'}")
    ami, events, target = await connect(runtime)
    with Session(engine) as session:
        await apply_plan(parse_plan(plan()), session, target, now=datetime.now(AMSTERDAM))
    yield {"runtime": runtime, "carrier": carrier, "events": events, "tmp": tmp}
    ami.close()


async def call(stack: dict[str, Any], to: str, caller: str = "0201234567", hold_s: float = 0.5) -> Any:
    stack["carrier"].clear()
    stack["events"].clear()
    mark = stack["events"].mark()
    result = await asyncio.to_thread(place_call, stack["runtime"].settings.sip_port, to, caller,
                                     hold_s=hold_s, workdir=stack["tmp"], timeout=90)
    # every leg hung up: the call's last AMI events are in
    await stack["events"].settled(mark, calls=first_channels(result, refused=False))
    return result


async def test_tariff_prompt_plays_before_the_destination_rings(stack: dict[str, Any]) -> None:
    result = await call(stack, "09001234561")
    assert result.final_code == 200 and stack["carrier"].invites() == [DEST]
    events = stack["events"].events
    plays = [i for i, e in enumerate(events) if e.get("Event") == "Newexten" and e.get("Application") == "Playback"
             and "/prompts/tts-" in e.get("AppData", "")]
    dials = [i for i, e in enumerate(events) if e.get("Event") == "Newexten" and e.get("Application") == "Dial"]
    assert plays and dials and plays[0] < dials[0]
    prompt = Path(events[plays[0]]["AppData"].split(",")[0])
    text_file = stack["runtime"].sounds_dir / "prompts" / (prompt.name + ".txt")
    assert text_file.read_text().strip() == (
        "Dit gesprek kost 1 euro per minuut en 20 cent per gesprek. De maximale gesprekskosten zijn 10 euro.")
    wav = text_file.with_suffix(".wav")
    assert wav.stat().st_size > 8000  # seconds of real 8 kHz audio, not an empty header


async def test_maximum_duration_ends_the_call(stack: dict[str, Any]) -> None:
    """Hang-up time after answer, measured from Asterisk's own event timestamps."""
    spreads = []
    for _ in range(3):
        result = await call(stack, "09001234562", hold_s=LIMIT + 15)
        assert result.final_code == 200
        events = stack["events"].events
        answered = next(e for e in events if e.get("Event") == "DialEnd" and e.get("DialStatus") == "ANSWER")
        callee = answered["DestChannel"]
        hung = next(e for e in events if e.get("Event") == "Hangup" and e.get("Channel") == callee)
        spreads.append(float(hung["Timestamp"]) - float(answered["Timestamp"]) - LIMIT)
        assert result.duration_s < LIMIT + 10  # the caller did not hang up: Asterisk ended the call
        beep = beep_after_answer(stack["runtime"].log_file.read_text(), answered["Channel"])
        assert abs(beep - (LIMIT - WARNING)) <= 0.5, beep
    assert max(abs(s) for s in spreads) <= 0.5, spreads
    print(f"hang-up minus limit over {len(spreads)} calls: median {statistics.median(spreads):+.3f} s, "
          f"max {max(spreads, key=abs):+.3f} s")


async def test_foreign_callers_blocked_then_opted_in(stack: dict[str, Any]) -> None:
    blocked = await call(stack, "09001234561", "+442079460001")
    assert blocked.final_code == 403 and stack["carrier"].invites() == []
    assert [e["Reason"] for e in stack["events"].svc() if e.get("Step") == "blocked"] == ["foreign"]
    allowed = await call(stack, "09061234563", "+442079460001")
    assert allowed.final_code == 200 and stack["carrier"].invites() == [DEST]
