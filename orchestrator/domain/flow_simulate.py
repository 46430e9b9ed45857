"""Walk a compiled call flow for one hypothetical call with the keys the caller presses.

Keys are one stream, as a phone sends them: ``"1,2,123456#"`` presses 1, 2, 1 … 6, #; commas
only help reading; ``-`` is a pause longer than the block's timeout. When the keys run out the
caller stays silent (every further read times out). A menu reads one key, an input reads up to
its end key or its max digits. This is what the dialplan's Read() does, and the differential
test checks it against real Asterisk with RFC 4733 keys.

Every step names the flow, the block and the event, as the dialplan's SvcFlow user events do:
``{"flow": "support", "block": "main", "event": "2"}``; a dial step adds the destinations rung.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from orchestrator.domain.flow_compile import elfproef_ok, luhn_ok
from orchestrator.domain.flow_ir import (
    FALLBACK_EXT,
    HANGUP_EXT,
    CompiledFlow,
    FCallCentre,
    FDial,
    FGoto,
    FHangup,
    FInput,
    FMenu,
    FNode,
    FPlay,
    FSet,
    FTime,
)
from orchestrator.domain.ir import FlowEntry, NumberFlow, RegionSwitch, Split
from orchestrator.domain.regions import matches
from orchestrator.domain.simulate import CallScenario, DestinationBehaviour, simulate

MAX_STEPS = 100_000  # the visit counter ends every walk long before this


def parse_keys(text: str) -> list[str]:
    """'1,2,12#,-' -> ['1', '2', '1', '2', '#', '-']."""
    out = []
    for ch in text:
        if ch in "0123456789*#-":
            out.append(ch)
        elif ch not in ", ":
            raise ValueError(f"{ch!r} is not a key (0-9, *, #, '-' for a pause, ',' to separate)")
    return out


@dataclass
class FlowCall:
    caller: str  # E.164, "" when withheld
    at: datetime
    keys: list[str]
    withheld: bool = False
    lists: Mapping[str, frozenset[str]] = field(default_factory=dict)  # list name -> members
    behaviour: Mapping[str, DestinationBehaviour] = field(default_factory=dict)  # default: answer
    split_state: dict[str, int] = field(default_factory=dict)  # split family -> its next ticket
    holidays: frozenset[str] = frozenset()


@dataclass
class FlowWalk:
    steps: list[dict[str, Any]] = field(default_factory=list)
    outcome: str = ""  # "answered", "hangup", "queue", "hunt"
    answered_by: str | None = None
    destinations: list[str] = field(default_factory=list)
    values: dict[str, str] = field(default_factory=dict)  # skill, priority, saved digits

    def path(self) -> list[tuple[str, str]]:
        return [(s["block"], s["event"]) for s in self.steps]


class _Keys:
    def __init__(self, keys: list[str]) -> None:
        self.keys, self.pos = keys, 0

    def read(self, max_digits: int, end_key: str) -> str:
        """Digits until the end key (dropped), max_digits, or a pause/the end of the keys."""
        got = ""
        while self.pos < len(self.keys):
            k = self.keys[self.pos]
            self.pos += 1
            if k == "-":
                break
            if end_key and k == end_key:
                return got or (k if max_digits == 1 else "")  # option e: a lone terminator counts
            got += k
            if len(got) >= max_digits:
                break
        return got


def walk(flows: Mapping[str, CompiledFlow], start_flow: str, call: FlowCall) -> FlowWalk:
    w = FlowWalk()
    keys = _Keys(call.keys)
    flow = flows[start_flow]
    node_id = flow.start
    visits, fell_back = 0, False
    menu_stack: list[str] = []

    current = node_id

    def step(event: str, **extra: Any) -> None:
        block = "hangup" if current == HANGUP_EXT else ("-" if current == FALLBACK_EXT else current[2:])
        w.steps.append({"flow": flow.name, "block": block, "event": event, **extra})

    for _ in range(MAX_STEPS):
        current = node_id
        if node_id == HANGUP_EXT:
            step("end")
            w.outcome = w.outcome or "hangup"
            return w
        if node_id == FALLBACK_EXT:
            step("over")
            if fell_back:
                node_id = HANGUP_EXT
                continue
            fell_back, visits, node_id = True, 0, flow.fallback
            continue
        visits += 1
        if visits > flow.max_visits:
            node_id = FALLBACK_EXT
            continue
        node = flow.nodes[node_id]
        if isinstance(node, FGoto):  # the one block that leaves this flow
            step("goto", to=node.flow)
            flow = flows[node.flow]
            node_id = flow.start
            continue
        next_id = _run_block(node, flow, keys, menu_stack, call, w, step)
        if next_id is None:
            return w
        node_id = next_id
    raise AssertionError("flow walk did not end")  # the visit counter makes this unreachable


_Step = Callable[..., None]


def _run_block(node: FNode, flow: CompiledFlow, keys: _Keys, menu_stack: list[str], call: FlowCall,
               w: FlowWalk, step: _Step) -> str | None:
    """One block within the flow: the id of the next block, or None when the walk ends here."""
    match node:
        case FPlay():
            step("next")
            return node.next
        case FMenu():
            return _menu(node, keys, menu_stack, step)
        case FInput():
            return _input(node, keys, call, w, step)
        case RegionSwitch():
            return _region(node, call, step)
        case FTime():
            event, next_id = _time(node, call)
            step(event)
            return next_id
        case Split():
            return _split(node, flow, call, step)
        case FSet():
            _set_values(node, w)
            step("next")
            return node.next
        case FCallCentre():
            # Inside a queue it depends on live agents: the walk stops, handed over.
            step(node.kind, name=node.name, skill=node.skill or w.values.get("skill"))
            w.outcome = node.kind
            return None
        case FDial():
            return _dial(node, call, w, step)
        case FGoto():
            raise AssertionError("walk() follows goto blocks itself")
        case FHangup():
            step("end")
            w.outcome = "hangup"
            return None


def _region(node: RegionSwitch, call: FlowCall, step: _Step) -> str:
    region = None if (call.withheld or not call.caller) else next(
        (e for e in node.exits if matches(call.caller, e[1])), None)
    step(region[0] if region else "other")
    return region[2] if region else node.other


def _split(node: Split, flow: CompiledFlow, call: FlowCall, step: _Step) -> str:
    index, ticket = node.take(call.split_state)
    assert flow.split_events is not None
    step(flow.split_events[node.id][index], ticket=ticket)
    return node.shares[index][1]


def _set_values(node: FSet, w: FlowWalk) -> None:
    if node.skill:
        w.values["skill"] = node.skill
    if node.priority is not None:
        w.values["priority"] = str(node.priority)
    if node.priority_from:
        w.values["priority"] = w.values.get(f"input:{node.priority_from}", "")
    w.values.update({f"value:{k}": v for k, v in node.values})


def _dial(node: FDial, call: FlowCall, w: FlowWalk, step: _Step) -> str | None:
    """Ring the destinations in turn: None when one answers (the walk ends), else the failed block."""
    for number, _ring in node.destinations:
        w.destinations.append(number)
        if call.behaviour.get(number, DestinationBehaviour.ANSWER) is DestinationBehaviour.ANSWER:
            step("answered", destination=number)
            w.outcome, w.answered_by = "answered", number
            return None
    step("failed")
    return node.failed


def _menu(node: FMenu, keys: _Keys, stack: list[str], step: Any) -> str:
    options = dict(node.options)
    for attempt in range(1, node.tries + 1):
        key = keys.read(1, "#")
        if key in options:
            step(key)
            stack.insert(0, node.id)
            return options[key]
        if key and key == node.back and stack and stack[0] in node.parents:
            step("back")
            return stack.pop(0)
        step("timeout" if key == "" else "invalid")
        if attempt == node.tries:
            break
    step("failed")
    return node.failed


def _input(node: FInput, keys: _Keys, call: FlowCall, w: FlowWalk, step: Any) -> str:
    last = "timeout"
    for _attempt in range(node.tries):
        digits = keys.read(node.max_digits, node.end_key)
        if digits == "":
            last = "timeout"
        elif (digits.isdigit() and len(digits) >= node.min_digits and re.fullmatch(node.regex[1:-1], digits)
              and (not node.luhn or luhn_ok(digits)) and (not node.elfproef or elfproef_ok(digits))
              and (node.list_name is None or digits in call.lists.get(node.list_name, frozenset()))):
            if node.save_as:
                w.values[f"input:{node.save_as}"] = digits
            step("valid", digits=digits)
            return node.valid
        else:
            last = "invalid"
        step(last)
    return node.invalid if last == "invalid" else node.timed_out


def _time(node: FTime, call: FlowCall) -> tuple[str, str]:
    epoch = int(call.at.timestamp())
    for start, end, event, target in node.ranges:
        if start <= epoch < end:
            return event, target
    r = node.roster
    event, target = r.decide(call.at, call.holidays)
    if event == "holiday" and node.holiday_event and target == r.holiday:  # the block's own event name
        return node.holiday_event, target
    return event, target


def simulate_number(number: NumberFlow, flows: Mapping[str, CompiledFlow], scenario: CallScenario,
                    keys: list[str], lists: Mapping[str, frozenset[str]] | None = None,
                    holidays: frozenset[str] = frozenset()) -> dict[str, Any]:
    """The number's own steps (blocking, limits, tariff), then its flow's walk; one JSON shape."""
    result = simulate(number, scenario)
    out = result.to_dict()
    entry = number.nodes.get("flow")
    if result.outcome != "flow" or not isinstance(entry, FlowEntry):
        return out
    call = FlowCall(result.caller, scenario.at, keys, withheld=scenario.withheld, lists=lists or {},
                    behaviour=scenario.behaviour, split_state=dict(scenario.split_state),
                    holidays=holidays)
    w = walk(flows, entry.flow, call)
    out.update(outcome=w.outcome, answered_by=w.answered_by, destinations=w.destinations,
               flow=entry.flow, blocks=w.steps, values=w.values)
    return out
