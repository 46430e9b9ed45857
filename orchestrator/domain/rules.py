"""Package rules: what a Basis / Standaard / Premium number may contain.

``check_plan`` returns every violation at once so ops can fix a plan in one go; the caller
decides to store nothing when the list is not empty.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from orchestrator.domain.numbers import NumberKind, parse_service_number
from orchestrator.domain.plan import Package, ServiceNumberPlan, TenantPlan
from orchestrator.errors import PlanInvalid, Violation


@dataclass(frozen=True)
class PackageLimits:
    routings: int
    switch_moments: int
    destinations_per_routing: int  # the first number plus its overflow numbers


LIMITS: dict[Package, PackageLimits] = {
    Package.BASIS: PackageLimits(routings=5, switch_moments=5, destinations_per_routing=3),
    Package.STANDAARD: PackageLimits(routings=5, switch_moments=5, destinations_per_routing=3),
    Package.PREMIUM: PackageLimits(routings=50, switch_moments=50, destinations_per_routing=10),
}

BUILTIN_ANNOUNCEMENTS = frozenset({"default-rejection", "default-final", "default-whisper"})


def check_number(n: ServiceNumberPlan, path: str, now: datetime, announcements: set[str]) -> list[Violation]:
    v: list[Violation] = []
    limits = LIMITS[n.package]
    kind = parse_service_number(n.number).kind

    if not n.routings:
        v.append(Violation(f"{path}.routings", "at least one routing is needed"))
    if len(n.routings) > limits.routings:
        v.append(Violation(
            f"{path}.routings",
            f"the {n.package} package allows at most {limits.routings} routings, this has {len(n.routings)}",
        ))
    if n.active not in n.routings:
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

    if n.blocking.mobile and kind is not NumberKind.FREEPHONE:
        v.append(Violation(f"{path}.blocking.mobile", "blocking mobile callers is only possible on 0800 numbers"))
    if len(set(n.blocking.blacklist)) != len(n.blocking.blacklist):
        v.append(Violation(f"{path}.blocking.blacklist", "lists a caller twice"))

    refs = {
        "blocking.message": n.blocking.message,
        "announcements.welcome": n.announcements.welcome,
        "announcements.whisper": n.announcements.whisper,
        "announcements.final": n.announcements.final,
    }
    for field, ref in refs.items():
        if ref is not None and ref not in announcements and ref not in BUILTIN_ANNOUNCEMENTS:
            v.append(Violation(f"{path}.{field}", f"announcement {ref!r} is not defined in this plan"))
    return v


def check_plan(plan: TenantPlan, now: datetime) -> list[Violation]:
    v: list[Violation] = []
    announcements = set(plan.announcements)
    for name, a in plan.announcements.items():
        if (a.sound is None) == (a.file is None):
            v.append(Violation(f"announcements.{name}", "give exactly one of 'sound' or 'file'"))
    seen: dict[str, int] = {}
    for i, n in enumerate(plan.numbers):
        path = f"numbers[{i}]"
        if n.number in seen:
            v.append(Violation(f"{path}.number", f"{n.number} is already defined at numbers[{seen[n.number]}]"))
        seen.setdefault(n.number, i)
        v.extend(check_number(n, path, now, announcements))
    return v


def validate_plan(plan: TenantPlan, now: datetime) -> TenantPlan:
    """Raise PlanInvalid with every violation, or return the plan unchanged."""
    violations = check_plan(plan, now)
    if violations:
        raise PlanInvalid(violations)
    return plan
