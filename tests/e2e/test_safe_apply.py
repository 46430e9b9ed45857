"""Safe apply end to end: history and rollback against the real Asterisk, and an apply while 20
calls are up drops none of them."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

import pytest
from sqlmodel import Session

from orchestrator.domain.plan import AMSTERDAM, parse_plan
from orchestrator.services.apply import apply_plan
from orchestrator.services.rollback import rollback
from orchestrator.store import engine as store_engine
from orchestrator.store import plans as plan_store
from orchestrator.store import tenants as tenant_store
from orchestrator.store import versions as version_store
from tests.e2e.events import EventLog, connect, until
from tests.harness.sipp import place_call, place_calls

pytestmark = pytest.mark.e2e

V1, V2 = "+31205550111", "+31205550221"


def plan(dest: str) -> dict[str, Any]:
    return {"tenant": "safe", "numbers": [
        {"number": "0800 300 0001", "routings": {"main": [{"number": dest}]}, "active": "main"}]}


@pytest.fixture
async def stack(runtime: Any, carrier: Any, tmp_path: Any):
    engine = store_engine.make_engine(f"sqlite:///{tmp_path / 'safe.db'}")
    ami, events, target = await connect(runtime)
    yield {"runtime": runtime, "carrier": carrier, "engine": engine, "target": target, "tmp": tmp_path,
           "events": events}
    ami.close()


async def apply(stack: dict[str, Any], data: dict[str, Any]) -> Any:
    with Session(stack["engine"]) as session:
        return await apply_plan(parse_plan(data), session, stack["target"], now=datetime.now(AMSTERDAM))


async def rings(stack: dict[str, Any]) -> list[str]:
    stack["carrier"].clear()
    result = await asyncio.to_thread(place_call, stack["runtime"].settings.sip_port, "08003000001", "0201234567",
                                     hold_s=0.2, workdir=stack["tmp"])
    assert result.final_code == 200
    return stack["carrier"].invites()


async def test_history_and_rollback(stack: dict[str, Any]) -> None:
    await apply(stack, plan(V1))
    assert await rings(stack) == [V1]
    await apply(stack, plan(V2))
    assert await rings(stack) == [V2]
    with Session(stack["engine"]) as session:
        report = await rollback(None, "safe", session, stack["target"], now=datetime.now(AMSTERDAM))
        assert report.verified_contexts >= 1 and report.how in ("incremental", "full reload")
        assert plan_store.load_plan(session, "safe").numbers[0].routings["main"][0].number == V1
        versions = version_store.history(session, tenant="safe")
    assert await rings(stack) == [V1]
    kinds = [v.summary.split(":")[0] for v in versions]
    assert kinds == [f"rollback to version {versions[2].id}", "applied", "applied"]


async def test_apply_during_20_calls_drops_none(stack: dict[str, Any]) -> None:
    await apply(stack, plan(V1))
    hold = 8.0
    events: EventLog = stack["events"]
    since = len(events.events)
    calls = asyncio.create_task(asyncio.to_thread(
        place_calls, stack["runtime"].settings.sip_port, "08003000001", "0201234567", count=20, hold_s=hold,
        workdir=stack["tmp"]))

    def answered() -> int:
        return sum(1 for e in events.events[since:] if e.get("Event") == "DialEnd" and e.get("DialStatus") == "ANSWER")
    await until(lambda: answered() == 20, hold - 1, "all 20 calls answered and talking")
    report = await apply(stack, plan(V2))  # full generate + reload under load
    assert report.reload_seconds is not None
    results = await calls
    assert [r.final_code for r in results] == [200] * 20
    # Each call lasted its full hold: the caller hung up, not Asterisk.
    assert min(r.duration_s for r in results) >= hold
    assert await rings(stack) == [V2]


def reload_time(stack: dict[str, Any]) -> str:
    return next(ln for ln in stack["runtime"].rx("core show settings").splitlines() if "Last reload time" in ln)


async def test_incremental_apply_touches_only_the_changed_number(stack: dict[str, Any]) -> None:
    two = plan(V1)
    two["numbers"].append({"number": "0800 300 0002", "routings": {"main": [{"number": V1}]}, "active": "main"})
    await apply(stack, two)
    before = reload_time(stack)
    two["numbers"][0]["routings"]["main"] = [{"number": V2}]
    report = await apply(stack, two)
    assert report.how == "incremental"
    assert reload_time(stack) == before  # no full dialplan reload happened
    assert await rings(stack) == [V2]
    # The files say the same: a full reload afterwards keeps the new routing.
    stack["runtime"].rx("dialplan reload")
    assert await rings(stack) == [V2]


async def test_try_on_the_test_number_then_promote(stack: dict[str, Any]) -> None:
    from orchestrator.services.drafts import promote, try_draft

    live = plan(V1) | {"test_number": "088 300 9991"}
    await apply(stack, live)
    draft = plan(V2) | {"test_number": "088 300 9991"}
    with Session(stack["engine"]) as session:
        await try_draft(parse_plan(draft), "0800 300 0001", session, stack["target"], now=datetime.now(AMSTERDAM))
    assert await rings(stack) == [V1]  # the live number is untouched
    stack["carrier"].clear()
    trial = await asyncio.to_thread(place_call, stack["runtime"].settings.sip_port, "0883009991", "0201234567",
                                    hold_s=0.2, workdir=stack["tmp"])
    assert trial.final_code == 200 and stack["carrier"].invites() == [V2]
    with Session(stack["engine"]) as session:
        await promote("safe", "0800 300 0001", session, stack["target"], now=datetime.now(AMSTERDAM))
    assert await rings(stack) == [V2]


async def test_only_changed_numbers_are_rendered_and_pushed(stack: dict[str, Any]) -> None:
    """An apply parses, checks and renders only the entries that changed since the last apply
    (domain/digest.py); the other numbers' files are the previous version's, hard-linked."""
    from orchestrator.errors import PlanInvalid
    from orchestrator.services.apply import apply_document

    def entry(i: int, dest: str) -> dict[str, Any]:
        return {"number": f"0800 300 000{i}", "routings": {"main": [{"number": dest}]}, "active": "main"}

    async def apply_doc(doc: dict[str, Any], **kw: Any) -> Any:
        with Session(stack["engine"]) as session:
            return await apply_document(doc, session, stack["target"], now=datetime.now(AMSTERDAM), **kw)

    doc = {"tenant": "safe", "numbers": [entry(1, V1), entry(2, V1), entry(3, V1)]}
    await apply_doc(doc)
    with Session(stack["engine"]) as session:  # a new database knows nothing of the files on disk
        assert version_store.history(session, tenant="safe")[0].summary == "applied: 3 numbers, full rebuild"
    before = stack["target"].files.current()

    doc["numbers"][0] = entry(1, V2)
    report = await apply_doc(doc)
    assert report.how == "incremental" and report.numbers == 3
    now = stack["target"].files.current()
    files = stack["target"].files

    def inode(version: Any, name: str) -> int:
        return files.locate(version, name).stat().st_ino

    assert inode(now, "n-318003000001.conf") != inode(before, "n-318003000001.conf")
    for same in ("n-318003000002.conf", "n-318003000003.conf", "lib.conf"):
        assert inode(now, same) == inode(before, same)  # not rewritten
    # Buckets of unchanged numbers are shared between the versions, not copied.
    assert (now / "nb-02").resolve() == (before / "nb-02").resolve()
    assert (now / "nb-01").resolve() != (before / "nb-01").resolve()
    assert await rings(stack) == [V2]
    with Session(stack["engine"]) as session:
        summary = version_store.history(session, tenant="safe")[0].summary
        assert summary == "applied: 3 numbers, 1 of them new or changed"
        assert [n.routings["main"][0].number for n in plan_store.load_plan(session, "safe").numbers] == [V2, V1, V1]

    # A bad entry is reported at its place in the whole document, and nothing changes.
    bad = {**doc, "numbers": [doc["numbers"][0], entry(2, "0906 123 4567"), doc["numbers"][2]]}
    with pytest.raises(PlanInvalid, match=r"numbers\[1\]\.routings\.main"):
        await apply_doc(bad)
    assert stack["target"].files.current() == now

    # A number that left the plan leaves Asterisk and the files.
    doc["numbers"].pop()
    report = await apply_doc(doc)
    assert report.how == "incremental"
    assert not files.locate(files.current(), "n-318003000003.conf").exists()
    assert "There is no existence" in stack["runtime"].rx("dialplan show svc-318003000003")
    with Session(stack["engine"]) as session:
        assert sorted(tenant_store.tenant_numbers(session, "safe")) == ["+318003000001", "+318003000002"]

    # A full rebuild stays available.
    assert (await apply_doc(doc, full=True)).how == "full reload"
    assert await rings(stack) == [V2]

    # A tenant-level change (here the recording retention) renders every number again.
    await apply_doc(doc | {"recording_retention": "7y"})
    with Session(stack["engine"]) as session:
        assert version_store.history(session, tenant="safe")[0].summary == "applied: 2 numbers, full rebuild"


async def test_call_centre_change_renders_the_call_centre_not_the_numbers(stack: dict[str, Any]) -> None:
    """Agents, strategy and limits live in the call-centre file: changing them leaves every number
    file alone (hard-linked), pushes the call centre and reloads the queues; the next call follows."""
    from orchestrator.services.apply import apply_document

    async def apply_doc(doc: dict[str, Any]) -> Any:
        with Session(stack["engine"]) as session:
            return await apply_document(doc, session, stack["target"], now=datetime.now(AMSTERDAM))

    async def answered_by() -> list[str]:
        stack["carrier"].clear()
        result = await asyncio.to_thread(place_call, stack["runtime"].settings.sip_port, "08003000001",
                                         "0201234567", hold_s=2.0, workdir=stack["tmp"])
        assert result.final_code == 200
        return stack["carrier"].invites()

    doc = {"tenant": "safe", "agents": {"ann": {"number": V1}, "bob": {"number": V2}},
           "queues": {"desk": {"agents": ["ann"], "strategy": "fixed", "ring_time": 5}},
           "numbers": [{"number": f"0800 300 000{i}", "routings": {"main": [{"number": "queue:desk"}]},
                        "active": "main"} for i in (1, 2)]}
    await apply_doc(doc)
    assert await answered_by() == [V1]
    files = stack["target"].files
    before = files.current()
    doc["queues"]["desk"]["agents"] = ["bob"]
    reloads = reload_time(stack)
    report = await apply_doc(doc)
    # Queue members are queue configuration; of the dialplan only the restart list of queue
    # members (svc-agent-restore in agentcodes.conf) changes, pushed over AMI.
    assert report.how == "incremental"
    assert files.locate(files.current(), "agentcodes.conf").stat().st_ino != \
        files.locate(before, "agentcodes.conf").stat().st_ino
    assert reload_time(stack) == reloads
    now = files.current()
    for name in ("n-318003000001.conf", "n-318003000002.conf", "entry.conf", "cc-safe.conf"):
        assert files.locate(now, name).stat().st_ino == files.locate(before, name).stat().st_ino
    members = [[ln for ln in files.locate(v, "queues.inc").read_text().splitlines() if ln.startswith("member")]
               for v in (before, now)]
    assert [m.split(",")[2] for m in members[0]] == ["ann"] and [m.split(",")[2] for m in members[1]] == ["bob"]
    with Session(stack["engine"]) as session:
        summary = version_store.history(session, tenant="safe")[0].summary
    assert summary == "applied: 2 numbers, 0 of them new or changed, call centre changed"
    assert await answered_by() == [V2]
    # The longest wait is in the call-centre dialplan (Queue()'s timeout): pushed without a reload.
    doc["queues"]["desk"]["max_wait"] = 45
    assert (await apply_doc(doc)).how == "incremental"
    assert reload_time(stack) == reloads
    later = files.current()
    assert "Queue(${SVC_Q},,,,45)" in files.locate(later, "cc-safe.conf").read_text()
    number_file = "n-318003000001.conf"
    assert files.locate(later, number_file).stat().st_ino == files.locate(before, number_file).stat().st_ino
    assert "Queue(${SVC_Q},,,,45)" in stack["runtime"].rx("dialplan show desk@svcq-safe")
    assert await answered_by() == [V2]
    # A queue the numbers jump to is renamed: that is their business too, so they render again.
    doc["queues"] = {"front": doc["queues"]["desk"]}
    doc["numbers"][0]["routings"]["main"] = [{"number": "queue:front"}]
    doc["numbers"][1]["routings"]["main"] = [{"number": "queue:front"}]
    await apply_doc(doc)
    with Session(stack["engine"]) as session:
        assert version_store.history(session, tenant="safe")[0].summary == "applied: 2 numbers, full rebuild"
    assert await answered_by() == [V2]
