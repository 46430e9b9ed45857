"""What an apply checks beyond the package rules, by who asks for it (issue 14, docs/security.md):
numbers allocated to the plan's tenant, removals confirmed, and the plan version the change was
based on. ``check`` runs while the apply validates and only reads; ``commit`` writes in the
apply's final transaction (services/apply.py), so the version compare-and-set is atomic with it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from orchestrator.domain.guards import removal_needs_confirmation
from orchestrator.domain.plan import TenantPlan
from orchestrator.errors import PlanInvalid, RemovalNotConfirmed, VersionConflict, Violation
from orchestrator.store import tenancy
from orchestrator.store import tenants as tenant_store
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
    on; another version is a VersionConflict. ``record``: see below. The defaults are the trusted operator's."""

    numbers: Literal["check", "claim"] = "claim"
    allow_removal: bool = True
    if_version: int | None = None
    claimed_by: str = "apply"
    # Rows committed with the change or not at all (the API's audit entry): added in the apply's
    # final transaction, not before, so the database's write lock is not held while it renders.
    record: Callable[[Session], object] | None = None


OPERATOR_GUARDS = ApplyGuards()
TENANT_GUARDS = ApplyGuards(numbers="check", allow_removal=False)


def allocation_violations(session: Session, tenant: str, numbers: list[tuple[int, str]],
                          guards: ApplyGuards) -> tuple[list[Violation], list[str]]:
    """(violations, numbers to allocate) for the plan entries ``numbers`` ((index, E.164)) of
    ``tenant``. A tenant is never told whose a number is; the operator ("claim") is. Reads only:
    a number a stored plan uses counts as its tenant's (``tenancy.adopt_held_numbers`` writes that
    down when the apply commits)."""
    e164s = [e164 for _, e164 in numbers]
    held = tenant_store.owners(session, e164s) | tenancy.allocations(session, e164s)
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


def check(session: Session, plan: TenantPlan, positions: list[int], before: set[str], after: set[str],
          guards: ApplyGuards) -> list[str]:
    """Allocation, removal and version checks while the apply validates: reads only, so no write
    lock is taken before the final transaction. Returns the free numbers ``commit`` allocates."""
    violations, claim = allocation_violations(
        session, plan.tenant, [(i, n.number) for n, i in zip(plan.numbers, positions, strict=True)], guards)
    if violations:
        raise PlanInvalid(violations)
    gone = removal_needs_confirmation(before, after)
    if gone and not guards.allow_removal:
        raise RemovalNotConfirmed(gone, len(after))
    if guards.if_version is not None:  # early, before rendering; ``commit`` repeats it atomically
        current = tenancy.plan_version(session, plan.tenant)
        if current != guards.if_version:
            raise VersionConflict(guards.if_version, current)
    return claim


def commit(session: Session, tenant: str, claim: list[str], guards: ApplyGuards, progress: Progress) -> None:
    """The guards' writes, inside the apply's final transaction (before the plan is stored): the
    plan version's compare-and-set (a change committed since ``check`` read it is a
    VersionConflict) and the free numbers allocated to the tenant (one allocated by someone else
    meanwhile fails the insert: AllocationConflict). ``set_version`` follows the version record."""
    tenancy.adopt_held_numbers(session)
    tenancy.claim_plan_version(session, tenant, guards.if_version)
    tenancy.allocate_free(session, claim, tenant, guards.claimed_by)
    if guards.record is not None:
        guards.record(session)
    if claim:
        progress(f"allocated {len(claim)} unallocated number(s) to tenant {tenant!r}: "
                 + ", ".join(claim[:5]) + (" ..." if len(claim) > 5 else ""))


def set_version(session: Session, tenant: str, version_id: int) -> None:
    """The tenant's plan is at ``version_id`` from this transaction's commit on."""
    tenancy.set_plan_version(session, tenant, version_id)
