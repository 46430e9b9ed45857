"""Where the post-dial delay goes, by Asterisk's own clock: a few calls to one number while the
AMI Newexten events (timestampevents=yes) are recorded; prints the dialplan steps that took longest
between one priority starting and the next.

    python -m tests.bench.pdd_trace [NUMBER] [CALLS]

Starts its own Asterisk (and stops it), applies the bench plan (tests/bench/stack.py) and, for
08009000001, the call-flow plan (tests/bench/flows.py).
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

from tests.bench.flows import flow_plan
from tests.bench.stack import CALLER, FLOW_PDD, FLOW_PDD_NOLOCK, STANDAARD, Stack
from tests.e2e.events import connect_events
from tests.harness.sipp import place_call


async def trace(stack: Stack, number: str, calls: int, workdir: Path) -> list[tuple[str, float]]:
    s = stack.settings
    ami, log = await connect_events(s.bind_host, s.ami_port, s.ami_user, s.ami_secret)
    gaps: dict[str, list[float]] = defaultdict(list)
    shown: dict[str, str] = {}  # per priority: its data as the first call ran it (values differ per call)
    try:
        for _ in range(calls):
            log.clear()
            await asyncio.to_thread(place_call, s.sip_port, number, CALLER, hold_s=0.1, workdir=workdir)
            await asyncio.sleep(0.3)
            steps = [e for e in log.events if e.get("Event") == "Newexten"]
            first = steps[0]["Channel"] if steps else None
            steps = [e for e in steps if e["Channel"] == first]  # the caller's channel only
            for a, b in zip(steps, steps[1:], strict=False):
                where = f"{a.get('Context')},{a.get('Extension')},{a.get('Priority')}"
                shown.setdefault(where, f"{a.get('Application')}({a.get('AppData', '')[:60]})")
                gaps[where].append((float(b["Timestamp"]) - float(a["Timestamp"])) * 1000)
    finally:
        ami.close()
    return sorted(((f"{k} {shown[k]}", statistics.median(v)) for k, v in gaps.items()), key=lambda kv: -kv[1])


def main() -> None:
    from tests.bench.run import _apply_bench_plan

    number = sys.argv[1] if len(sys.argv) > 1 else STANDAARD
    calls = int(sys.argv[2]) if len(sys.argv) > 2 else 10
    workdir = Path(tempfile.mkdtemp(prefix="pdd-trace-"))
    stack = Stack(workdir)
    try:
        stack.up()
        stack.start_carrier()
        stack.generated = asyncio.run(_apply_bench_plan(stack))
        if number in (FLOW_PDD, FLOW_PDD_NOLOCK):  # the Premium call flows' numbers (tests/bench/flows.py)
            stack.generated = asyncio.run(_apply_bench_plan(stack, flow_plan()))
        ranked = asyncio.run(trace(stack, number, calls, workdir))
        total = sum(v for _, v in ranked)
        print(f"{number}: {calls} calls, median time per dialplan step (sum {total:.2f} ms), slowest first:")
        for key, ms in ranked[:12]:
            print(f"  {ms:7.3f} ms  {key}")
        per_exten: dict[str, float] = defaultdict(float)
        for key, ms in ranked:
            per_exten[key.split(" ", 1)[0].rsplit(",", 1)[0]] += ms
        print("per extension (sum of its priorities' medians), slowest first:")
        for exten, ms in sorted(per_exten.items(), key=lambda kv: -kv[1])[:8]:
            print(f"  {ms:7.3f} ms  {exten}")
    finally:
        stack.close()


if __name__ == "__main__":
    main()
