"""A flow as people and tools read it: an indented tree (``orchestrator flow show``), and JSON,
Graphviz dot or Mermaid (``flow export``). Pure: a Flow in, text out.

The tree follows the exits from the start block; a block met again (a loop, or two exits into
one block) is shown once and referred to afterwards ("→ main, see above"), so a flow of 2,000
blocks prints in 2,000 lines, never more.
"""

from __future__ import annotations

import json

from orchestrator.domain.flow import HANGUP, KEYS, Flow


def _label(flow: Flow, block: str, event: str) -> str:
    b = flow.blocks[block]
    return f"key {event}" if b.type == "menu" and event in KEYS else event


def _ordered(exits: dict[str, str]) -> list[tuple[str, str]]:
    return sorted(exits.items(), key=lambda kv: (kv[0] not in KEYS, KEYS.index(kv[0]) if kv[0] in KEYS else 0,
                                                 kv[0]))


def _digits(low: int, high: int) -> str:
    return f"{low} digits" if low == high else f"{low}-{high} digits"


def _summary(flow: Flow, block: str) -> str:
    b = flow.blocks[block]
    p = b.params
    detail = {
        "menu": lambda: f"timeout {p.get('timeout', 5)} s, {p.get('tries', 3)} tries"
                        + (f", {p['back']} = back" if p.get("back") else ""),
        "input": lambda: _digits(p.get("min_digits", 1), p.get("max_digits", 10))
                         + "".join(f", {k}" if v is True else f", {k} {v}"
                                   for k, v in sorted((p.get("checks") or {}).items()) if v),
        "queue": lambda: f"queue {p.get('queue')}",
        "hunt": lambda: f"group {p.get('group')}",
        "dial": lambda: ", then ".join(str(d.get("number")) for d in p.get("destinations", [])),
        "goto": lambda: f"flow {p.get('flow')}",
        "split": lambda: ", ".join(f"{k} {v}%" for k, v in (p.get("shares") or {}).items()),
    }.get(b.type)
    return f"{b.type} {block!r}" + (f" ({detail()})" if detail else "")


def tree(flow: Flow, name: str) -> str:
    """The flow as an indented tree from its start block."""
    lines = [f"flow {name!r} (at most {flow.max_visits} blocks per call, then {flow.fallback})"]
    seen: set[str] = set()
    # An explicit stack, not recursion: 150 nested menus must not hit Python's recursion limit.
    stack: list[tuple[str, str, int]] = [("start", flow.start, 1)]
    while stack:
        via, block, depth = stack.pop()
        pad = "  " * depth
        if block == HANGUP:
            lines.append(f"{pad}{via} → hang up")
            continue
        if block in seen:
            lines.append(f"{pad}{via} → {block}, see above")
            continue
        seen.add(block)
        lines.append(f"{pad}{via} → {_summary(flow, block)}")
        children = _ordered(flow.blocks[block].exits)
        stack.extend((_label(flow, block, ev), target, depth + 1) for ev, target in reversed(children))
    return "\n".join(lines)


def as_json(flow: Flow, name: str) -> str:
    """The flow in the plan format (what ``flows: {name: ...}`` holds)."""
    return json.dumps({name: flow.model_dump(mode="json")}, indent=2, ensure_ascii=False, sort_keys=True)


def _ids(flow: Flow) -> dict[str, str]:
    """Node ids for dot and Mermaid: b0, b1, ... in block order (block names may hold '-'), and
    one shared end node for hang up."""
    return {block: f"b{i}" for i, block in enumerate(flow.blocks)} | {HANGUP: "hangup"}


def dot(flow: Flow, name: str) -> str:
    """Graphviz: one box per block, one arrow per wired event; hang up is a shared end node."""
    ids = _ids(flow)
    out = [f"digraph {json.dumps(name)} {{", "  rankdir=LR;", "  node [shape=box];",
           '  hangup [label="hang up", shape=oval];', "  start [shape=point];"]
    out.extend(f"  {ids[block]} [label={json.dumps(_summary(flow, block))}];" for block in flow.blocks)
    out.append(f"  start -> {ids[flow.start]};")
    for block, b in flow.blocks.items():
        out.extend(f"  {ids[block]} -> {ids[target]} [label={json.dumps(_label(flow, block, event))}];"
                   for event, target in _ordered(b.exits))
    out.append("}")
    return "\n".join(out)


def _mermaid_text(text: str) -> str:
    return text.replace('"', "#quot;").replace("|", "#124;")


def mermaid(flow: Flow, name: str) -> str:
    """Mermaid flowchart (renders in GitHub and most wikis)."""
    ids = _ids(flow)
    out = ["flowchart LR", f"  %% flow {name}", "  hangup([hang up])", "  start(( ))"]
    out.extend(f'  {ids[block]}["{_mermaid_text(_summary(flow, block))}"]' for block in flow.blocks)
    out.append(f"  start --> {ids[flow.start]}")
    for block, b in flow.blocks.items():
        out.extend(f'  {ids[block]} -->|"{_mermaid_text(_label(flow, block, event))}"| {ids[target]}'
                   for event, target in _ordered(b.exits))
    return "\n".join(out)


FORMATS = {"json": as_json, "dot": dot, "mermaid": mermaid}
