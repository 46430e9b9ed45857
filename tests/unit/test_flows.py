"""Call flows (issue 15), pure parts: rules name flow, block and field; loops need a waiting
block; limits; the simulator's key stream; the 11-check and Luhn."""

from __future__ import annotations

import copy
from typing import Any

from orchestrator.domain.compile import compile_plan
from orchestrator.domain.flow_compile import compile_flows, elfproef_ok, luhn_ok
from orchestrator.domain.flow_simulate import parse_keys, simulate_number
from orchestrator.domain.plan import parse_plan
from orchestrator.domain.rules import check_plan
from orchestrator.domain.simulate import CallScenario, DestinationBehaviour
from orchestrator.generate.render import render_dialplan
from tests.flow_plans import flow_plan, menus_flow
from tests.plans import NOW


def violations(data: dict[str, Any]) -> list[str]:
    return [str(v) for v in check_plan(parse_plan(data), NOW)]


def test_example_plan_is_valid() -> None:
    assert violations(flow_plan()) == []


def test_errors_name_flow_block_and_field() -> None:
    data = flow_plan()
    blocks = data["flows"]["support"]["blocks"]
    del blocks["main"]["exits"]["failed"]
    blocks["sub"]["exits"]["2"] = "nowhere"
    blocks["member"]["params"]["timeout"] = 0
    blocks["sales"]["exits"]["busy"] = "bye"
    blocks["lonely"] = {"type": "hangup"}
    blocks["weird"] = {"type": "teleport"}
    out = violations(data)
    assert "flows.support.blocks.main.exits.failed: event 'failed' of this menu block is not wired " \
           "(to a block or to 'hangup')" in out
    assert any(v.startswith("flows.support.blocks.sub.exits.2: 'nowhere' is not a block") for v in out)
    assert any(v.startswith("flows.support.blocks.member.params.timeout:") for v in out)
    assert any(v.startswith("flows.support.blocks.sales.exits.busy: a dial block has no event 'busy'") for v in out)
    assert "flows.support.blocks.lonely: unreachable: no event leads here from the start" in out
    assert any(v.startswith("flows.support.blocks.weird.type: 'teleport' is not a block type") for v in out)


def test_block_ids_asterisk_would_take_for_one_extension_are_refused() -> None:
    # Asterisk ignores '-' in extension names: b-on-hold and b-onhold are one extension, b-over is
    # the flow's own b--over (the visit limit's fallback).
    data = flow_plan()
    blocks = data["flows"]["support"]["blocks"]
    blocks["on-hold"] = {"type": "hangup"}
    blocks["onhold"] = {"type": "hangup"}
    blocks["over"] = {"type": "hangup"}
    blocks["hours"]["exits"]["closed"] = "on-hold"
    blocks["sales"]["exits"]["failed"] = "onhold"
    blocks["member"]["exits"]["timeout"] = "over"
    out = violations(data)
    assert ("flows.support.blocks.onhold: 'onhold' and 'on-hold' differ only in '-', which Asterisk ignores "
            "in extension names; rename one") in out
    assert any(v.startswith("flows.support.blocks.over: 'over' is taken by the flow itself") for v in out), out
    assert len(out) == 2, out


def test_a_loop_without_a_menu_or_input_is_refused_also_across_flows() -> None:
    data = flow_plan()
    data["flows"]["other"] = {"start": "back", "blocks": {"back": {"type": "goto", "params": {"flow": "support"}}}}
    data["flows"]["support"]["blocks"]["hours"]["exits"]["closed"] = "jump"
    data["flows"]["support"]["blocks"]["jump"] = {"type": "goto", "params": {"flow": "other"}}
    out = violations(data)
    assert len(out) == 1 and "loop without a menu or input" in out[0] and "other.back" in out[0], out


def test_number_with_a_flow_is_premium_and_the_flow_exists() -> None:
    data = flow_plan()
    data["numbers"][0]["package"] = "standaard"
    data["numbers"][1]["flow"] = "missing"
    out = violations(data)
    assert "numbers[0].flow: call flows are in the premium package, not standaard" in out
    assert "numbers[1].flow: flow 'missing' is not defined in this plan's flows" in out


def test_150_menus_compile_and_151_are_refused() -> None:
    data = flow_plan()
    data["flows"]["support"] = menus_flow(150)
    assert violations(data) == []
    plan = parse_plan(data)
    flows = compile_flows(plan.tenant, plan.flows, {})
    files = render_dialplan(compile_plan(plan, {}), call_flows=flows)
    assert files["fl-flowco-support.conf"].count("Read(SVC_KEY") == 150
    too_many = copy.deepcopy(data)
    too_many["flows"]["support"] = menus_flow(151)
    assert "flows.support.blocks: at most 150 menus per flow, this has 151" in violations(too_many)


def test_simulator_reads_keys_as_one_stream() -> None:
    plan = parse_plan(flow_plan())
    number = compile_plan(plan, {})[0]
    flows = {f.name: f for f in compile_flows(plan.tenant, plan.flows, {})}
    lists = {"members": frozenset({"123456782"})}
    noanswer = {"+31205550023": DestinationBehaviour.NOANSWER}
    out = simulate_number(number, flows, CallScenario("0101234567", NOW, behaviour=noanswer),
                          parse_keys("3,123456782"), lists)
    path = [(b["block"], b["event"]) for b in out["blocks"]]
    assert ("member", "valid") in path and out["values"]["priority"] == "123456782"
    assert out["destinations"] == ["+31205550023", "+31205550031"]
    # A caller who keeps choosing a loop is stopped by the visit counter, then the fallback runs.
    loop = simulate_number(number, flows, CallScenario("0101234567", NOW), parse_keys("2,*" * 200), lists)
    assert [b["event"] for b in loop["blocks"]][-2:] == ["over", "end"]


def test_luhn_and_elfproef() -> None:
    assert luhn_ok("4539578763621486") and not luhn_ok("4539578763621487")
    assert elfproef_ok("123456782") and not elfproef_ok("123456783")


def test_a_prompt_sound_is_a_builtin_name_never_a_path() -> None:
    """A flow's {sound: ...} reaches Playback: another tenant's recording or a path is refused."""
    for bad in ("acme/welcome", "/var/spool/asterisk/recording/x", "nope-not-a-sound"):
        data = flow_plan()
        data["flows"]["support"]["blocks"]["sorry"]["params"]["prompt"] = {"sound": bad}
        found = violations(data)
        assert len(found) == 1 and found[0].startswith("flows.support.blocks.sorry.params.prompt"), found
        assert "built-in sounds" in found[0]
