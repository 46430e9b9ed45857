"""Rules for call centres: tier limits, references between agents, queues, hunt groups and
routings, and exits that must not loop. Every violation at once, each with its field path."""

from __future__ import annotations

from orchestrator.domain.fields import minutes, queue_ref
from orchestrator.domain.plan import TenantPlan
from orchestrator.domain.queues import Night, Tier
from orchestrator.errors import Violation

# Call Center Instap / Standaard / Premium (seed 002): waiting callers at most.
TIER_MAX_WAITING: dict[Tier, int] = {Tier.BASIC: 25, Tier.STANDARD: 50, Tier.PREMIUM: 525}
MAX_SKILL_LEVEL = 10


def max_waiting(tier: Tier, configured: int | None) -> int:
    return configured if configured is not None else TIER_MAX_WAITING[tier]


def _check_night(night: Night, path: str) -> list[Violation]:
    v = []
    for day, spans in night.week.items():
        for i, span in enumerate(spans):
            if minutes(span.start) >= minutes(span.end):
                v.append(Violation(f"{path}.week.{day}[{i}]", f"starts at {span.start}, not before its end {span.end}"))
    return v


def check_call_centres(plan: TenantPlan, announcements: set[str]) -> list[Violation]:
    v = _check_agents(plan)
    v.extend(_check_queues(plan, announcements))
    v.extend(_check_hunt_groups(plan))
    v.extend(_check_exits(plan))
    return v


def _check_agents(plan: TenantPlan) -> list[Violation]:
    v: list[Violation] = []
    phones: dict[str, str] = {}  # endpoint, lower case -> the agent who has it
    for name, agent in plan.agents.items():
        path = f"agents.{name}"
        if (agent.number is None) == (agent.endpoint is None):
            v.append(Violation(path, "give exactly one of 'number' or 'endpoint'"))
        if agent.endpoint is not None:
            # One phone, one agent: its registration and its state codes say who it is. Case
            # apart is still the same phone to a person provisioning it.
            other = phones.setdefault(agent.endpoint.lower(), name)
            if other != name:
                v.append(Violation(f"{path}.endpoint", f"endpoint {agent.endpoint!r} is already agent {other!r}'s"))
        if agent.number is not None and queue_ref(agent.number):
            v.append(Violation(f"{path}.number", "an agent is a phone number, not a queue or hunt group"))
        for skill, level in agent.skills.items():
            if not 1 <= level <= MAX_SKILL_LEVEL:
                v.append(Violation(f"{path}.skills.{skill}", f"levels run from 1 to {MAX_SKILL_LEVEL}, not {level}"))
    return v


def _members(plan: TenantPlan, path: str, names: list[str]) -> list[Violation]:
    """A queue's or hunt group's agents: defined in the plan, each listed once."""
    v: list[Violation] = []
    seen: set[str] = set()
    for i, a in enumerate(names):
        if a not in plan.agents:
            v.append(Violation(f"{path}[{i}]", f"agent {a!r} is not defined in this plan"))
        if a in seen:
            v.append(Violation(f"{path}[{i}]", f"agent {a!r} is listed twice"))
        seen.add(a)
    return v


def _check_queues(plan: TenantPlan, announcements: set[str]) -> list[Violation]:
    v: list[Violation] = []
    for name, q in plan.queues.items():
        path = f"queues.{name}"
        v.extend(_members(plan, f"{path}.agents", q.agents))
        limit = TIER_MAX_WAITING[q.tier]
        if q.max_waiting is not None and q.max_waiting > limit:
            v.append(Violation(f"{path}.max_waiting", f"the {q.tier} tier allows at most {limit} waiting callers, "
                                                      f"this asks for {q.max_waiting}"))
        if q.night is not None and q.tier is not Tier.PREMIUM:
            v.append(Violation(f"{path}.night", f"night service on a queue is in the premium tier, not {q.tier}"))
        if q.night is not None:
            v.extend(_check_night(q.night, f"{path}.night"))
        for field in ("welcome", "music", "comfort"):
            sound = getattr(q, field)
            if sound is not None and sound not in announcements:
                v.append(Violation(f"{path}.{field}", f"announcement {sound!r} is not defined in this plan"))
    return v


def _check_hunt_groups(plan: TenantPlan) -> list[Violation]:
    v: list[Violation] = []
    for name, h in plan.hunt_groups.items():
        path = f"hunt_groups.{name}"
        v.extend(_members(plan, f"{path}.agents", h.agents))
        if h.night is not None:
            v.extend(_check_night(h.night, f"{path}.night"))
    return v


def _target(plan: TenantPlan, skills_of: dict[str, set[str]], path: str, target: str | None) -> list[Violation]:
    """A queue or hunt group target (``queue:name[:skill]``) must exist, and its skill be had by an agent."""
    parsed = queue_ref(target) if target else None
    if parsed is None:
        return []
    kind, name, skill = parsed
    group = plan.queues if kind == "queue" else plan.hunt_groups
    if name not in group:
        return [Violation(path, f"{kind} {name!r} is not defined in this plan")]
    if skill is not None and skill not in skills_of.get(name, set()):
        return [Violation(path, f"no agent of queue {name!r} has skill {skill!r}; such calls would never be "
                                f"answered")]
    return []


def _check_exits(plan: TenantPlan) -> list[Violation]:
    """Where queues, hunt groups and routings send calls to call centres; exits must not loop."""
    v: list[Violation] = []
    skills_of = {name: {s for a in q.agents if a in plan.agents for s in plan.agents[a].skills}
                 for name, q in plan.queues.items()}  # queue -> skills its agents have
    exits: dict[str, list[str]] = {}  # "queue:x" -> call centres its exits lead to
    for name, q in plan.queues.items():
        for field, target in (("full", q.full), ("timeout", q.timeout),
                              ("night.to", q.night.to if q.night else None)):
            v.extend(_target(plan, skills_of, f"queues.{name}.{field}", target))
            if target and (parsed := queue_ref(target)):
                exits.setdefault(f"queue:{name}", []).append(f"{parsed[0]}:{parsed[1]}")
    for name, h in plan.hunt_groups.items():
        for field, target in (("no_answer", h.no_answer), ("night.to", h.night.to if h.night else None)):
            v.extend(_target(plan, skills_of, f"hunt_groups.{name}.{field}", target))
            if target and (parsed := queue_ref(target)):
                exits.setdefault(f"hunt:{name}", []).append(f"{parsed[0]}:{parsed[1]}")
    for i, n in enumerate(plan.numbers):
        for routing, dests in n.routings.items():
            for j, d in enumerate(dests):
                v.extend(_target(plan, skills_of, f"numbers[{i}].routings.{routing}[{j}].number", d.number))
    v.extend(_loops(exits))
    return v


def _loops(exits: dict[str, list[str]]) -> list[Violation]:
    """A caller must never go round in circles between full / overflowing call centres."""
    v: list[Violation] = []
    for start in sorted(exits):
        stack, seen = list(exits[start]), set()
        while stack:
            node = stack.pop()
            if node == start:
                kind, name = start.split(":")
                group = "queues" if kind == "queue" else "hunt_groups"
                v.append(Violation(f"{group}.{name}", "its exits lead back to itself (a caller would loop)"))
                break
            if node not in seen:
                seen.add(node)
                stack.extend(exits.get(node, []))
    return v
