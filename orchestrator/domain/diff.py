"""What a new plan changes, per service number, in words ops read in a review.

Pure: two TenantPlans in, sentences out. ``changed_numbers`` tells the incremental apply which
numbers' dialplan must be replaced.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from orchestrator.domain.flow_diff import flow_changes
from orchestrator.domain.numbers import parse_service_number
from orchestrator.domain.plan import ServiceNumberPlan, TenantPlan


@dataclass
class NumberChange:
    number: str  # E.164
    kind: str  # "added", "removed", "changed"
    details: list[str] = field(default_factory=list)

    def title(self) -> str:
        national = parse_service_number(self.number).national
        spaced = _spaced(national)
        return {"added": f"{spaced}: new", "removed": f"{spaced}: removed"}.get(self.kind, f"{spaced}:")


def _spaced(national: str) -> str:
    """0800 123 4567 style, as people write Dutch service numbers."""
    if national.startswith(("0800", "0900", "0906", "0909")) and len(national) == 11:
        return f"{national[:4]} {national[4:7]} {national[7:]}"
    return national


def _dests(dests: list[Any]) -> str:
    return ", then ".join(f"{d.number} ({d.ring_time} s)" for d in dests) or "nothing"


def _describe(old: ServiceNumberPlan, new: ServiceNumberPlan) -> list[str]:
    out: list[str] = []
    if old.package != new.package:
        out.append(f"package {old.package} → {new.package}")
    if old.flow != new.flow:
        out.append(f"runs flow {new.flow!r} instead of {old.flow!r}" if old.flow and new.flow
                   else f"runs flow {new.flow!r}" if new.flow else f"no longer runs flow {old.flow!r}")
    for name in old.routings.keys() - new.routings.keys():
        out.append(f"routing {name!r} removed")
    for name in new.routings.keys() - old.routings.keys():
        out.append(f"routing {name!r} added: {_dests(new.routings[name])}")
    for name in old.routings.keys() & new.routings.keys():
        if old.routings[name] != new.routings[name]:
            out.append(f"routing {name!r} now rings {_dests(new.routings[name])} "
                       f"instead of {_dests(old.routings[name])}")
    if old.active != new.active:
        out.append(f"active routing {old.active!r} → {new.active!r}")
    if old.switches != new.switches:
        moments = ", ".join(f"{s.at:%Y-%m-%d %H:%M} → {s.routing}" for s in new.switches) or "none"
        out.append(f"switch moments now: {moments}")
    ob, nb = old.blocking, new.blocking
    for flag in ("anonymous", "foreign", "mobile"):
        if getattr(ob, flag) != getattr(nb, flag):
            out.append(f"{'blocks' if getattr(nb, flag) else 'no longer blocks'} {flag} callers")
    added, removed = set(nb.blacklist) - set(ob.blacklist), set(ob.blacklist) - set(nb.blacklist)
    if added:
        out.append(f"blacklist adds {', '.join(sorted(added))}")
    if removed:
        out.append(f"blacklist removes {', '.join(sorted(removed))}")
    if ob.message != nb.message:
        out.append(f"rejection message {ob.message or 'built-in'} → {nb.message or 'built-in'}")
    for which in ("welcome", "whisper", "final"):
        before, after = getattr(old.announcements, which), getattr(new.announcements, which)
        if before != after:
            out.append(f"{which} announcement {before or 'none'} → {after or 'none'}")
    if old.max_concurrent_calls != new.max_concurrent_calls:
        out.append(f"at most {new.max_concurrent_calls or 'unlimited'} simultaneous calls "
                   f"instead of {old.max_concurrent_calls or 'unlimited'}")
    if old.tariff != new.tariff:
        out.append("tariff changes: " + _tariff(new) + " instead of " + _tariff(old))
    if old.allow_foreign != new.allow_foreign:
        out.append("callers from abroad " + ("allowed" if new.allow_foreign else "blocked"))
    if old.regions != new.regions:
        out.append("origin regions change")
    for name in sorted(old.rosters.keys() | new.rosters.keys()):
        before, after = old.rosters.get(name), new.rosters.get(name)
        if before == after:
            continue
        if before is None or after is None:
            out.append(f"roster {name!r} {'added' if before is None else 'removed'}")
            continue
        for day in sorted(before.week.keys() | after.week.keys()):
            b, a = before.week.get(day, []), after.week.get(day, [])
            if b != a:
                out.append(f"roster {name!r} on {day}: " + _ranges(a) + " instead of " + _ranges(b))
        if (before.exits, before.outside, before.holiday, before.closed_dates, before.public_holidays) != (
                after.exits, after.outside, after.holiday, after.closed_dates, after.public_holidays):
            out.append(f"roster {name!r}: exits or holidays change")
    if old.splits != new.splits:
        for name, shares in new.splits.items():
            if old.splits.get(name) != shares:
                out.append(f"split {name!r}: " + ", ".join(f"{s.percent}% → {s.to}" for s in shares))
        for name in old.splits.keys() - new.splits.keys():
            out.append(f"split {name!r} removed")
    if old.start != new.start:
        out.append(f"first step {old.start or 'default'} → {new.start or 'default'}")
    return out or ["changes that do not alter routing"]


def _ranges(ranges: list[Any]) -> str:
    return ", ".join(f"{r.start}-{r.end} {r.exit}" for r in ranges) or "closed all day"


def _tariff(n: ServiceNumberPlan) -> str:
    t = n.tariff
    if t is None:
        return "no tariff"
    parts = []
    if t.per_call is not None:
        parts.append(f"€{t.per_call} per call")
    if t.per_minute is not None:
        parts.append(f"€{t.per_minute} per minute")
    if t.max_call_cost is not None:
        parts.append(f"max €{t.max_call_cost}")
    return " + ".join(parts)


def diff_plans(old: TenantPlan | None, new: TenantPlan) -> list[NumberChange]:
    before = {n.number: n for n in (old.numbers if old else [])}
    after = {n.number: n for n in new.numbers}
    changes: list[NumberChange] = []
    for number, n in after.items():
        if number not in before:
            changes.append(NumberChange(number, "added", [f"runs flow {n.flow!r}"] if n.flow else
                                        [f"rings {_dests(n.routings[n.active])}"] if n.active in n.routings else []))
        elif before[number] != n:
            changes.append(NumberChange(number, "changed", _describe(before[number], n)))
    for number in before.keys() - after.keys():
        changes.append(NumberChange(number, "removed"))
    if old is not None and old.announcements != new.announcements:
        changes.append(NumberChange("", "announcements", ["announcements of the tenant change"]))
    changes.extend(_call_centre_changes(old, new))
    flows = flow_changes(old.flows if old else {}, new.flows, old.layout if old else {}, new.layout,
                         old.lists if old else [], new.lists)
    if flows:
        changes.append(NumberChange("", "flows", flows))
    return changes


def _call_centre_changes(old: TenantPlan | None, new: TenantPlan) -> list[NumberChange]:
    """Agents, queues and hunt groups (tenant-wide): which ones are added, changed, removed."""
    details = []
    for label, before, after in (("agent", old.agents if old else {}, new.agents),
                                 ("queue", old.queues if old else {}, new.queues),
                                 ("hunt group", old.hunt_groups if old else {}, new.hunt_groups)):
        for name in sorted(after.keys() - before.keys()):
            details.append(f"{label} {name} added")
        for name in sorted(before.keys() & after.keys()):
            if before[name] != after[name]:
                details.append(f"{label} {name} changed")
        for name in sorted(before.keys() - after.keys()):
            details.append(f"{label} {name} removed")
    return [NumberChange("", "tenant", details)] if details else []


def changed_numbers(old: TenantPlan | None, new: TenantPlan) -> set[str]:
    return {c.number for c in diff_plans(old, new) if c.number}


def render_changes(changes: list[NumberChange]) -> str:
    if not changes:
        return "No changes."
    lines = []
    for c in changes:
        if c.kind in ("announcements", "tenant", "flows"):  # tenant-wide: no number to title
            lines.extend(c.details)
            continue
        lines.append(c.title())
        lines.extend(f"  - {d}" for d in c.details)
    return "\n".join(lines)
