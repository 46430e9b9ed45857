"""Premium call flows on the real Asterisk 22 (issue 15), part two: a flow change applied while
callers are inside the flow drops none of them and pushes only the flow's file; a flow of 150
nested menus compiles, loads and routes a call through all of them."""

from __future__ import annotations

import asyncio
import copy
import re
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


def version_in_force(shown: str, entry: str) -> str:
    """The flow version context the entry context's one priority sends calls to."""
    found = re.search(rf"Goto\(({re.escape(entry)}\.[0-9a-f]+),start,1\)", shown)
    assert found is not None, shown
    return found.group(1)


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
        entry = await b.ami.command("dialplan show fl-flowdeep-support")  # names the version in force
        shown = await b.ami.command(f"dialplan show {version_in_force(entry, 'fl-flowdeep-support')}")
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


DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def chain_flow(version: str) -> dict[str, Any]:
    """20 decisions, each taking the event named ``version`` (a change renames all 20), with a
    2 s pause after the tenth: a caller in the pause during a change shows a mix of versions."""
    week = {d: [{"start": "00:00", "end": "24:00", "exit": version}] for d in DAYS}
    blocks: dict[str, Any] = {f"c{i}": {"type": "time", "params": {"week": week},
                                        "exits": {version: "pause" if i == 10 else f"c{i + 1}", "closed": "bye"}}
                              for i in range(1, 21)}
    blocks["c20"]["exits"][version] = "bye"
    blocks["pause"] = {"type": "play", "params": {"prompt": {"sound": "silence/2"}, "barge_in": True},
                       "exits": {"next": "c11"}}
    blocks["bye"] = {"type": "hangup"}
    return {"start": "c1", "blocks": blocks}


async def test_calls_during_a_flow_change_see_one_version_and_none_drops(
        runtime: Any, carrier: Any, tmp_path: Path) -> None:
    """Calls placed continuously while a flow changes: each runs the old or the new flow from
    start to end, never a mix, and every call ends where its flow ends it. The old version stays
    in Asterisk while calls are in it and goes at the next apply once they ended."""
    document = {"tenant": "flowatomic", "flows": {"chain": chain_flow("old")},
                "numbers": [{"number": "0800 300 0001", "package": "premium", "flow": "chain"}]}
    b, target = await bench(runtime, tmp_path, document)
    cases = [("08003000001", f"01012500{i:02d}", "") for i in range(20)]
    try:
        entry = await b.ami.command("dialplan show fl-flowatomic-chain")
        old = version_in_force(entry, "fl-flowatomic-chain")
        calls = asyncio.create_task(b.calls(cases, parallel=5))
        # The first callers are in the pause (after ten old decisions) and the next ones are coming.
        await b.events.wait_for(lambda e: e.get("CallerIDNum") == cases[6][1], timeout=60)
        changed = {**document, "flows": {"chain": chain_flow("new")}}
        report = await apply_document(changed, b.session, target, now=datetime.now(AMSTERDAM))
        switched = time.time()
        assert report.how == "incremental"
        assert any("earlier flow versions keep running" in n for n in report.notes), report.notes
        results = await calls

        versions = []
        for (_n, caller, _k), (_p, path, _d), call in zip(cases, results, b.last_calls, strict=True):
            taken = [e for blk, e in path if blk.startswith("c")]
            assert len(taken) == 20 and len(set(taken)) == 1, f"{caller}: {path}; {b.trace(caller)}"
            assert path[-1] == ("bye", "end") and call.final_code == 200, f"{caller}: {path}, {call}"
            last = max(float(e["Timestamp"]) for e in b.events.events
                       if e.get("UserEvent") == "SvcFlow" and e.get("CallerIDNum") == caller)
            versions.append((taken[0], last > switched))
        assert ("old", True) in versions  # a caller inside the old flow at the switch finished on it
        assert ("new", True) in versions and ("old", False) in versions

        entry = await b.ami.command("dialplan show fl-flowatomic-chain")
        new = version_in_force(entry, "fl-flowatomic-chain")
        assert new != old and await b.ami.has_context(old)
        # Its calls have ended: the next apply removes the old version.
        assert (await apply_document(changed, b.session, target, now=datetime.now(AMSTERDAM))).how == "unchanged"
        assert not await b.ami.has_context(old) and await b.ami.has_context(new)
        await b.ami.remove_context(old, missing_ok=True)  # gone already (say, a full reload since): no error
        # Why a full reload forgets the retiring versions: it removes contexts added over AMI.
        await b.ami.extension_add(old, "start", 1, "NoOp", "")
        assert await b.ami.has_context(old)
        runtime.rx("dialplan reload")
        assert not await b.ami.has_context(old) and await b.ami.has_context(new)
        assert target.files.retiring() == []
    finally:
        b.ami.close()
        b.session.close()
