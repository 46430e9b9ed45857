"""A flow change scales with the flow, not with the tenant's numbers (issue 15's 200 ms row), and
still checks what it must: real SQLite, the real apply use case writing real files (no Asterisk).

An unchanged flow is not checked again while the tenant-level names it refers to are as
committed; a changed flow, a cycle across flows and a changed tenant-level part still are."""

from __future__ import annotations

import copy
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session

from orchestrator.asterisk.dialplan_files import DialplanFiles
from orchestrator.domain import flow_rules
from orchestrator.domain.plan import AMSTERDAM, parse_plan
from orchestrator.errors import PlanInvalid
from orchestrator.services.apply import ApplyTarget, apply_document
from orchestrator.store import engine as store_engine
from orchestrator.store import plans as plan_store
from orchestrator.store import versions as version_store
from tests.flow_plans import flow_plan, support_flow


def _two_flows() -> dict[str, Any]:
    plan = flow_plan("scope")
    plan["flows"]["other"] = copy.deepcopy(support_flow())
    plan["numbers"].append({"number": "0800 300 0003", "package": "premium", "flow": "other"})
    return plan


@pytest.fixture
def applied(tmp_path: Path) -> tuple[Session, ApplyTarget, dict[str, Any]]:
    engine = store_engine.make_engine(f"sqlite:///{tmp_path / 'svc.db'}")
    target = ApplyTarget(DialplanFiles(tmp_path / "etc"), tmp_path / "sounds", str, None)
    return Session(engine), target, _two_flows()


async def test_only_the_changed_flow_is_checked_and_the_numbers_stay(
        applied: tuple[Session, ApplyTarget, dict[str, Any]], monkeypatch: pytest.MonkeyPatch) -> None:
    session, target, first = applied
    now = datetime.now(AMSTERDAM)
    await apply_document(first, session, target, now=now)
    digests = version_store.number_digests(session, "scope")
    checked: list[str] = []
    real = flow_rules.check_flow

    def spy(name: str, flow: Any, ctx: Any) -> Any:
        checked.append(name)
        return real(name, flow, ctx)

    monkeypatch.setattr(flow_rules, "check_flow", spy)
    second = copy.deepcopy(first)
    second["flows"]["other"]["blocks"]["main"]["exits"]["1"] = "billing"
    report = await apply_document(second, session, target, now=now)
    assert checked == ["other"]
    assert report.numbers == 3
    assert plan_store.load_plan(session, "scope") == parse_plan(second)
    assert version_store.number_digests(session, "scope") == digests


async def test_a_broken_change_to_one_flow_is_refused(applied: tuple[Session, ApplyTarget, dict[str, Any]]) -> None:
    session, target, first = applied
    now = datetime.now(AMSTERDAM)
    await apply_document(first, session, target, now=now)
    second = copy.deepcopy(first)
    second["flows"]["other"]["blocks"]["main"]["exits"]["1"] = "nowhere"
    with pytest.raises(PlanInvalid) as err:
        await apply_document(second, session, target, now=now)
    assert "flows.other.blocks.main" in str(err.value)
    assert plan_store.load_plan(session, "scope") == parse_plan(first)


async def test_a_cycle_through_an_unchanged_flow_is_found(
        applied: tuple[Session, ApplyTarget, dict[str, Any]]) -> None:
    session, target, first = applied
    now = datetime.now(AMSTERDAM)
    support = first["flows"]["support"]["blocks"]
    support["where"]["exits"]["abroad"] = "sorry"
    support["sorry"] = {"type": "goto", "params": {"flow": "other"}}  # no key waited for on the way
    await apply_document(first, session, target, now=now)
    second = copy.deepcopy(first)  # other, changed, now jumps back into the unchanged support: a loop
    other = second["flows"]["other"]["blocks"]
    other["hours"]["exits"]["closed"] = "sorry"
    other["sorry"] = {"type": "goto", "params": {"flow": "support"}}
    with pytest.raises(PlanInvalid) as err:
        await apply_document(second, session, target, now=now)
    assert "loop" in str(err.value) or "cycle" in str(err.value)


async def test_an_unchanged_flow_is_checked_again_when_a_name_it_uses_goes(
        applied: tuple[Session, ApplyTarget, dict[str, Any]]) -> None:
    session, target, first = applied
    now = datetime.now(AMSTERDAM)
    await apply_document(first, session, target, now=now)
    second = copy.deepcopy(first)
    second["lists"] = []  # both flows' input blocks check membership of 'members'
    with pytest.raises(PlanInvalid) as err:
        await apply_document(second, session, target, now=now)
    assert "flows.support.blocks.member" in str(err.value)
    assert plan_store.load_plan(session, "scope") == parse_plan(first)


async def test_a_flow_change_with_a_number_leaving_drops_it(
        applied: tuple[Session, ApplyTarget, dict[str, Any]]) -> None:
    session, target, first = applied
    now = datetime.now(AMSTERDAM)
    await apply_document(first, session, target, now=now)
    second = copy.deepcopy(first)
    second["flows"]["other"]["blocks"]["main"]["exits"]["1"] = "billing"
    second["numbers"].pop(0)
    await apply_document(second, session, target, now=now)
    assert plan_store.load_plan(session, "scope") == parse_plan(second)
    assert sorted(version_store.number_digests(session, "scope")) == ["+318003000002", "+318003000003"]


async def test_the_same_list_of_numbers_keeps_each_entry_in_its_place(
        applied: tuple[Session, ApplyTarget, dict[str, Any]]) -> None:
    """A list as applied before is taken whole (no per-number digest read or made): it keeps every
    number and its digest, also after an earlier apply dropped an entry in front, and the next
    change of a number is found by its digest as before."""
    session, target, first = applied
    now = datetime.now(AMSTERDAM)
    await apply_document(first, session, target, now=now)
    second = copy.deepcopy(first)
    second["numbers"].pop(0)  # the others move up one place
    await apply_document(second, session, target, now=now)
    digests = version_store.number_digests(session, "scope")
    third = copy.deepcopy(second)
    third["flows"]["other"]["blocks"]["main"]["exits"]["1"] = "billing"  # same list of numbers
    report = await apply_document(third, session, target, now=now)
    assert report.numbers == 2
    assert plan_store.load_plan(session, "scope") == parse_plan(third)
    assert version_store.number_digests(session, "scope") == digests
    changed = copy.deepcopy(third)
    changed["numbers"][1]["blocking"] = {"foreign": True}
    progress: list[str] = []
    await apply_document(changed, session, target, now=now, progress=progress.append)
    assert any("1 new or changed (the other 1 are as applied before)" in line for line in progress), progress
    fourth = copy.deepcopy(changed)
    fourth["numbers"].append(copy.deepcopy(fourth["numbers"][1]) | {"blocking": {"anonymous": True}})
    with pytest.raises(PlanInvalid) as err:
        await apply_document(fourth, session, target, now=now)
    assert "numbers[2].number: +318003000003 is already defined at numbers[1]" in str(err.value)
