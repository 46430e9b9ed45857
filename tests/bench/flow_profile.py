"""The Python side of one flow change, in process and without Asterisk (offline target: the same
validate, render, lint, stage and commit steps; Asterisk's part is measured by flow_worker.py).

    python -m tests.bench.flow_profile [--numbers 10000] [--flows 100] [--changes 12] [--top 40]

Applies flow_worker's plan (N numbers on F flows) once, then changes one flow's menu per run (keys
1 and 2 swap their targets, another flow each time) and prints each run's milliseconds, their
median and a cProfile of the last run (cumulative). The first change lints a new shape; the
others find it in the lint cache, as the benchmark's runs do.
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import cProfile
import pstats
import statistics
import tempfile
import time
from datetime import datetime
from pathlib import Path

from sqlmodel import Session

from orchestrator.asterisk.dialplan_files import DialplanFiles
from orchestrator.domain.plan import AMSTERDAM
from orchestrator.services.apply import ApplyTarget, apply_document
from orchestrator.store import engine as store_engine
from tests.bench.flow_worker import shared_flows_plan


async def main(n: int, flows: int, changes: int, top: int) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="svc-flow-profile-"))
    engine = store_engine.make_engine(f"sqlite:///{tmp / 'svc.db'}")
    target = ApplyTarget(DialplanFiles(tmp / "etc"), tmp / "sounds", str, None)
    raw = shared_flows_plan(n, flows)
    now = datetime.now(AMSTERDAM)
    started = time.perf_counter()
    with Session(engine) as session:
        await apply_document(copy.deepcopy(raw), session, target, now=now)
    print(f"full apply: {time.perf_counter() - started:.1f} s")
    profile = cProfile.Profile()
    runs = []
    for k in range(changes):
        raw = copy.deepcopy(raw)
        menu = raw["flows"][f"f{(flows // 2 + k) % flows:03d}"]["blocks"]["main"]["exits"]
        menu["1"], menu["2"] = menu["2"], menu["1"]
        last = k == changes - 1
        started = time.perf_counter()
        if last:
            profile.enable()
        with Session(engine) as session:
            await apply_document(raw, session, target, now=now)
        if last:
            profile.disable()
        runs.append((time.perf_counter() - started) * 1000)
    print(f"one flow changed, {n} numbers on {flows} flows: runs {[round(r) for r in runs]} ms, "
          f"median {statistics.median(runs):.0f} ms (without the first, which lints a new shape: "
          f"{statistics.median(runs[1:] or runs):.0f} ms)")
    pstats.Stats(profile).sort_stats("cumulative").print_stats(top)


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--numbers", type=int, default=10000)
    ap.add_argument("--flows", type=int, default=100)
    ap.add_argument("--changes", type=int, default=12)
    ap.add_argument("--top", type=int, default=40)
    a = ap.parse_args()
    asyncio.run(main(a.numbers, a.flows, a.changes, a.top))
