"""Walk a NumberFlow for one hypothetical call: what would happen, step by step.

The dialplan renderer reads the same IR, and a differential test checks that real Asterisk does
what this predicts. The JSON form (``SimulationResult.to_json``) is a stable interface:

    {"number": "+318001234567", "caller": "+31201234567", "at": "2026-12-24T17:30:00+01:00",
     "outcome": "answered" | "blocked" | "busy" | "unanswered" | "queue" | "hunt",
     "reason": null | "anonymous" | "blacklist" | "foreign" | "mobile" | "limit",
     "answered_by": "+31205550001" | null,
     "destinations": ["+31205550003", "+31205550001"],     # every destination rung, in order
     "steps": [{"step": "check", "node": "blkanonymous", "detail": "anonymous", "result": "pass"},
               {"step": "play", "node": "welcome", "detail": "welcome", "sound": "..."},
               {"step": "schedule", "node": "schedule", "routing": "main"},
               {"step": "dial", "node": "r1d1", "routing": "main", "destination": "+31…",
                "ring_time": 20, "whisper": "beep" | null, "result": "noanswer"},
               {"step": "hangup", "node": "end", "detail": "unanswered"}]}
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from orchestrator.domain.callerid import normalize, privacy_withholds
from orchestrator.domain.ir import (
    BlockCheck,
    BlockReason,
    Busy,
    CallCentreStep,
    ConcurrencyLimit,
    Dial,
    FlowEntry,
    Hangup,
    NumberFlow,
    Play,
    RegionSwitch,
    Reject,
    Split,
    Switch,
    WeekRoster,
)
from orchestrator.domain.regions import matches


class DestinationBehaviour(StrEnum):
    ANSWER = "answer"
    NOANSWER = "noanswer"
    BUSY = "busy"
    UNAVAILABLE = "unavailable"


@dataclass(frozen=True)
class CallScenario:
    caller: str  # as presented by the network, e.g. "0201234567", "+3161…", "+0031…", "" (withheld)
    at: datetime
    withheld: bool = False  # the network marked the number as not to be shown (presentation)
    privacy: str = ""  # the INVITE's Privacy header, e.g. "id": anything but "none" withholds
    blacklist: frozenset[str] = frozenset()  # E.164 numbers on this number's blacklist
    calls_in_progress: int = 0  # other calls on this number right now
    behaviour: Mapping[str, DestinationBehaviour] = field(default_factory=dict)  # default: answer
    split_state: Mapping[str, int] = field(default_factory=dict)  # split family -> its next ticket


@dataclass
class SimulationResult:
    number: str
    caller: str
    at: datetime
    outcome: str = ""
    reason: str | None = None
    answered_by: str | None = None
    destinations: list[str] = field(default_factory=list)
    steps: list[dict[str, Any]] = field(default_factory=list)
    split_state: dict[str, int] = field(default_factory=dict)  # after this call

    def to_dict(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "caller": self.caller,
            "at": self.at.isoformat(),
            "outcome": self.outcome,
            "reason": self.reason,
            "answered_by": self.answered_by,
            "destinations": self.destinations,
            "steps": self.steps,
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)


MAX_STEPS = 1000  # a guard against a cyclic graph; compile never builds one


def _withheld(caller: str, scenario: CallScenario) -> bool:
    """The network's presentation first, then whether a usable number is left (callerid.py)."""
    return scenario.withheld or privacy_withholds(scenario.privacy) or caller == ""


def _blocked(reason: BlockReason, flow: NumberFlow, caller: str, scenario: CallScenario) -> bool:
    if reason is BlockReason.ANONYMOUS:
        return _withheld(caller, scenario)
    if caller == "":
        return False
    if reason is BlockReason.BLACKLIST:
        return caller in scenario.blacklist
    if reason is BlockReason.FOREIGN:
        return not caller.startswith("+31")
    if reason is BlockReason.MOBILE:
        return any(caller.startswith(p) for p in flow.mobile_prefixes)
    raise AssertionError(reason)


def _check(node: BlockCheck, flow: NumberFlow, caller: str, scenario: CallScenario,
           result: SimulationResult) -> str | None:
    hit = _blocked(node.reason, flow, caller, scenario)
    result.steps.append({"step": "check", "node": node.id, "detail": node.reason.value,
                         "result": "blocked" if hit else "pass"})
    if hit:
        result.reason = node.reason.value
    return node.blocked if hit else node.next


def _dial(node: Dial, scenario: CallScenario, result: SimulationResult) -> str | None:
    behaviour = scenario.behaviour.get(node.destination, DestinationBehaviour.ANSWER)
    result.destinations.append(node.destination)
    result.steps.append({"step": "dial", "node": node.id, "routing": node.routing,
                         "destination": node.destination, "ring_time": node.ring_time,
                         "whisper": node.whisper, "max_duration": node.limit, "result": behaviour.value})
    if behaviour is DestinationBehaviour.ANSWER:
        result.outcome, result.answered_by = "answered", node.destination
        return None
    return node.failed


def _hand_over(node: CallCentreStep | FlowEntry | Hangup, result: SimulationResult) -> None:
    """The steps where this walk ends: the call is handed over or hung up."""
    if isinstance(node, CallCentreStep):
        # What happens inside a queue depends on live agents: the simulation stops here.
        result.steps.append({"step": node.kind, "node": node.id, "routing": node.routing,
                             "name": node.name, "skill": node.skill or None})
        result.outcome, result.reason = node.kind, node.name  # handed to that call centre
    elif isinstance(node, FlowEntry):
        # Premium: the call goes on in the tenant's flow (flow_simulate.walk follows it).
        result.steps.append({"step": "flow", "node": node.id, "flow": node.flow})
        result.outcome = "flow"
    else:
        result.steps.append({"step": "hangup", "node": node.id, "detail": node.reason})
        result.outcome = node.reason


def simulate(flow: NumberFlow, scenario: CallScenario) -> SimulationResult:
    caller = normalize(scenario.caller)
    result = SimulationResult(flow.number.e164, caller, scenario.at)
    result.split_state = dict(scenario.split_state)
    epoch = int(scenario.at.timestamp())
    node_id: str | None = flow.entry
    for _ in range(MAX_STEPS):
        if node_id is None:
            break
        node = flow.nodes[node_id]
        match node:
            case BlockCheck():
                node_id = _check(node, flow, caller, scenario, result)
            case Reject():
                result.steps.append({"step": "reject", "node": node.id, "sound": node.sound})
                result.outcome = "blocked"
                node_id = None
            case ConcurrencyLimit():
                over = scenario.calls_in_progress + 1 > node.limit
                result.steps.append({"step": "limit", "node": node.id, "detail": node.limit,
                                     "result": "over" if over else "pass"})
                node_id = node.over if over else node.next
            case Busy():
                result.steps.append({"step": "busy", "node": node.id})
                result.outcome, result.reason = "busy", "limit"
                node_id = None
            case Play():
                result.steps.append({"step": "play", "node": node.id, "detail": node.purpose,
                                     "sound": node.sound})
                node_id = node.next
            case Switch():
                target = node.target_at(epoch)
                result.steps.append({"step": "schedule", "node": node.id,
                                     "routing": node.routing_names.get(target, target)})
                node_id = target
            case Dial():
                node_id = _dial(node, scenario, result)
            case RegionSwitch():
                exits = [] if _withheld(caller, scenario) else node.exits
                region = next((e for e in exits if matches(caller, e[1])), None)
                result.steps.append({"step": "region", "node": node.id, "exit": region[0] if region else "other"})
                node_id = region[2] if region else node.other
            case WeekRoster():
                exit_name, target = node.decide(scenario.at, flow.holidays)
                result.steps.append({"step": "roster", "node": node.id, "roster": node.name, "exit": exit_name})
                node_id = target
            case Split():
                index, ticket = node.take(result.split_state)
                result.steps.append({"step": "split", "node": node.id, "split": node.name, "exit": index + 1,
                                     "ticket": ticket})
                node_id = node.shares[index][1]
            case CallCentreStep() | FlowEntry() | Hangup():
                _hand_over(node, result)
                node_id = None
    return result
