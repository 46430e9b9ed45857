"""Premium call flows on the real Asterisk 22 (issue 15), part two: a flow change applied while
callers are inside the flow drops none of them and pushes only the flow's file; a flow of 150
nested menus compiles, loads and routes a call through all of them."""

from __future__ import annotations

import asyncio
import copy
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from orchestrator.domain.plan import AMSTERDAM
from orchestrator.services.apply import apply_document
from orchestrator.store import plans as plan_store
from orchestrator.store import versions as version_store
from tests.e2e.flow_bench import TIMEOUT, bench, forced_splits, sim_path
from tests.flow_plans import flow_plan, menus_flow

pytestmark = pytest.mark.e2e


def reload_time(runtime: Any) -> str:
    return next(ln for ln in runtime.rx("core show settings").splitlines() if "Last reload time" in ln)


async def test_flow_change_during_live_calls_drops_none_and_pushes_only_the_flow(
        runtime: Any, carrier: Any, tmp_path: Path) -> None:
    document = flow_plan("flowlive", TIMEOUT)
    b, target = await bench(runtime, tmp_path, document)
    n1, n2 = "08003000001", "08003000002"
    cases = [
        (n1, "0201230001", "1"),  # answered by sales, held through the change
        (n2, "0201230002", ""),  # waiting in the main menu: three timeouts, then goodbye
        (n1, "0201230003", "2,1"),  # two menus deep, then silence there
        (n1, "0101230004", "3,123456782"),  # an input (not on the list: invalid)
    ]
    try:
        # The answered call is held until after the apply (hold=None, then release_answered()).
        calls = asyncio.create_task(b.calls(cases, hold=None))
        for _n, caller, _k in cases:  # every caller is inside the flow: the main menu took a key or timed out
            await b.events.wait_for(lambda e, c=caller: e.get("UserEvent") == "SvcFlow"
                                    and e.get("CallerIDNum") == c and e.get("Block") == "main", timeout=30)
        assert len(b.events.channels_up()) >= len(cases)

        files = target.files
        before_version, before_reload = files.current(), reload_time(runtime)
        changed = copy.deepcopy(document)
        changed["flows"]["support"]["blocks"]["main"]["exits"]["1"] = "billing"  # was sales
        changed["layout"] = {"support": {"main": {"x": 300, "y": 5}}}
        report = await apply_document(changed, b.session, target, now=datetime.now(AMSTERDAM))
        assert report.how == "incremental" and reload_time(runtime) == before_reload
        now_version = files.current()

        def inode(version: Any, name: str) -> int:
            return files.locate(version, name).stat().st_ino

        assert inode(now_version, "fl-flowlive-support.conf") != inode(before_version, "fl-flowlive-support.conf")
        for same in ("n-318003000001.conf", "n-318003000002.conf", "entry.conf", "lib.conf"):
            assert inode(now_version, same) == inode(before_version, same)  # not rewritten, not pushed
        assert "applied: 2 numbers, 0 of them new or changed" in version_store.history(
            b.session, tenant="flowlive")[0].summary

        applied_at = time.time()
        b.release_answered()
        results = await calls
        at = datetime.now(AMSTERDAM)
        for case, (_p, path, dialled), call in zip(cases, results, b.last_calls, strict=True):
            p = b.predict(*case, at, split_state=forced_splits(b, path))
            assert call.final_code == 200, f"{case}: {call}"
            assert path == sim_path(p), f"{case}: Asterisk {path}, simulator {sim_path(p)}; {b.trace(case[1])}"
            assert dialled == p["destinations"]
        # The answered call was up through the apply: it ended when the bench hung it up, after.
        [answer] = [e for e in b.events.events if e.get("Event") == "DialEnd" and e.get("DialStatus") == "ANSWER"
                    and e.get("CallerIDNum") == cases[0][1]]
        [ended] = [e for e in b.events.events if e.get("Event") == "Hangup" and e.get("Channel") == answer["Channel"]]
        assert float(ended["Timestamp"]) >= applied_at, ended

        # They pressed 1 before the change, the old flow routed them; the next caller who presses
        # 1 in the main menu is sent where the new flow says.
        b.set_plan(plan_store.load_plan(b.session, "flowlive"))
        [(p, path, dialled)] = await b.calls([(n1, "0101230005", "1")])  # 010: no split
        assert ("main", "1") in path and path == sim_path(p)
        assert dialled == ["+31205550023", "+31205550031"] == p["destinations"]
    finally:
        b.ami.close()
        b.session.close()


async def test_150_nested_menus_load_and_route_a_call(runtime: Any, carrier: Any, tmp_path: Path) -> None:
    document = flow_plan("flowdeep", TIMEOUT)
    document["flows"]["support"] = menus_flow(150, TIMEOUT)
    document["layout"] = {}
    document["lists"] = []
    b, _target = await bench(runtime, tmp_path, document)
    try:
        shown = await b.ami.command("dialplan show fl-flowdeep-support")
        assert "b-m149" in shown and shown.count("Read(SVC_KEY") == 150
        # Down to the 150th menu, back up two with *, down again, then the last menu's 1 dials.
        keys = ",".join(["1"] * 149 + ["*", "*", "1", "1", "1"])
        [(p, path, dialled)] = await b.calls([("08003000001", "0201239999", keys)])
        assert path == sim_path(p), f"Asterisk {path[-6:]}, simulator {sim_path(p)[-6:]}"
        assert len([1 for _blk, e in path if e == "1"]) == 152 and path.count(("m149", "back")) == 1
        assert dialled == ["+31205550011"] == p["destinations"]
    finally:
        b.ami.close()
        b.session.close()
