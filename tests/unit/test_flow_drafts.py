"""Draft flows in the plan document (domain/flow_drafts.py): pure."""

from __future__ import annotations

import copy
from datetime import datetime

import pytest

from orchestrator.domain.flow_drafts import draft_name, promoted, with_draft
from orchestrator.domain.plan import AMSTERDAM, parse_plan
from orchestrator.domain.rules import validate_plan
from orchestrator.errors import NotFound, PlanInvalid
from tests.flow_plans import flow_plan

NOW = datetime(2026, 12, 7, 10, 0, tzinfo=AMSTERDAM)


def live() -> dict:
    doc = flow_plan("acme")
    doc["test_number"] = "088 999 0000"
    doc["numbers"].append({"number": "0800 300 0003", "package": "premium", "routings": {
        "main": [{"number": "020 555 0011"}]}, "active": "main"})
    return doc


def test_draft_runs_on_the_test_number_only() -> None:
    doc = live()
    draft = copy.deepcopy(doc["flows"]["support"])
    draft["blocks"]["main"]["exits"]["1"] = "billing"
    out = with_draft(doc, "support", draft)
    plan = validate_plan(parse_plan(out), NOW)
    assert plan.flows["support-draft"].blocks["main"].exits["1"] == "billing"
    assert plan.flows["support"].blocks["main"].exits["1"] == "sales"
    assert [(n.number, n.flow) for n in plan.numbers] == [
        ("+318003000001", "support"), ("+318003000002", "support"), ("+318003000003", None),
        ("+31889990000", "support-draft")]
    assert doc == live()  # the input is not changed
    # Another flow's draft replaces this one on the test number.
    again = with_draft(out, "other", draft)
    assert "support-draft" not in again["flows"] and again["numbers"][-1]["flow"] == "other-draft"


def test_promote_replaces_the_flow_and_links_numbers() -> None:
    draft = copy.deepcopy(live()["flows"]["support"])
    draft["blocks"]["main"]["exits"]["1"] = "billing"
    out = promoted(with_draft(live(), "support", draft), "support", ["0800 300 0003"])
    plan = validate_plan(parse_plan(out), NOW)
    assert set(plan.flows) == {"support"} and plan.flows["support"].blocks["main"].exits["1"] == "billing"
    assert {n.number: n.flow for n in plan.numbers} == {
        "+318003000001": "support", "+318003000002": "support", "+318003000003": "support",
        "+31889990000": "support"}
    assert plan.numbers[2].routings == {} and plan.numbers[2].active is None


def test_bad_input_names_the_field() -> None:
    with pytest.raises(PlanInvalid, match="test_number"):
        with_draft(flow_plan("acme"), "support", {})
    with pytest.raises(PlanInvalid, match="^flow"):
        draft_name("Support")
    with pytest.raises(PlanInvalid, match="^flow"):
        draft_name("x-draft")
    with pytest.raises(NotFound):
        promoted(live(), "support", [])
    tried = with_draft(live(), "support", live()["flows"]["support"])
    with pytest.raises(PlanInvalid) as bad:
        promoted(tried, "support", ["0800 300 0009", "088 999 0000", "12"])
    assert [v.field for v in bad.value.violations] == ["numbers[0]", "numbers[1]", "numbers[2]"]
    doc = live()
    doc["flows"]["support-draft"] = doc["flows"]["support"]
    doc["numbers"][2] = {"number": "0800 300 0003", "package": "premium", "flow": "support-draft"}
    with pytest.raises(PlanInvalid, match="flows.support-draft"):
        with_draft(doc, "support", doc["flows"]["support"])
