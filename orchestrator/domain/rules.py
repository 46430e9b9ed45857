"""Package rules: what a Basis / Standaard / Premium number may contain.

``check_plan`` returns every violation at once so ops can fix a plan in one go; the caller
decides to store nothing when the list is not empty.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from orchestrator.domain import tariffs
from orchestrator.domain.flow_rules import check_flows
from orchestrator.domain.numbers import NumberKind, parse_service_number
from orchestrator.domain.plan import Package, RecordingPolicy, ServiceNumberPlan, TenantPlan, TimeRange, minutes
from orchestrator.domain.queue_rules import check_call_centres
from orchestrator.errors import PlanInvalid, Violation


@dataclass(frozen=True)
class PackageLimits:
    routings: int
    switch_moments: int
    destinations_per_routing: int  # the first number plus its overflow numbers
    steps: bool  # regions, rosters and splits at all
    regions: int | None = None  # region exits besides "other"; None = no limit
    rosters: int | None = None
    roster_exits: int | None = None
    split_shares: int | None = None


LIMITS: dict[Package, PackageLimits] = {
    Package.BASIS: PackageLimits(routings=5, switch_moments=5, destinations_per_routing=3, steps=False),
    # Standaard: routings feed the region/roster/split exits, so more than Basis' five presets.
    Package.STANDAARD: PackageLimits(routings=25, switch_moments=5, destinations_per_routing=3, steps=True,
                                     regions=5, rosters=5, roster_exits=3, split_shares=5),
    Package.PREMIUM: PackageLimits(routings=500, switch_moments=50, destinations_per_routing=10, steps=True),
}

ACTIVE = "active"  # target: the routing in force (follows the switch moments)
REGIONS = "regions"  # target: the region step
# Fixed order of the Standaard steps: a step may only lead to a later one.
ORDER = {"regions": 0, "roster": 1, "split": 2, "routing": 3}


def target_kind(n: ServiceNumberPlan, name: str) -> str | None:
    if name == ACTIVE or name in n.routings:
        return "routing"
    if name == REGIONS and n.regions is not None:
        return "regions"
    if name in n.rosters:
        return "roster"
    if name in n.splits:
        return "split"
    return None


def check_steps(n: ServiceNumberPlan, path: str) -> list[Violation]:
    """Standaard steps: limits, references and the fixed order regions → roster → split."""
    v: list[Violation] = []
    limits = LIMITS[n.package]
    used = {"start": n.start, "regions": n.regions, "rosters": n.rosters, "splits": n.splits}
    if not limits.steps:
        for field, value in used.items():
            if value:
                v.append(Violation(f"{path}.{field}", f"not in the {n.package} package (needs standaard or premium)"))
        return v

    v.extend(_step_names(n, path))
    if n.start is not None and target_kind(n, n.start) is None:
        v.append(Violation(f"{path}.start", f"{n.start!r} is not 'regions', a routing, roster, split or 'active'"))
    v.extend(_check_regions(n, path, limits))
    v.extend(_check_rosters(n, path, limits))
    v.extend(_check_splits(n, path, limits))
    return v


def _step_names(n: ServiceNumberPlan, path: str) -> list[Violation]:
    """Routings, rosters and splits share one name space, without the reserved target names."""
    v: list[Violation] = []
    names: dict[str, str] = {}
    for kind, group in (("routing", n.routings), ("roster", n.rosters), ("split", n.splits)):
        for name in group:
            if name in (ACTIVE, REGIONS):
                v.append(Violation(f"{path}.{kind}s.{name}", f"{name!r} is a reserved name"))
            elif name in names:
                v.append(Violation(f"{path}.{kind}s.{name}", f"name {name!r} is already used by a {names[name]}"))
            names[name] = kind
    return v


def _step_target(n: ServiceNumberPlan, field: str, name: str, source: str) -> list[Violation]:
    """A step's exit must name an existing step that comes later in the order."""
    kind = target_kind(n, name)
    if kind is None:
        return [Violation(field, f"{name!r} is not a routing, roster, split or 'active'")]
    if n.package is Package.STANDAARD and ORDER[kind] <= ORDER[source]:
        return [Violation(
            field, f"a {source} step cannot lead to a {kind} (order: regions → roster → split → routing)")]
    if n.package is Package.PREMIUM and ORDER[kind] <= ORDER[source]:
        return [Violation(field, f"a {source} step cannot lead back to a {kind} step")]
    return []


def _check_regions(n: ServiceNumberPlan, path: str, limits: PackageLimits) -> list[Violation]:
    v: list[Violation] = []
    if n.regions is None:
        return v
    r = n.regions
    if limits.regions is not None and len(r.exits) > limits.regions:
        v.append(Violation(f"{path}.regions.exits",
                           f"the {n.package} package allows at most {limits.regions} regions plus 'other', "
                           f"this has {len(r.exits)}"))
    seen_areas: set[str] = set()
    for i, e in enumerate(r.exits):
        for area in e.areas:
            if area.lower() in seen_areas:
                v.append(Violation(f"{path}.regions.exits[{i}].areas", f"{area!r} is already in an earlier region"))
            seen_areas.add(area.lower())
        v.extend(_step_target(n, f"{path}.regions.exits[{i}].to", e.to, "regions"))
    v.extend(_step_target(n, f"{path}.regions.other", r.other, "regions"))
    return v


def _check_rosters(n: ServiceNumberPlan, path: str, limits: PackageLimits) -> list[Violation]:
    v: list[Violation] = []
    if limits.rosters is not None and len(n.rosters) > limits.rosters:
        v.append(Violation(f"{path}.rosters", f"at most {limits.rosters} rosters, this has {len(n.rosters)}"))
    for name, roster in n.rosters.items():
        rp = f"{path}.rosters.{name}"
        if limits.roster_exits is not None and len(roster.exits) > limits.roster_exits:
            v.append(Violation(f"{rp}.exits", f"the {n.package} package allows at most {limits.roster_exits} "
                                              f"roster exits plus the holiday exit, this has {len(roster.exits)}"))
        if roster.outside not in roster.exits:
            v.append(Violation(f"{rp}.outside", f"{roster.outside!r} is not one of this roster's exits"))
        for exit_name, target in roster.exits.items():
            v.extend(_step_target(n, f"{rp}.exits.{exit_name}", target, "roster"))
        v.extend(_step_target(n, f"{rp}.holiday", roster.holiday, "roster"))
        for day, ranges in roster.week.items():
            v.extend(_check_day(f"{rp}.week.{day}", ranges, roster.exits))
    return v


def _check_day(dp: str, ranges: list[TimeRange], exits: Mapping[str, str]) -> list[Violation]:
    """One roster day: each range leads to an exit of the roster, starts before its end, overlaps none."""
    v: list[Violation] = []
    spans = []
    for i, tr in enumerate(ranges):
        if tr.exit not in exits:
            v.append(Violation(f"{dp}[{i}].exit", f"{tr.exit!r} is not one of this roster's exits"))
        if minutes(tr.start) >= minutes(tr.end):
            v.append(Violation(f"{dp}[{i}]", f"starts at {tr.start}, not before its end {tr.end}"))
        spans.append((minutes(tr.start), minutes(tr.end), i))
    spans.sort()
    for (_s1, e1, _i1), (s2, _e2, i2) in zip(spans, spans[1:], strict=False):
        if s2 < e1:
            v.append(Violation(f"{dp}[{i2}]", "overlaps another range of the same day"))
    return v


def _check_splits(n: ServiceNumberPlan, path: str, limits: PackageLimits) -> list[Violation]:
    v: list[Violation] = []
    for name, shares in n.splits.items():
        sp = f"{path}.splits.{name}"
        if limits.split_shares is not None and len(shares) > limits.split_shares:
            v.append(Violation(sp, f"the {n.package} package allows at most {limits.split_shares} destinations "
                                   f"in a split, this has {len(shares)}"))
        if len(shares) < 2:
            v.append(Violation(sp, "a split needs at least 2 destinations"))
        total = sum(share.percent for share in shares)
        if total != 100:
            v.append(Violation(sp, f"percentages must sum to 100, these sum to {total}"))
        for i, share in enumerate(shares):
            v.extend(_step_target(n, f"{sp}[{i}].to", share.to, "split"))
    return v


MAX_RETENTION_YEARS = 7  # the longest term of the seed (2.3.7.1: 90 days or 7 years)
BUILTIN_ANNOUNCEMENTS = frozenset({"default-rejection", "default-final", "default-whisper"})


def check_tariff(n: ServiceNumberPlan, kind: NumberKind, path: str) -> list[Violation]:
    v: list[Violation] = []
    t = n.tariff
    if not kind.is_premium_rate:
        if t is not None:
            v.append(Violation(f"{path}.tariff", f"{kind} numbers carry no information tariff (0900/0906/0909 only)"))
        if n.allow_foreign:
            v.append(Violation(f"{path}.allow_foreign", "only 090x numbers block foreign callers by default; "
                                                        "use blocking.foreign for others"))
        return v
    if t is None or (t.per_call is None and t.per_minute is None):
        v.append(Violation(f"{path}.tariff", f"a {kind} number needs an information tariff per call and/or per minute"))
        return v
    if t.per_call is not None and t.per_call not in tariffs.PER_CALL:
        v.append(Violation(f"{path}.tariff.per_call", f"€{t.per_call} is not an allowed per-call tariff; "
                                                      f"allowed: {tariffs.allowed(tariffs.PER_CALL)}"))
    if t.per_minute is not None and t.per_minute not in tariffs.PER_MINUTE:
        v.append(Violation(f"{path}.tariff.per_minute", f"€{t.per_minute} is not an allowed per-minute tariff; "
                                                        f"allowed: {tariffs.allowed(tariffs.PER_MINUTE)}"))
    if t.per_minute is not None and t.per_minute > tariffs.MAX_COST_REQUIRED_ABOVE and t.max_call_cost is None:
        v.append(Violation(f"{path}.tariff.max_call_cost",
                           f"required when the per-minute tariff is above €{tariffs.MAX_COST_REQUIRED_ABOVE}"))
    if t.max_call_cost is not None:
        if t.max_call_cost <= (t.per_call or 0):
            v.append(Violation(f"{path}.tariff.max_call_cost", "must be more than the per-call tariff"))
        elif not t.per_minute:
            v.append(Violation(f"{path}.tariff.max_call_cost", "needs a per-minute tariff to limit the duration"))
    limit = call_limit(n)
    if limit is not None and t.warning_before >= limit:
        v.append(Violation(f"{path}.tariff.warning_before",
                           f"{t.warning_before} s is not before the end of a {limit} s call"))
    return v


def check_recording(n: ServiceNumberPlan, path: str) -> list[Violation]:
    r = n.recording
    if r.policy is RecordingPolicy.NEVER and r.announce is not None:
        return [Violation(f"{path}.recording.announce",
                          "announces a recording, but the policy is 'never'; drop it or choose a policy")]
    return []


def check_retention(text: str) -> list[Violation]:
    amount, unit = int(text[:-1]), text[-1]
    if (unit == "y" and amount > MAX_RETENTION_YEARS) or (unit == "d" and amount > MAX_RETENTION_YEARS * 366):
        return [Violation("recording_retention", f"at most {MAX_RETENTION_YEARS} years ({text!r} is longer)")]
    return []


def call_limit(n: ServiceNumberPlan) -> int | None:
    """Maximum call duration in seconds: the stricter of the direct limit and the one that follows
    from the maximum call cost."""
    t = n.tariff
    if t is None:
        return None
    limits = [t.max_duration] if t.max_duration else []
    if t.max_call_cost is not None and t.per_minute:
        computed = tariffs.max_duration_seconds(t.max_call_cost, t.per_call or Decimal(0), t.per_minute)
        if computed is not None:
            limits.append(computed)
    return min(limits) if limits else None


FLOW_EXCLUSIVE = ("routings", "switches", "start", "regions", "rosters", "splits")


def check_flow_number(n: ServiceNumberPlan, path: str, flows: set[str]) -> list[Violation]:
    """A number that runs a call flow: Premium only, and the flow replaces its routing steps."""
    v: list[Violation] = []
    if n.package is not Package.PREMIUM:
        v.append(Violation(f"{path}.flow", f"call flows are in the premium package, not {n.package}"))
    if n.flow not in flows:
        v.append(Violation(f"{path}.flow", f"flow {n.flow!r} is not defined in this plan's flows"))
    for field in FLOW_EXCLUSIVE:
        if getattr(n, field):
            v.append(Violation(f"{path}.{field}", "a number that runs a flow routes by the flow; drop this"))
    if n.active is not None:
        v.append(Violation(f"{path}.active", "a number that runs a flow routes by the flow; drop this"))
    return v


def check_number(n: ServiceNumberPlan, path: str, now: datetime, announcements: set[str],
                 flows: set[str] | None = None) -> list[Violation]:
    v: list[Violation] = []
    limits = LIMITS[n.package]
    kind = parse_service_number(n.number).kind
    if n.flow is not None:
        v.extend(check_flow_number(n, path, flows or set()))
        v.extend(check_tariff(n, kind, path))
        v.extend(check_recording(n, path))
        return v + _announcement_refs(n, path, announcements)

    v.extend(_check_routings(n, path, limits))
    v.extend(_check_switches(n, path, now, limits))
    if n.blocking.mobile and kind is not NumberKind.FREEPHONE:
        v.append(Violation(f"{path}.blocking.mobile", "blocking mobile callers is only possible on 0800 numbers"))
    if len(set(n.blocking.blacklist)) != len(n.blocking.blacklist):
        v.append(Violation(f"{path}.blocking.blacklist", "lists a caller twice"))

    v.extend(check_steps(n, path))
    v.extend(check_tariff(n, kind, path))
    v.extend(check_recording(n, path))
    return v + _announcement_refs(n, path, announcements)


def _check_routings(n: ServiceNumberPlan, path: str, limits: PackageLimits) -> list[Violation]:
    """The routings, their destinations and the active routing."""
    v: list[Violation] = []
    if not n.routings:
        v.append(Violation(f"{path}.routings", "at least one routing is needed"))
    if len(n.routings) > limits.routings:
        v.append(Violation(
            f"{path}.routings",
            f"the {n.package} package allows at most {limits.routings} routings, this has {len(n.routings)}",
        ))
    if n.active is None:
        v.append(Violation(f"{path}.active", "name the active routing (or give the number a flow)"))
    elif n.active not in n.routings:
        v.append(Violation(f"{path}.active", f"names routing {n.active!r}, which is not defined"))
    for name, dests in n.routings.items():
        if not dests:
            v.append(Violation(f"{path}.routings.{name}", "needs at least one destination"))
        if len(dests) > limits.destinations_per_routing:
            v.append(Violation(
                f"{path}.routings.{name}",
                f"at most {limits.destinations_per_routing} destinations (a first number and "
                f"{limits.destinations_per_routing - 1} overflow numbers), this has {len(dests)}",
            ))
        seen: set[str] = set()
        for i, d in enumerate(dests):
            if d.number in seen:
                v.append(Violation(f"{path}.routings.{name}[{i}].number", "repeats an earlier destination"))
            seen.add(d.number)
    return v


def _check_switches(n: ServiceNumberPlan, path: str, now: datetime, limits: PackageLimits) -> list[Violation]:
    """Switch moments: in the future, to a defined routing, one per minute, within the package's count."""
    v: list[Violation] = []
    future = [s for s in n.switches if s.at > now]
    if len(future) > limits.switch_moments:
        v.append(Violation(
            f"{path}.switches",
            f"the {n.package} package allows at most {limits.switch_moments} switch moments ahead, "
            f"this has {len(future)}",
        ))
    moments: set[datetime] = set()
    for i, s in enumerate(n.switches):
        if s.at <= now:
            v.append(Violation(
                f"{path}.switches[{i}].at",
                f"{s.at:%Y-%m-%d %H:%M} is not in the future; remove it or make "
                f"{s.routing!r} the active routing",
            ))
        if s.routing not in n.routings:
            v.append(Violation(f"{path}.switches[{i}].routing", f"names routing {s.routing!r}, which is not defined"))
        if s.at in moments:
            v.append(Violation(f"{path}.switches[{i}].at", "two switch moments at the same minute"))
        moments.add(s.at)
    return v


def _announcement_refs(n: ServiceNumberPlan, path: str, announcements: set[str]) -> list[Violation]:
    v: list[Violation] = []
    refs = {
        "blocking.message": n.blocking.message,
        "announcements.welcome": n.announcements.welcome,
        "announcements.whisper": n.announcements.whisper,
        "announcements.final": n.announcements.final,
        "tariff.announcement": n.tariff.announcement if n.tariff else None,
        "recording.announce": n.recording.announce,
    }
    for field, ref in refs.items():
        if ref is not None and ref not in announcements and ref not in BUILTIN_ANNOUNCEMENTS:
            v.append(Violation(f"{path}.{field}", f"announcement {ref!r} is not defined in this plan"))
    return v


def check_plan(plan: TenantPlan, now: datetime, checked_flows: Collection[str] = ()) -> list[Violation]:
    """Every violation of the plan. ``checked_flows``: flows whose own checks passed before
    against the same tenant-level names (flow_rules.check_flows)."""
    v: list[Violation] = []
    announcements = set(plan.announcements)
    for name, a in plan.announcements.items():
        if (a.sound is None) == (a.file is None):
            v.append(Violation(f"announcements.{name}", "give exactly one of 'sound' or 'file'"))
    v.extend(check_retention(plan.recording_retention))
    v.extend(check_call_centres(plan, announcements))
    v.extend(check_flows(plan.flows, {"announcements": announcements, "lists": set(plan.lists),
                                      "queues": set(plan.queues), "hunt_groups": set(plan.hunt_groups)},
                         checked_flows))
    for name in plan.layout:
        if name not in plan.flows:
            v.append(Violation(f"layout.{name}", f"flow {name!r} is not defined"))
    seen: dict[str, int] = {}
    for i, n in enumerate(plan.numbers):
        path = f"numbers[{i}]"
        if n.number in seen:
            v.append(Violation(f"{path}.number", f"{n.number} is already defined at numbers[{seen[n.number]}]"))
        seen.setdefault(n.number, i)
        v.extend(check_number(n, path, now, announcements, set(plan.flows)))
    return v


def validate_plan(plan: TenantPlan, now: datetime) -> TenantPlan:
    """Raise PlanInvalid with every violation, or return the plan unchanged."""
    violations = check_plan(plan, now)
    if violations:
        raise PlanInvalid(violations)
    return plan
