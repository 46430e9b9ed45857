"""What an apply checks beyond the package rules, by who asks for it (issue 14, docs/security.md):
numbers allocated to the plan's tenant, removals confirmed, and the plan version the change was
based on. Run by ``apply_document`` before it stores anything."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from orchestrator.domain.guards import removal_needs_confirmation
from orchestrator.domain.plan import TenantPlan
from orchestrator.errors import PlanInvalid, RemovalNotConfirmed, Violation
from orchestrator.store import tenancy
from orchestrator.store.session import Session

Progress = Callable[[str], None]


@dataclass(frozen=True)
class ApplyGuards:
    """What an apply checks beyond the package rules, by who asks (docs/security.md).

    ``numbers``: "check" = every number must be allocated to the plan's tenant (tenants, the
    API); "claim" = unallocated numbers are allocated to the plan's tenant on the way (the trusted
    operator: the CLI, the demo, tests); a number allocated to another tenant is refused either
    way. ``allow_removal``: a plan that leaves the tenant no number, or drops more than a few, is
    refused unless True. ``if_version``: the plan version (AppliedVersion id) the change is based
    on; another version is a VersionConflict. The defaults are the trusted operator's."""

    numbers: Literal["check", "claim"] = "claim"
    allow_removal: bool = True
    if_version: int | None = None
    claimed_by: str = "apply"


OPERATOR_GUARDS = ApplyGuards()
TENANT_GUARDS = ApplyGuards(numbers="check", allow_removal=False)


def allocation_violations(session: Session, tenant: str, numbers: list[tuple[int, str]],
                          guards: ApplyGuards) -> tuple[list[Violation], list[str]]:
    """(violations, numbers to allocate) for the plan entries ``numbers`` ((index, E.164)) of
    ``tenant``. A tenant is never told whose a number is; the operator ("claim") is."""
    tenancy.adopt_held_numbers(session)
    held = tenancy.allocations(session, [e164 for _, e164 in numbers])
    violations, claim = [], []
    for i, e164 in numbers:
        owner = held.get(e164)
        if owner == tenant:
            continue
        if owner is None and guards.numbers == "claim":
            claim.append(e164)
        elif guards.numbers == "claim":
            violations.append(Violation(f"numbers[{i}].number", f"allocated to tenant {owner!r}; release it first "
                                                                "('orchestrator number release')"))
        else:
            violations.append(Violation(f"numbers[{i}].number", "this number is not allocated to this tenant"))
    return violations, claim


def guard(session: Session, plan: TenantPlan, positions: list[int], before: set[str], after: set[str],
           guards: ApplyGuards, progress: Progress) -> None:
    """Allocation, removal and version checks, before anything is stored (see ApplyGuards). The
    version claim is a write: from it to the commit the database's write lock is this apply's."""
    violations, claim = allocation_violations(
        session, plan.tenant, [(i, n.number) for n, i in zip(plan.numbers, positions, strict=True)], guards)
    if violations:
        raise PlanInvalid(violations)
    gone = removal_needs_confirmation(before, after)
    if gone and not guards.allow_removal:
        raise RemovalNotConfirmed(gone, len(after))
    tenancy.claim_plan_version(session, plan.tenant, guards.if_version)
    # Found free before the claim took the write lock: one allocated by another process in between
    # fails this insert on the primary key (AllocationConflict), never moves silently.
    tenancy.allocate_free(session, claim, plan.tenant, guards.claimed_by)
    if claim:
        progress(f"allocated {len(claim)} unallocated number(s) to tenant {plan.tenant!r}: "
                 + ", ".join(claim[:5]) + (" ..." if len(claim) > 5 else ""))
