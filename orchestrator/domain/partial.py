"""Parse and check only the changed entries of a plan document (see digest.py), reporting every
violation with its path in the whole document. Pure."""

from __future__ import annotations

import re
from collections.abc import Mapping
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


def checked_changes(document: Mapping[str, Any], delta: PlanDelta, now: datetime) -> TenantPlan:
    """The tenant-level part of the document with its changed numbers only, parsed and checked
    against the package rules; raises PlanInvalid with every violation."""
    entries = document.get("numbers") or []
    partial = {**document, "numbers": [entries[i] for i in delta.changed]}
    try:
        plan = parse_plan(partial)
    except PlanInvalid as exc:
        raise PlanInvalid(_in_document(exc.violations, delta.changed)) from exc
    violations = check_plan(plan, now)
    for j, n in enumerate(plan.numbers):
        if n.number in delta.unchanged:
            violations.append(Violation(f"numbers[{j}].number",
                                        f"{n.number} is already defined at numbers[{delta.unchanged[n.number]}]"))
    if violations:
        raise PlanInvalid(_in_document(violations, delta.changed))
    return plan
