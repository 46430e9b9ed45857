"""`flow show` (a tree) and `flow export --format json|dot|mermaid` (issue 15)."""

from __future__ import annotations

import json

from orchestrator.domain.flow import Flow
from orchestrator.domain.flow_export import FORMATS, tree
from orchestrator.domain.plan import parse_plan
from tests.flow_plans import flow_plan, menus_flow


def support() -> Flow:
    return parse_plan(flow_plan()).flows["support"]


def test_tree_follows_exits_and_names_each_block_once() -> None:
    text = tree(support(), "support")
    lines = text.splitlines()
    assert lines[0] == "flow 'support' (at most 200 blocks per call, then hangup)"
    assert lines[1] == "  start → time 'hours'"
    assert "          key 1 → dial 'sales' (+31205550011)" in lines
    assert "          key 3 → input 'member' (9 digits, elfproef, list members)" in lines
    assert "              failed → hang up" in lines
    assert "        b → main, see above" in lines  # the second way into main refers back
    described = [ln for ln in lines if "→" in ln and "see above" not in ln and "hang up" not in ln]
    assert len(described) == len(support().blocks)  # every block exactly once


def test_150_nested_menus_print_without_recursion() -> None:
    flow = parse_plan({**flow_plan(), "flows": {"support": menus_flow(150)}, "layout": {}}).flows["support"]
    lines = tree(flow, "support").splitlines()
    assert lines[-1].strip() == "failed → hang up" and any("menu 'm149'" in ln for ln in lines)


def test_json_round_trips_into_a_plan() -> None:
    exported = json.loads(FORMATS["json"](support(), "support"))
    plan = flow_plan()
    plan["flows"] = exported
    assert parse_plan(plan).flows["support"] == support()


def test_dot_and_mermaid_have_every_block_and_every_wired_event() -> None:
    flow = support()
    edges = sum(len(b.exits) for b in flow.blocks.values())
    dot = FORMATS["dot"](flow, "support")
    assert dot.startswith('digraph "support" {') and dot.count(" -> ") == edges + 1  # + the start arrow
    assert '[label="key 3"]' in dot and "hangup [label=\"hang up\"" in dot
    mermaid = FORMATS["mermaid"](flow, "support")
    assert mermaid.startswith("flowchart LR") and mermaid.count("-->") == edges + 1
    assert '-->|"key 1"|' in mermaid
