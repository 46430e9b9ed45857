"""One flow change with N Premium numbers sharing F call flows, in its own process (as
apply_worker.py does for Basis numbers).

    python -m tests.bench.flow_worker --numbers 10000 --flows 100 --db sqlite:///x.db --out result.json

Needs the SVC_* settings of a running Asterisk in the environment (tests/bench/run.py passes them).
Measures, in this order:
  full        `orchestrator apply plan.json` of the whole plan on a fresh database (reference)
  flow change two menu keys of one flow swap their targets, the plan file applied again, end to end
              (read, parse, check, render the flow, load its new version, switch, verify, commit),
              three times (median and each), and the Asterisk part of each
  priorities  `dialplan show`'s count of priorities with all of them loaded, and how it splits
              into the flows' files, the numbers' files and the rest (entry, library, ...)
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import json
import re
import statistics
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlmodel import Session

from orchestrator.asterisk.ami import Ami
from orchestrator.asterisk.dialplan_files import DialplanFiles
from orchestrator.asterisk.push import parse
from orchestrator.asterisk.runtime import AsteriskRuntime
from orchestrator.cli.common import read_plan_document
from orchestrator.domain.plan import AMSTERDAM
from orchestrator.services.apply import ApplyTarget, apply_document
from orchestrator.settings import load_settings
from orchestrator.store import engine as store_engine

ALL_WEEK = {d: [{"start": "00:00", "end": "24:00", "exit": "open"}]
            for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
_SUMMARY = re.compile(r"-= (\d+) extensions? \((\d+) priorit(?:y|ies)\) in (\d+) contexts?\. =-")


def decisions(then: str) -> dict[str, Any]:
    """Three decision blocks (time, region, split) that all lead to ``then``."""
    return {
        "hours": {"type": "time", "params": {"week": ALL_WEEK}, "exits": {"open": "where", "closed": "bye"}},
        "where": {"type": "region", "params": {"regions": {"ams": ["020"], "rdam": ["010"]}},
                  "exits": {"ams": "spread", "rdam": "spread", "other": "spread"}},
        "spread": {"type": "split", "params": {"shares": {"a": 50, "b": 50}}, "exits": {"a": then, "b": then}},
        "bye": {"type": "hangup"},
    }


def menu_flow(i: int) -> dict[str, Any]:
    """Three decisions, a menu, two dial blocks: a typical small flow (flow ``i``'s own numbers)."""
    beep = {"sound": "beep"}
    blocks = decisions("main") | {
        "main": {"type": "menu", "params": {"prompt": beep, "timeout": 3},
                 "exits": {"1": "sales", "2": "billing", "failed": "bye"}},
        "sales": {"type": "dial", "params": {"destinations": [{"number": f"+3120{5510001 + i * 10:07d}"}]},
                  "exits": {"failed": "bye"}},
        "billing": {"type": "dial", "params": {"destinations": [{"number": f"+3120{5520001 + i * 10:07d}"}]},
                    "exits": {"failed": "bye"}},
    }
    return {"start": "hours", "blocks": blocks}


def shared_flows_plan(n: int, flows: int) -> dict[str, Any]:
    numbers = [{"number": f"0800{2000000 + i:07d}", "package": "premium", "flow": f"f{i % flows:03d}"}
               for i in range(n)]
    return {"tenant": "flowbulk", "flows": {f"f{i:03d}": menu_flow(i) for i in range(flows)}, "numbers": numbers}


async def _apply(raw: dict[str, Any], engine: Any, target: ApplyTarget, plan_file: Path) -> tuple[float, Any]:
    """What `orchestrator apply plan.json` does: read the file, apply the document."""
    plan_file.write_text(json.dumps(raw))
    started = time.perf_counter()
    with Session(engine) as session:
        report = await apply_document(read_plan_document(plan_file), session, target, now=datetime.now(AMSTERDAM))
    return time.perf_counter() - started, report


def priorities(runtime: AsteriskRuntime, files: dict[str, str]) -> dict[str, Any]:
    """What Asterisk runs (`dialplan show`'s own count) and how the files split it."""
    out = runtime.rx("dialplan show", timeout=600)
    found = _SUMMARY.search(out[-400:])
    assert found is not None, out[-400:]
    by_kind = {"flows": 0, "numbers": 0, "other": 0}
    for name, text in files.items():
        if not name.endswith(".conf"):
            continue
        kind = "flows" if name.startswith("fl-") else "numbers" if name.startswith("n-") else "other"
        by_kind[kind] += len(parse(text))
    return {"extensions": int(found.group(1)), "priorities": int(found.group(2)), "contexts": int(found.group(3)),
            "files": by_kind, "command": "asterisk -rx 'dialplan show' | tail -1"}


async def main(n: int, flows: int, db_url: str, out: Path, changes: int) -> None:
    settings = load_settings()
    runtime = AsteriskRuntime(settings)
    engine = store_engine.make_engine(db_url)
    ami = Ami.from_settings(settings, timeout=600)
    await ami.connect()
    try:
        files = DialplanFiles(runtime.etc_dir)
        target = ApplyTarget(files, runtime.sounds_dir, runtime.asterisk_path, ami)
        raw = shared_flows_plan(n, flows)
        plan_file = out.with_suffix(".plan.json")
        full_s, report = await _apply(raw, engine, target, plan_file)
        result: dict[str, Any] = {"numbers": n, "flows": flows,
                                  "full": {"seconds": full_s, "how": report.how, "asterisk_s": report.reload_seconds}}
        runs = []
        for k in range(changes):  # keys 1 and 2 of one flow's menu swap their targets
            raw = copy.deepcopy(raw)
            main_menu = raw["flows"][f"f{(flows // 2 + k) % flows:03d}"]["blocks"]["main"]["exits"]
            main_menu["1"], main_menu["2"] = main_menu["2"], main_menu["1"]
            seconds, report = await _apply(raw, engine, target, plan_file)
            runs.append({"seconds": seconds, "how": report.how, "asterisk_s": report.reload_seconds,
                         "notes": report.notes})
        result["flow_change"] = {"runs": runs, "median_s": statistics.median(r["seconds"] for r in runs),
                                 "median_asterisk_s": statistics.median(r["asterisk_s"] or 0 for r in runs)}
        result["priorities"] = priorities(runtime, files.read_current())
        out.write_text(json.dumps(result, indent=2))
    finally:
        ami.close()


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--numbers", type=int, required=True)
    ap.add_argument("--flows", type=int, required=True)
    ap.add_argument("--db", required=True)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--changes", type=int, default=3)
    a = ap.parse_args()
    asyncio.run(main(a.numbers, a.flows, a.db, a.out, a.changes))
