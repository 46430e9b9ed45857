"""`orchestrator plan` describes flow changes in words (issue 15)."""

from __future__ import annotations

import copy
from datetime import datetime

from orchestrator.domain.diff import changed_numbers, diff_plans, render_changes
from orchestrator.domain.plan import AMSTERDAM, parse_plan
from orchestrator.domain.rules import validate_plan
from tests.flow_plans import flow_plan, intake_flow


def words(old: dict, new: dict) -> list[str]:
    return render_changes(diff_plans(parse_plan(old), parse_plan(new))).splitlines()


def test_menu_key_now_goes_elsewhere_in_words_and_touches_no_number() -> None:
    old = flow_plan()
    new = copy.deepcopy(old)
    new["flows"]["support"]["blocks"]["main"]["exits"]["1"] = "billing"
    validate_plan(parse_plan(new), datetime.now(AMSTERDAM))  # a change that can be applied
    assert words(old, new) == ["flow 'support': menu 'main': key 1 now goes to dial 'billing' instead of 'sales'"]
    assert changed_numbers(parse_plan(old), parse_plan(new)) == set()  # only the flow's file changes


def test_keys_added_removed_hangup_params_and_start() -> None:
    old = flow_plan()
    new = copy.deepcopy(old)
    support = new["flows"]["support"]
    support["blocks"]["main"]["exits"]["0"] = "hangup"
    del support["blocks"]["deeper"]["exits"]["9"]
    support["blocks"]["main"]["params"]["timeout"] = 5
    support["blocks"]["sorry"]["params"]["prompt"] = {"sound": "vm-sorry"}
    del support["blocks"]["sub"]["params"]["back"]
    support["start"] = "main"
    support["max_visits"] = 50
    lines = words(old, new)
    assert "flow 'support': starts at menu 'main' instead of 'hours'" in lines
    assert "flow 'support': at most 50 blocks per call instead of 200" in lines
    assert "flow 'support': menu 'main': key 0 added: goes to hang up" in lines
    assert "flow 'support': menu 'deeper': key 9 removed (went to 'billing')" in lines
    assert "flow 'support': menu 'main': timeout 5 instead of 2" in lines
    assert 'flow \'support\': play \'sorry\': prompt {"sound": "vm-sorry"} instead of {"sound": "vm-goodbye"}' in lines
    assert "flow 'support': menu 'sub': back \"*\" removed (default again)" in lines
    assert "flow 'support': menu 'sub': key * added" not in " ".join(lines)


def test_blocks_and_flows_added_removed_retyped_and_numbers_moved() -> None:
    old = flow_plan()
    new = copy.deepcopy(old)
    new["flows"]["intake"] = intake_flow()
    new["numbers"][1]["flow"] = "intake"
    blocks = new["flows"]["support"]["blocks"]
    blocks["extra"] = {"type": "play", "params": {"prompt": {"sound": "beep"}}, "exits": {"next": "bye"}}
    blocks["sales"] = {"type": "goto", "params": {"flow": "intake"}}
    del blocks["vip"]
    blocks["member"]["exits"]["valid"] = "billing"
    new["lists"] = ["members", "vip"]
    new["layout"] = {"support": {"main": {"x": 99, "y": 20}}}
    lines = words(old, new)
    assert lines[:2] == ["0800 300 0002:", "  - runs flow 'intake' instead of 'support'"]
    assert "flow 'intake' added: 9 blocks, starts at split 'spread'" in lines
    assert "flow 'support': play 'extra' added" in lines
    assert "flow 'support': set 'vip' removed" in lines
    assert "flow 'support': 'sales' is now a goto block instead of a dial block" in lines
    assert "flow 'support': input 'member': valid now goes to dial 'billing' instead of 'vip'" in lines
    assert "flow 'support': boxes moved in the builder (layout only: no call routes differently)" in lines
    assert "list 'vip' added" in lines
    assert changed_numbers(parse_plan(old), parse_plan(new)) == {"+318003000002"}


def test_layout_only_is_named_as_layout_and_nothing_else() -> None:
    old = flow_plan()
    new = copy.deepcopy(old)
    new["layout"]["support"]["sales"] = {"x": 1, "y": 2}
    assert words(old, new) == ["flow 'support': boxes moved in the builder (layout only: no call routes differently)"]
    assert words(old, copy.deepcopy(old)) == ["No changes."]


def test_a_new_tenant_with_flows() -> None:
    text = render_changes(diff_plans(None, parse_plan(flow_plan())))
    assert "0800 300 0001: new\n  - runs flow 'support'" in text
    assert "flow 'support' added: 12 blocks, starts at time 'hours'" in text
    assert "list 'members' added" in text
    assert "boxes moved" not in text
