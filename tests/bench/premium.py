"""0900 maximum-duration accuracy: CALLS concurrent calls to a 0900 number with
``max_duration: 20, warning_before: 10``, each caller holding far longer than the limit, so Asterisk
(Dial's L()) ends every call. Per call: hang-up of the callee channel minus the answer (AMI event
timestamps, manager.conf ``timestampevents=yes``: DialEnd ANSWER -> Hangup of the DestChannel)
minus the limit."""

from __future__ import annotations

import asyncio
import statistics
from dataclasses import dataclass
from pathlib import Path

from tests.bench.stack import CALLER, PREMIUM, PREMIUM_LIMIT, Stack
from tests.e2e.events import connect_events
from tests.harness.sipp import place_calls

CALLS = 50
RATE = 10  # calls started per second: 50 calls in flight at once after 5 s


@dataclass
class DurationResult:
    calls: int
    measured: int
    median_s: float
    max_s: float
    min_s: float
    command: str


async def measure(stack: Stack, workdir: Path, calls: int = CALLS) -> DurationResult:
    s = stack.settings
    ami, log = await connect_events(s.bind_host, s.ami_port, s.ami_user, s.ami_secret)
    try:
        log.clear()
        results = await asyncio.to_thread(
            place_calls, s.sip_port, PREMIUM, CALLER, count=calls, hold_s=PREMIUM_LIMIT + 15,
            workdir=workdir, timeout=PREMIUM_LIMIT + 60, rate=RATE)
        await asyncio.sleep(1.0)
        answered = [e for e in log.events if e.get("Event") == "DialEnd" and e.get("DialStatus") == "ANSWER"]
        hangups = {e.get("Channel"): e for e in log.events if e.get("Event") == "Hangup"}
        spreads = []
        for a in answered:
            hung = hangups.get(a.get("DestChannel"))
            if hung is not None:
                spreads.append(float(hung["Timestamp"]) - float(a["Timestamp"]) - PREMIUM_LIMIT)
    finally:
        ami.close()
    ok = sum(1 for r in results if r.answered)
    if not spreads:
        raise RuntimeError(f"0900 accuracy: no answered call measured ({ok}/{calls} answered)")
    return DurationResult(calls, len(spreads), statistics.median(spreads), max(spreads, key=abs), min(spreads),
                          f"sipp 127.0.0.1:$SIP -sf deploy/sipp/caller.xml -s {PREMIUM} -r {RATE} "
                          f"-m {calls} -d {(PREMIUM_LIMIT + 15) * 1000}")
