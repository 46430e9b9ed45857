"""Rules of Premium call flows: every violation at once, each naming the flow, the block and the
field (``flows.support.blocks.main.params.timeout``). Pure.

A flow must be a graph a caller cannot get stuck in: every event wired, no unknown targets, no
unreachable blocks, and every cycle (also through ``goto`` into other flows of the tenant) passes
a block that waits for the caller with bounded tries (menu, input). The per-call block counter
(``max_visits``) then ends any remaining loop a caller keeps choosing.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from typing import Any

from pydantic import BaseModel, ValidationError

from orchestrator.domain.fields import minutes
from orchestrator.domain.flow import (
    HANGUP,
    MAX_BLOCKS,
    MAX_MENUS,
    REGISTRY,
    Flow,
    GotoParams,
    HuntParams,
    InputParams,
    MenuParams,
    Prompt,
    QueueParams,
    SetParams,
    SplitParams,
    TimeParams,
    parse_params,
)
from orchestrator.errors import Violation

BUILTIN_PROMPTS = frozenset({"default-rejection", "default-final", "default-whisper"})


def _pydantic(path: str, exc: ValidationError) -> list[Violation]:
    out = []
    for err in exc.errors():
        loc = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in err["loc"])
        msg = err["msg"].removeprefix("Value error, ")
        out.append(Violation(path + loc, "unknown field" if err["type"] == "extra_forbidden" else msg))
    return out


def parsed_blocks(flow: Flow, path: str) -> tuple[dict[str, BaseModel], list[Violation]]:
    """Every block's params parsed by its type; violations for unknown types and bad params."""
    out: dict[str, BaseModel] = {}
    v: list[Violation] = []
    for bid, block in flow.blocks.items():
        bp = f"{path}.blocks.{bid}"
        if block.type not in REGISTRY:
            v.append(Violation(f"{bp}.type", f"{block.type!r} is not a block type; known: {', '.join(REGISTRY)}"))
            continue
        try:
            out[bid] = parse_params(block)
        except ValidationError as exc:
            v.extend(_pydantic(f"{bp}.params", exc))
    return out, v


def _prompts(params: BaseModel) -> Iterable[tuple[str, Prompt]]:
    for name in type(params).model_fields:
        value = getattr(params, name)
        if isinstance(value, Prompt):
            yield name, value


def _check_block(bid: str, params: BaseModel, bp: str, ctx: Mapping[str, Any]) -> list[Violation]:
    """Checks of one block against the rest of the plan (announcements, call centre, flows)."""
    v: list[Violation] = []
    for field, prompt in _prompts(params):
        if prompt.announcement and prompt.announcement not in ctx["announcements"] | BUILTIN_PROMPTS:
            v.append(Violation(f"{bp}.params.{field}", f"announcement {prompt.announcement!r} is not defined"))
    match params:
        case MenuParams() if params.back is not None and bid not in ctx["parents"]:
            v.append(Violation(f"{bp}.params.back", "no menu leads here, so there is nothing to go back to"))
        case InputParams() if params.checks.list is not None and params.checks.list not in ctx["lists"]:
            v.append(Violation(f"{bp}.params.checks.list", f"list {params.checks.list!r} is not in the plan's lists"))
        case SplitParams() if sum(params.shares.values()) != 100:
            v.append(Violation(f"{bp}.params.shares", f"percentages must sum to 100, these sum to "
                                                       f"{sum(params.shares.values())}"))
        case SplitParams() if any(p < 1 for p in params.shares.values()):
            v.append(Violation(f"{bp}.params.shares", "every share is at least 1 percent"))
        case QueueParams() if params.queue not in ctx["queues"]:
            v.append(Violation(f"{bp}.params.queue", f"queue {params.queue!r} is not defined"))
        case HuntParams() if params.group not in ctx["hunt_groups"]:
            v.append(Violation(f"{bp}.params.group", f"hunt group {params.group!r} is not defined"))
        case GotoParams() if params.flow not in ctx["flows"]:
            v.append(Violation(f"{bp}.params.flow", f"flow {params.flow!r} is not defined"))
        case SetParams() if params.priority_from is not None and params.priority_from not in ctx["saved"]:
            v.append(Violation(f"{bp}.params.priority_from",
                               f"no input block of this flow saves {params.priority_from!r}"))
        case SetParams() if params.priority is not None and params.priority_from is not None:
            v.append(Violation(f"{bp}.params", "give 'priority' or 'priority_from', not both"))
        case TimeParams():
            v.extend(_check_time(params, bp))
    return v


def _check_time(p: TimeParams, bp: str) -> list[Violation]:
    v: list[Violation] = []
    for i, r in enumerate(p.ranges):
        if r.start >= r.end:
            v.append(Violation(f"{bp}.params.ranges[{i}]", "starts at or after its end"))
    for day, ranges in p.week.items():
        spans = sorted((minutes(tr.start), minutes(tr.end), i) for i, tr in enumerate(ranges))
        for s, e, i in spans:
            if s >= e:
                v.append(Violation(f"{bp}.params.week.{day}[{i}]", "starts at or after its end"))
        for (_s1, e1, _i1), (s2, _e2, i2) in zip(spans, spans[1:], strict=False):
            if s2 < e1:
                v.append(Violation(f"{bp}.params.week.{day}[{i2}]", "overlaps another range of the same day"))
    return v


def menu_parents(flow: Flow, params: Mapping[str, BaseModel]) -> dict[str, tuple[str, ...]]:
    """For each menu: the menus whose key leads to it without passing another waiting block.
    Its back key returns to whichever of them the call came from."""
    parents: dict[str, set[str]] = {}
    for mid, p in params.items():
        if not isinstance(p, MenuParams):
            continue
        stack = [t for e, t in flow.blocks[mid].exits.items() if e != "failed"]
        seen: set[str] = set()
        while stack:
            b = stack.pop()
            if b in seen or b not in flow.blocks:
                continue
            seen.add(b)
            if isinstance(params.get(b), MenuParams):
                parents.setdefault(b, set()).add(mid)
            elif not isinstance(params.get(b), InputParams):
                stack.extend(flow.blocks[b].exits.values())
    return {k: tuple(sorted(s)) for k, s in parents.items()}


def check_flow(name: str, flow: Flow, ctx: Mapping[str, Any]) -> list[Violation]:
    path = f"flows.{name}"
    params, v = parsed_blocks(flow, path)
    if len(flow.blocks) > MAX_BLOCKS:
        v.append(Violation(f"{path}.blocks", f"at most {MAX_BLOCKS} blocks per flow, this has {len(flow.blocks)}"))
    menus = sum(1 for b in flow.blocks.values() if b.type == "menu")
    if menus > MAX_MENUS:
        v.append(Violation(f"{path}.blocks", f"at most {MAX_MENUS} menus per flow, this has {menus}"))
    if flow.start not in flow.blocks:
        v.append(Violation(f"{path}.start", f"{flow.start!r} is not a block of this flow"))
    if flow.fallback != HANGUP and flow.fallback not in flow.blocks:
        v.append(Violation(f"{path}.fallback", f"{flow.fallback!r} is not a block of this flow or 'hangup'"))
    saved = {p.save_as for p in params.values() if isinstance(p, InputParams) and p.save_as}
    block_ctx = {**ctx, "parents": menu_parents(flow, params), "saved": saved}
    for bid, p in params.items():
        bp = f"{path}.blocks.{bid}"
        block = flow.blocks[bid]
        kind = REGISTRY[block.type]
        required, optional = kind.events(p), kind.optional(p)
        for event in required:
            if event not in block.exits:
                v.append(Violation(f"{bp}.exits.{event}", f"event {event!r} of this {block.type} block is not wired "
                                                          f"(to a block or to 'hangup')"))
        for event, target in block.exits.items():
            if event not in required and event not in optional:
                allowed = ", ".join((*required, *optional)) or "none"
                v.append(Violation(f"{bp}.exits.{event}", f"a {block.type} block has no event {event!r} "
                                                          f"(its events: {allowed})"))
            elif target != HANGUP and target not in flow.blocks:
                v.append(Violation(f"{bp}.exits.{event}", f"{target!r} is not a block of this flow or 'hangup'"))
        if isinstance(p, MenuParams) and not any(k in block.exits for k in optional):
            v.append(Violation(f"{bp}.exits", "a menu needs at least one key"))
        v.extend(_check_block(bid, p, bp, block_ctx))
    v.extend(_reachability(path, flow))
    v.extend(_extension_clashes(path, flow))
    return v


# The flow's own extensions next to its blocks' b-<id> (flow.conf.j2: b--over, b--hangup).
RESERVED_BLOCK_IDS = ("over", "hangup")


def _extension_clashes(path: str, flow: Flow) -> list[Violation]:
    """Asterisk ignores '-' when it compares extension names (pbx.c ext_cmp_exten: "eye candy"),
    so b-a-b and b-ab would be one extension and b-over the flow's own b--over: the second
    would not load, or a call would run the wrong block."""
    v: list[Violation] = []
    seen: dict[str, str] = {}
    for bid in flow.blocks:
        key = bid.replace("-", "")
        if key in RESERVED_BLOCK_IDS:
            v.append(Violation(f"{path}.blocks.{bid}", f"{bid!r} is taken by the flow itself "
                                                      f"({', '.join(RESERVED_BLOCK_IDS)}); rename the block"))
        elif key in seen:
            v.append(Violation(f"{path}.blocks.{bid}", f"{bid!r} and {seen[key]!r} differ only in '-', which "
                                                      f"Asterisk ignores in extension names; rename one"))
        else:
            seen[key] = bid
    return v


def _reachability(path: str, flow: Flow) -> list[Violation]:
    seen: set[str] = set()
    stack = [b for b in (flow.start, flow.fallback) if b in flow.blocks]
    while stack:
        b = stack.pop()
        if b in seen:
            continue
        seen.add(b)
        stack.extend(t for t in flow.blocks[b].exits.values() if t in flow.blocks)
    return [Violation(f"{path}.blocks.{b}", "unreachable: no event leads here from the start")
            for b in flow.blocks if b not in seen]


def _cycles_without_wait(flows: Mapping[str, Flow]) -> list[Violation]:
    """Tarjan over the tenant's blocks minus the waiting ones (menu, input): a strongly connected
    part with a cycle there is a loop no caller input bounds."""
    waits = {(f, b) for f, flow in flows.items() for b, blk in flow.blocks.items()
             if blk.type in REGISTRY and REGISTRY[blk.type].waits}
    graph: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for f, flow in flows.items():
        for b, blk in flow.blocks.items():
            if (f, b) in waits:
                continue
            edges = [(f, t) for t in blk.exits.values() if t in flow.blocks]
            target = blk.params.get("flow") if blk.type == "goto" else None
            if isinstance(target, str) and target in flows and flows[target].start in flows[target].blocks:
                edges.append((target, flows[target].start))
            graph[(f, b)] = [n for n in edges if n not in waits]
    # Iterative depth-first search (a flow may chain 2,000 blocks: too deep for recursion); a
    # grey node met again closes a loop.
    colour: dict[tuple[str, str], int] = {}  # 1 = on the current path, 2 = done
    for root in graph:
        if root in colour:
            continue
        path: list[tuple[str, str]] = [root]
        todo = [iter(graph[root])]
        colour[root] = 1
        while todo:
            nxt = next(todo[-1], None)
            if nxt is None:
                colour[path.pop()] = 2
                todo.pop()
            elif colour.get(nxt) == 1:
                loop = path[path.index(nxt):]
                names = " -> ".join(f"{f}.{b}" for f, b in [*loop, nxt])
                return [Violation(f"flows.{nxt[0]}.blocks.{nxt[1]}",
                                  f"loop without a menu or input: {names}; a caller would circle forever")]
            elif nxt not in colour:
                colour[nxt] = 1
                path.append(nxt)
                todo.append(iter(graph[nxt]))
    return []


def check_flows(flows: Mapping[str, Flow], ctx: Mapping[str, Any],
                checked: Collection[str] = ()) -> list[Violation]:
    """``ctx``: announcements, lists, queues, hunt_groups (names the plan defines). ``checked``:
    flows found clean before against the same ``ctx`` and flow names (apply: unchanged since the
    last apply with the same tenant salt); a flow's own checks depend on nothing else, so they are
    not run again. The cycle check spans flows (``goto``) and always runs."""
    full = {**ctx, "flows": set(flows)}
    v: list[Violation] = []
    for name, flow in flows.items():
        if name not in checked:
            v.extend(check_flow(name, flow, full))
    if not v:
        v.extend(_cycles_without_wait(flows))
    return v
