"""Apply time and memory for N Basis numbers, in its own process (so its resident memory is the
orchestrator's own, with N numbers loaded, and nothing else's).

    python -m tests.bench.apply_worker --numbers 10000 --db sqlite:///x.db --out result.json [--profile DIR]

Needs the SVC_* settings of a running Asterisk in the environment (tests/bench/run.py passes them).
Measures, in this order:
  stages      parse (pydantic + phonenumbers) / rules / compile / render of N numbers, timed alone
  full        `orchestrator apply plan.json` on a fresh database: read, parse, check, store, compile,
              render, write, full dialplan reload, verify, AstDB sync -- end to end
  one change  one number's ring time changed, the file applied again: end to end (only that number
              is parsed, checked and rendered; see orchestrator/domain/digest.py), and the
              Asterisk part alone
  call centre the queue's agents and longest wait changed: end to end (the call centre is
              rendered and pushed, the queues reloaded; no number is rendered again)
  api number  one number changed as the API's PUT /numbers/{n} does it (no plan file)
  yaml        how long reading the same plan as YAML takes (why large deployments use JSON)
  reload      a plain `dialplan reload` of the very same files (Asterisk's own load time)
  memory      VmRSS / VmHWM of this process, and Asterisk's VmRSS, after all of the above
With --profile, the incremental apply and the compile stages are profiled once more (pyinstrument).
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import json
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlmodel import Session

from orchestrator.asterisk.ami import Ami
from orchestrator.asterisk.dialplan_files import DialplanFiles
from orchestrator.asterisk.push import reload_dialplan
from orchestrator.asterisk.runtime import AsteriskRuntime
from orchestrator.cli.common import read_plan_document
from orchestrator.domain.compile import holiday_dates
from orchestrator.domain.numbers import parse_service_number
from orchestrator.domain.plan import AMSTERDAM, parse_plan
from orchestrator.domain.rules import validate_plan
from orchestrator.generate.render import render_dialplan
from orchestrator.services import numbers as number_changes
from orchestrator.services.apply import ApplyTarget, apply_document
from orchestrator.services.apply_render import compile_all
from orchestrator.settings import load_settings
from orchestrator.store import engine as store_engine
from tests.bench.stack import rss_kb
from tests.plans import basis_number


def many_numbers(n: int) -> dict[str, Any]:
    template = basis_number()
    numbers = []
    for i in range(n):
        num = copy.deepcopy(template)
        num["number"] = f"0800{1000000 + i:07d}"
        numbers.append(num)
    # A small call centre the first number routes to: its change is measured on its own.
    numbers[0]["routings"]["main"] = [{"number": "queue:desk"}]
    return {"tenant": "bulk", "numbers": numbers,
            "agents": {"ann": {"number": "020 555 0001"}, "bob": {"number": "020 555 0002"}},
            "queues": {"desk": {"agents": ["ann"], "max_wait": 30}}}


def _stages(raw: dict[str, Any], target: ApplyTarget, now: datetime) -> dict[str, float]:
    t0 = time.perf_counter()
    plan = parse_plan(raw)
    t1 = time.perf_counter()
    validate_plan(plan, now)
    t2 = time.perf_counter()
    flows = compile_all(target.where, [plan], holiday_dates(now.date()))
    t3 = time.perf_counter()
    render_dialplan(flows, target.trunk)
    t4 = time.perf_counter()
    return {"parse": t1 - t0, "rules": t2 - t1, "compile": t3 - t2, "render": t4 - t3, "total": t4 - t0}


async def _apply(raw: dict[str, Any], engine: Any, target: ApplyTarget, now: datetime,
                 plan_file: Path) -> tuple[float, Any]:
    """What `orchestrator apply plan.json` does: read the file, apply the document."""
    plan_file.write_text(json.dumps(raw))
    started = time.perf_counter()
    with Session(engine) as session:
        report = await apply_document(read_plan_document(plan_file), session, target, now=now)
    return time.perf_counter() - started, report


def _yaml_load_seconds(raw: dict[str, Any], path: Path) -> float:
    """The same plan as YAML: how long only reading it takes (PyYAML with libyaml)."""
    import yaml

    path.write_text(yaml.dump(raw, Dumper=getattr(yaml, "CSafeDumper", yaml.SafeDumper)))
    started = time.perf_counter()
    read_plan_document(path)
    return time.perf_counter() - started


async def main(n: int, db_url: str, out: Path, profile_dir: Path | None) -> None:
    settings = load_settings()
    runtime = AsteriskRuntime(settings)
    engine = store_engine.make_engine(db_url)
    ami = Ami.from_settings(settings, timeout=600)
    await ami.connect()
    try:
        target = ApplyTarget(DialplanFiles(runtime.etc_dir), runtime.sounds_dir, runtime.asterisk_path, ami)
        now = datetime.now(AMSTERDAM)
        raw = many_numbers(n)
        result: dict[str, Any] = {"numbers": n, "stages": _stages(raw, target, now)}

        plan_file = out.with_suffix(".plan.json")
        result["yaml_load_s"] = _yaml_load_seconds(raw, out.with_suffix(".plan.yaml"))
        full_s, report = await _apply(raw, engine, target, now, plan_file)
        result["full"] = {"seconds": full_s, "how": report.how, "asterisk_s": report.reload_seconds,
                          "files": report.files}

        changed = copy.deepcopy(raw)
        changed["numbers"][n // 2]["routings"]["main"][0]["ring_time"] = 25
        one_s, report = await _apply(changed, engine, target, now, plan_file)
        result["one_change"] = {"seconds": one_s, "how": report.how, "asterisk_s": report.reload_seconds}

        centre = copy.deepcopy(changed)
        centre["queues"]["desk"] |= {"agents": ["ann", "bob"], "max_wait": 45}
        centre_s, report = await _apply(centre, engine, target, now, plan_file)
        result["centre_change"] = {"seconds": centre_s, "how": report.how, "asterisk_s": report.reload_seconds}

        # The API's PUT of one number: no plan file; the stored plan gets the one entry.
        e164 = parse_service_number(centre["numbers"][n // 4]["number"]).e164
        entry = copy.deepcopy(centre["numbers"][n // 4])
        entry["routings"]["main"][0]["ring_time"] = 35
        started = time.perf_counter()
        with Session(engine) as session:
            report, _ = await number_changes.put_number(session, target, "bulk", e164, entry, now=now)
        result["api_one_number"] = {"seconds": time.perf_counter() - started, "how": report.how,
                                    "asterisk_s": report.reload_seconds}

        reload_s = await reload_dialplan(ami, n)
        result["plain_reload_s"] = reload_s

        result["rss_kb"] = rss_kb(_self_pid())
        result["hwm_kb"] = rss_kb(_self_pid(), "VmHWM")
        result["asterisk_rss_kb"] = rss_kb(int(runtime.status()["pid"]))

        if profile_dir is not None:
            from pyinstrument import Profiler

            profile_dir.mkdir(parents=True, exist_ok=True)
            again = copy.deepcopy(centre)  # from the last applied document: only this number differs
            again["numbers"][n // 3]["routings"]["main"][0]["ring_time"] = 30
            profiler = Profiler(interval=0.002, async_mode="enabled")
            profiler.start()
            await _apply(again, engine, target, now, plan_file)
            profiler.stop()
            (profile_dir / f"profile-one-change-{n}.txt").write_text(
                profiler.output_text(unicode=False, color=False, show_all=False))
            result["profile_one_change"] = str(profile_dir / f"profile-one-change-{n}.txt")
            result["hot_one_change"] = _hot(profiler)
            result["breakdown_one_change"] = _breakdown(profiler)
            profiler = Profiler(interval=0.002)
            profiler.start()
            _stages(raw, target, now)
            profiler.stop()
            (profile_dir / f"profile-compile-{n}.txt").write_text(
                profiler.output_text(unicode=False, color=False, show_all=False))
            result["hot_compile"] = _hot(profiler)
        out.write_text(json.dumps(result, indent=2))
    finally:
        ami.close()


def _self_pid() -> int:
    import os

    return os.getpid()


def _bucket(path: str | None) -> str:
    if not path:
        return "waiting (await / idle)"
    if "site-packages/" in path:
        return path.split("site-packages/", 1)[1].split("/", 1)[0].removesuffix(".py")
    if "/orchestrator/" in path:
        return "orchestrator/" + path.rsplit("/orchestrator/", 1)[1]
    if path.endswith(".j2"):
        return "dialplan_templates (Jinja2 code)"
    if "/tests/" in path:
        return "tests (benchmark driver)"
    return "stdlib " + Path(path).name


def _hot(profiler: Any, top: int = 8) -> list[tuple[str, float]]:
    """Self time grouped by library (or our own module), as shares of the total: what dominates."""
    root = profiler.last_session.root_frame()
    if root is None or not root.time:
        return []
    acc: dict[str, float] = {}

    def walk(frame: Any, parent_key: str) -> None:
        own = frame.time - sum(c.time for c in frame.children)
        if frame.is_synthetic:  # "[self]" belongs to its parent; "[await]" / "[out-of-context]" is waiting
            key = parent_key if frame.function == "[self]" else "waiting (await / idle)"
        elif frame.file_path == "<built-in>":  # C functions count for whoever called them, except the
            key = "waiting (await / idle)" if "select" in frame.function or "poll" in frame.function \
                else parent_key  # event loop's wait for I/O
        else:
            key = _bucket(frame.file_path)
        acc[key] = acc.get(key, 0.0) + max(own, 0.0)
        for child in frame.children:
            walk(child, key)

    walk(root, "?")
    ranked = sorted(acc.items(), key=lambda kv: -kv[1])
    return [(k, round(v / root.time, 3)) for k, v in ranked[:top]]


def _breakdown(profiler: Any) -> list[tuple[str, float]]:
    """The steps of one `orchestrator apply` (children of apply_document, and the plan file read
    before it) as shares of the profiled total."""
    root = profiler.last_session.root_frame()
    if root is None or not root.time:
        return []
    steps: dict[str, float] = {}

    def find(frame: Any, name: str) -> Any:
        if frame.function == name:
            return frame
        for child in frame.children:
            hit = find(child, name)
            if hit is not None:
                return hit
        return None

    worker = find(root, "_apply")
    if worker is None:
        return []
    for child in worker.children:
        if child.function == "apply_document":
            for step in child.children:
                steps[step.function] = steps.get(step.function, 0.0) + step.time
        elif not child.is_synthetic:
            steps[child.function] = steps.get(child.function, 0.0) + child.time
    ranked = sorted(steps.items(), key=lambda kv: -kv[1])
    return [(k, round(v / worker.time, 3)) for k, v in ranked if v / worker.time >= 0.01]


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--numbers", type=int, required=True)
    ap.add_argument("--db", required=True)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--profile", type=Path, default=None)
    a = ap.parse_args()
    asyncio.run(main(a.numbers, a.db, a.out, a.profile))
