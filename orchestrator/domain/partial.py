"""Parse and check only the changed entries of a plan document (see digest.py), reporting every
violation with its path in the whole document. Pure."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from orchestrator.domain.digest import PlanDelta
from orchestrator.domain.plan import TenantPlan, parse_plan
from orchestrator.domain.rules import check_plan
from orchestrator.errors import PlanInvalid, Violation

_NUMBER_PATH = re.compile(r"^numbers\[(\d+)\]")


def _in_document(violations: list[Violation], changed: list[int]) -> list[Violation]:
    """``numbers[j]`` of the partial plan is ``numbers[changed[j]]`` of the document."""
    def fix(v: Violation) -> Violation:
        m = _NUMBER_PATH.match(v.field)
        if m is None or int(m.group(1)) >= len(changed):
            return v
        return Violation(f"numbers[{changed[int(m.group(1))]}]{v.field[m.end():]}", v.rule)
    return [fix(v) for v in violations]


def unchanged_flows(plan: TenantPlan, stored: Mapping[str, Any]) -> set[str]:
    """The plan's flows that equal ``stored`` (the flows as committed, in the plan format)."""
    return {name for name, f in plan.flows.items() if stored.get(name) == f.model_dump(mode="json")}


@dataclass(frozen=True)
class Checked:
    plan: TenantPlan
    same_flows: frozenset[str]  # flows equal to their committed selves: not checked (nor rendered) again


def checked_changes(document: Mapping[str, Any], delta: PlanDelta, now: datetime) -> TenantPlan:
    return checked_document(document, delta, now).plan


def checked_document(document: Mapping[str, Any], delta: PlanDelta, now: datetime,
                     stored_flows: Mapping[str, Any] | None = None) -> Checked:
    """The tenant-level part of the document with its changed numbers only, parsed and checked
    against the package rules; raises PlanInvalid with every violation. ``stored_flows``: the
    tenant's flows as committed, given only while the tenant salt is as committed (the names
    flows refer to are the same): a flow equal to its committed self passed these checks then
    and is not checked again, as an unchanged number entry is not."""
    entries = document.get("numbers") or []
    partial = {**document, "numbers": [entries[i] for i in delta.changed]}
    try:
        plan = parse_plan(partial)
    except PlanInvalid as exc:
        raise PlanInvalid(_in_document(exc.violations, delta.changed)) from exc
    same = frozenset(unchanged_flows(plan, stored_flows) if stored_flows else ())
    violations = check_plan(plan, now, same)
    for j, n in enumerate(plan.numbers):
        if n.number in delta.unchanged:
            violations.append(Violation(f"numbers[{j}].number",
                                        f"{n.number} is already defined at numbers[{delta.unchanged[n.number]}]"))
    if violations:
        raise PlanInvalid(_in_document(violations, delta.changed))
    return Checked(plan, same)
