"""What a new plan changes in the tenant's call flows, in words ops read in a review:
"menu 'main': key 3 now goes to queue 'billing' instead of 'sales'".

Pure: the old and new plans' flows, layout and lists in, sentences out (diff.py puts them under
the tenant's changes). A layout change is named as such: it moves boxes, it routes no call.
"""

from __future__ import annotations

import json
from typing import Any

from orchestrator.domain.flow import HANGUP, KEYS, Block, Flow, Layout

_SHORT = 60  # a param value longer than this is summarised as "changes"


def _event(block: Block, event: str) -> str:
    return f"key {event}" if block.type == "menu" and event in KEYS else event


def _target(flow: Flow, target: str) -> str:
    """A block as people name it: its type and id ("queue 'billing'"); hangup as "hang up"."""
    if target == HANGUP:
        return "hang up"
    block = flow.blocks.get(target)
    return f"{block.type} {target!r}" if block is not None else repr(target)


def _value(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)
    return text if len(text) <= _SHORT else "…"


def _params(name: str, old: Block, new: Block) -> list[str]:
    out = []
    for key in sorted(old.params.keys() | new.params.keys()):
        before, after = old.params.get(key), new.params.get(key)
        if before == after:
            continue
        if before is None:
            out.append(f"{new.type} {name!r}: {key} set to {_value(after)}")
        elif after is None:
            out.append(f"{new.type} {name!r}: {key} {_value(before)} removed (default again)")
        elif "…" in (_value(before), _value(after)):
            out.append(f"{new.type} {name!r}: {key} changes")
        else:
            out.append(f"{new.type} {name!r}: {key} {_value(after)} instead of {_value(before)}")
    return out


def _exits(name: str, old_flow: Flow, new_flow: Flow) -> list[str]:
    old, new = old_flow.blocks[name], new_flow.blocks[name]
    out = []
    for event in sorted(old.exits.keys() | new.exits.keys(), key=lambda e: (e not in KEYS, e)):
        before, after = old.exits.get(event), new.exits.get(event)
        what = f"{new.type} {name!r}: {_event(new, event)}"
        if before == after:
            continue
        if before is None:
            out.append(f"{what} added: goes to {_target(new_flow, str(after))}")
        elif after is None:
            out.append(f"{what} removed (went to {before!r})")
        else:
            out.append(f"{what} now goes to {_target(new_flow, after)} instead of {before!r}")
    return out


def _one_flow(old: Flow, new: Flow) -> list[str]:
    out = []
    if old.start != new.start:
        out.append(f"starts at {_target(new, new.start)} instead of {old.start!r}")
    if old.fallback != new.fallback:
        out.append(f"fallback {_target(new, new.fallback)} instead of {old.fallback!r}")
    if old.max_visits != new.max_visits:
        out.append(f"at most {new.max_visits} blocks per call instead of {old.max_visits}")
    for name in sorted(new.blocks.keys() - old.blocks.keys()):
        out.append(f"{new.blocks[name].type} {name!r} added")
    for name in sorted(old.blocks.keys() - new.blocks.keys()):
        out.append(f"{old.blocks[name].type} {name!r} removed")
    for name in sorted(old.blocks.keys() & new.blocks.keys()):
        before, after = old.blocks[name], new.blocks[name]
        if before == after:
            continue
        if before.type != after.type:
            out.append(f"{name!r} is now a {after.type} block instead of a {before.type} block")
            continue
        out.extend(_exits(name, old, new))
        out.extend(_params(name, before, after))
    return out


def flow_changes(old_flows: dict[str, Flow], new_flows: dict[str, Flow], old_layout: Layout | None = None,
                 new_layout: Layout | None = None, old_lists: list[str] | None = None,
                 new_lists: list[str] | None = None) -> list[str]:
    """One sentence per change, each naming its flow."""
    out = []
    for name in sorted(new_flows.keys() - old_flows.keys()):
        flow = new_flows[name]
        out.append(f"flow {name!r} added: {len(flow.blocks)} blocks, starts at {_target(flow, flow.start)}")
    for name in sorted(old_flows.keys() - new_flows.keys()):
        out.append(f"flow {name!r} removed")
    for name in sorted(old_flows.keys() & new_flows.keys()):
        if old_flows[name] != new_flows[name]:
            out.extend(f"flow {name!r}: {line}" for line in _one_flow(old_flows[name], new_flows[name]))
    for name in sorted(old_flows.keys() & new_flows.keys()):  # a new flow's boxes are no news
        if (old_layout or {}).get(name) != (new_layout or {}).get(name):
            out.append(f"flow {name!r}: boxes moved in the builder (layout only: no call routes differently)")
    for name in sorted(set(new_lists or ()) - set(old_lists or ())):
        out.append(f"list {name!r} added")
    for name in sorted(set(old_lists or ()) - set(new_lists or ())):
        out.append(f"list {name!r} removed (input blocks can no longer check it)")
    return out
