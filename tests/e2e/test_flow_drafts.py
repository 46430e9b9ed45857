"""Draft call flows on the real Asterisk 22 (issue 15): ``try`` puts a draft on the tenant's 088
test number, which answers with it (sipp pressing real RFC 4733 keys) while the live numbers run
the old flow; ``promote`` makes it the live flow and links a live number to it. Bad input is
refused with the field named, and nothing is stored or loaded."""

from __future__ import annotations

import copy
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from orchestrator.domain.plan import AMSTERDAM
from orchestrator.errors import NotFound, PlanInvalid
from orchestrator.services.apply import apply_document
from orchestrator.services.flow_drafts import promote_flow, try_flow
from orchestrator.store import plans as plan_store
from tests.e2e.flow_bench import TIMEOUT, FlowBench, bench, sim_path
from tests.flow_plans import flow_plan

pytestmark = pytest.mark.e2e

TEST = "0883009999"  # the lent 088 test number
SALES = ["+31205550011"]
BILLING = ["+31205550023", "+31205550031"]  # the first does not answer, the second does


async def routes(b: FlowBench, cases: list[tuple[str, str, str]]) -> list[list[str]]:
    """Place the calls; each took the path the simulator predicts; the numbers each dialled."""
    out = []
    for case, (p, path, dialled) in zip(cases, await b.calls(cases), strict=True):
        assert path == sim_path(p), f"{case}: Asterisk {path}, simulator {sim_path(p)}; {b.trace(case[1])}"
        assert dialled == p["destinations"], case
        out.append(dialled)
    return out


async def test_draft_on_the_test_number_then_promoted(runtime: Any, carrier: Any, tmp_path: Path) -> None:
    document = flow_plan("flowdraft", TIMEOUT)
    document["test_number"] = "088 300 9999"
    document["numbers"].append({"number": "0800 300 0003", "package": "premium", "routings": {
        "main": [{"number": SALES[0]}]}, "active": "main"})
    b, target = await bench(runtime, tmp_path, document)
    now = datetime.now(AMSTERDAM)
    try:
        draft = copy.deepcopy(document["flows"]["support"])
        draft["blocks"]["main"]["exits"]["1"] = "billing"  # was sales

        # Bad input: each error names its field; nothing is stored, nothing reaches Asterisk.
        version, stored = target.files.current(), plan_store.load_plan(b.session, "flowdraft")
        broken = copy.deepcopy(draft)
        broken["blocks"]["main"]["exits"]["1"] = "nowhere"
        with pytest.raises(PlanInvalid) as bad:
            await try_flow(b.session, target, "flowdraft", "support", broken, now=now)
        assert "draft.blocks.main.exits.1" in [v.field for v in bad.value.violations]
        with pytest.raises(NotFound, match="has no draft"):
            await promote_flow(b.session, target, "flowdraft", "support", [], now=now)
        with pytest.raises(NotFound, match="no plan"):
            await try_flow(b.session, target, "nosuchtenant", "support", draft, now=now)
        assert target.files.current() == version and plan_store.load_plan(b.session, "flowdraft") == stored

        outcome = await try_flow(b.session, target, "flowdraft", "support", draft, now=now)
        assert outcome.test_number == "+31883009999" and outcome.report.how == "incremental"
        assert outcome.changes == ["flow 'support': menu 'main': key 1 now goes to dial 'billing' instead of 'sales'"]
        b.set_plan(plan_store.load_plan(b.session, "flowdraft"))
        # 010 callers skip the split; the test number runs the draft, the live numbers the old flow.
        assert await routes(b, [(TEST, "0101240001", "1"), ("08003000001", "0101240002", "1"),
                                ("08003000003", "0101240003", "")]) == [BILLING, SALES, SALES]

        # Promote: a number of another tenant is refused, the field named.
        await apply_document({"tenant": "flowother", "numbers": [{"number": "0800 300 0009", "routings": {
            "main": [{"number": SALES[0]}]}, "active": "main"}]}, b.session, target, now=now)
        with pytest.raises(PlanInvalid) as bad:
            await promote_flow(b.session, target, "flowdraft", "support", ["0800 300 0003", "0800 300 0009"],
                               now=now)
        assert [v.field for v in bad.value.violations] == ["numbers[1]"]
        tried = target.files.current()
        outcome = await promote_flow(b.session, target, "flowdraft", "support", ["0800 300 0003"], now=now)
        assert outcome.numbers == ["+318003000001", "+318003000002", "+318003000003"]
        assert target.files.current() != tried and plan_store.load_plan(b.session, "flowother").numbers[0].flow is None
        b.set_plan(plan_store.load_plan(b.session, "flowdraft"))
        assert set(b.plan.flows) == {"support"}
        assert await routes(b, [(TEST, "0101240004", "1"), ("08003000001", "0101240005", "1"),
                                ("08003000003", "0101240006", "1")]) == [BILLING, BILLING, BILLING]
    finally:
        b.ami.close()
        b.session.close()


async def test_a_draft_needs_a_test_number(runtime: Any, carrier: Any, tmp_path: Path) -> None:
    document = flow_plan("flownotest", TIMEOUT)
    b, target = await bench(runtime, tmp_path, document)
    try:
        version = target.files.current()
        with pytest.raises(PlanInvalid) as bad:
            await try_flow(b.session, target, "flownotest", "support", document["flows"]["support"],
                           now=datetime.now(AMSTERDAM))
        assert [v.field for v in bad.value.violations] == ["test_number"]
        assert target.files.current() == version
        assert set(plan_store.load_plan(b.session, "flownotest").flows) == {"support"}
    finally:
        b.ami.close()
        b.session.close()
