"""Premium call flows in `make bench` (``BENCH_ONLY=flows make bench`` runs them alone):

  post-dial delay  INVITE sent -> INVITE at the carrier, for a number whose flow takes three
                   decision blocks (time, region, split) before its dial block, against bare
                   Asterisk's one Dial() line in the same run (tests/bench/load.py run_pdd)
  key -> prompt    a caller presses 1 in a menu (RFC 4733 from sipp); Asterisk's own clock (AMI
                   event timestamps) from the key's DTMFEnd to the next menu's Read() starting,
                   against a bare two-Read() dialplan answering the same calls
  flow change      tests/bench/flow_worker.py: one flow changed with 10,000 numbers on 100 flows,
                   end to end, and the dialplan's priorities with them loaded
"""

from __future__ import annotations

import asyncio
import copy
import os
import statistics
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.bench.flow_worker import ALL_WEEK, decisions
from tests.bench.stack import CALLER, FLOW_MENU, FLOW_PDD, FLOW_PDD_NOLOCK, Stack
from tests.e2e.events import connect_events
from tests.harness.keys import call_with_keys

KEY_CALLS = int(os.environ.get("BENCH_KEY_CALLS", "60"))
KEY_PARALLEL = 6
MENU_TIMEOUT = 3


def flow_plan() -> dict[str, Any]:
    """The tenant behind the flow rows: a flow of three decisions then a dial, and two menus."""
    beep = {"sound": "beep"}
    pdd = {"start": "hours", "blocks": decisions("dial") | {
        "dial": {"type": "dial", "params": {"destinations": [{"number": "+31205550011"}]}, "exits": {"failed": "bye"}}}}
    menus = {"start": "first", "blocks": {
        "first": {"type": "menu", "params": {"prompt": beep, "timeout": MENU_TIMEOUT},
                  "exits": {"1": "second", "failed": "bye"}},
        "second": {"type": "menu", "params": {"prompt": beep, "timeout": MENU_TIMEOUT},
                   "exits": {"1": "bye", "failed": "bye"}},
        "bye": {"type": "hangup"}}}
    # The same without the split (which took LOCK(), milliseconds, before its tickets; see
    # docs/benchmarks.md): a second time block instead.
    nolock = copy.deepcopy(pdd)
    nolock["blocks"]["where"]["exits"] = {"ams": "again", "rdam": "again", "other": "again"}
    nolock["blocks"]["again"] = {"type": "time", "params": {"week": ALL_WEEK},
                                 "exits": {"open": "dial", "closed": "bye"}}
    del nolock["blocks"]["spread"]
    return {"tenant": "flowbench", "flows": {"pdd": pdd, "nolock": nolock, "menus": menus}, "numbers": [
        {"number": FLOW_PDD, "package": "premium", "flow": "pdd"},
        {"number": FLOW_PDD_NOLOCK, "package": "premium", "flow": "nolock"},
        {"number": FLOW_MENU, "package": "premium", "flow": "menus"}]}


@dataclass
class KeyResult:
    calls: int
    samples: int
    median_ms: float
    p99_ms: float
    max_ms: float
    command: str


def key_delays(events: list[dict[str, Any]]) -> list[float]:
    """Per channel: first key received -> the next Read() starting (ms, Asterisk's timestamps)."""
    by_channel: dict[str, list[dict[str, Any]]] = {}
    for e in events:
        if e.get("Event") in ("DTMFEnd", "Newexten") and "Timestamp" in e:
            by_channel.setdefault(str(e.get("Channel")), []).append(e)
    out = []
    for evs in by_channel.values():
        key = next((float(e["Timestamp"]) for e in evs if e["Event"] == "DTMFEnd"
                    and e.get("Direction") == "Received" and e.get("Digit") == "1"), None)
        if key is None:
            continue
        read = next((float(e["Timestamp"]) for e in evs if e["Event"] == "Newexten"
                     and e.get("Application") == "Read" and float(e["Timestamp"]) >= key), None)
        if read is not None:
            out.append((read - key) * 1000)
    return out


async def key_latency(stack: Stack, number: str, workdir: Path, calls: int = KEY_CALLS) -> KeyResult:
    s = stack.settings
    ami, log = await connect_events(s.bind_host, s.ami_port, s.ami_user, s.ami_secret)
    try:
        log.clear()
        loop = asyncio.get_running_loop()
        with ThreadPoolExecutor(KEY_PARALLEL) as pool:
            await asyncio.gather(*[loop.run_in_executor(pool, lambda: call_with_keys(
                s.sip_port, number, CALLER, "1,1", workdir=workdir, timeout=MENU_TIMEOUT, wait=10.0))
                for _ in range(calls)])
        await asyncio.sleep(1.0)
        delays = sorted(key_delays(log.events))
    finally:
        ami.close()
    if not delays:
        raise RuntimeError(f"key -> prompt ({number}): no call measured")
    p99 = delays[min(len(delays) - 1, int(round(0.99 * (len(delays) - 1))))]
    return KeyResult(calls, len(delays), statistics.median(delays), p99, delays[-1],
                     f"{calls} sipp callers ({KEY_PARALLEL} at a time) pressing 1,1 (RFC 4733) to {number}; "
                     "AMI DTMFEnd -> Newexten Read()")
