"""Which tenant owns what (issue 14): numbers allocated to tenants by the operator, and the
version each tenant's plan is at. Like the other store modules, every function works inside the caller's
session and leaves committing to the caller."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import func, insert, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from orchestrator.errors import AllocationConflict, NotFound, VersionConflict
from orchestrator.store import models as m
from orchestrator.store.engine import CHUNK  # rows per IN (...) list

# --- number allocations ---------------------------------------------------------------------------


def adopt_held_numbers(session: Session) -> None:
    """Numbers a stored plan already uses count as allocated to that plan's tenant: databases from
    before allocations existed keep working, and from then on the table alone decides."""
    held = (select(m.ServiceNumber.e164, m.Tenant.name).join(m.Tenant)
            .where(col(m.ServiceNumber.e164).not_in(select(m.NumberAllocation.e164))))
    rows = session.exec(held).all()
    if rows:
        session.execute(insert(m.NumberAllocation), [{"e164": e, "tenant": t, "allocated_by": "adopted"}
                                                    for e, t in rows])


def allocations(session: Session, numbers: Collection[str]) -> dict[str, str]:
    """E.164 -> the tenant it is allocated to, for those of ``numbers`` that are allocated."""
    items = list(numbers)
    out: dict[str, str] = {}
    for i in range(0, len(items), CHUNK):
        query = select(m.NumberAllocation.e164, m.NumberAllocation.tenant).where(
            col(m.NumberAllocation.e164).in_(items[i:i + CHUNK]))
        out.update(dict(session.exec(query).all()))
    return out


def allocation_list(session: Session, tenant: str | None = None) -> list[m.NumberAllocation]:
    query = select(m.NumberAllocation)
    if tenant is not None:
        query = query.where(m.NumberAllocation.tenant == tenant)
    return list(session.exec(query.order_by(col(m.NumberAllocation.e164))))


def allocate(session: Session, e164: str, tenant: str, by: str) -> bool:
    """Allocate ``e164`` to ``tenant``; False when it already was. A number allocated to another
    tenant is never moved here: it must be released first (AllocationConflict)."""
    row = session.get(m.NumberAllocation, e164)
    if row is not None:
        if row.tenant != tenant:
            raise AllocationConflict(f"{e164} is allocated to tenant {row.tenant!r}; release it first")
        return False
    session.add(m.NumberAllocation(e164=e164, tenant=tenant, allocated_by=by))
    session.flush()
    return True


def allocate_free(session: Session, numbers: list[str], tenant: str, by: str) -> None:
    """Allocate numbers found unallocated in this transaction (``allocations``) in one statement per
    chunk: an operator's first apply of 10,000 numbers must not take 10,000 round trips."""
    try:
        for i in range(0, len(numbers), CHUNK):
            session.execute(insert(m.NumberAllocation), [{"e164": e, "tenant": tenant, "allocated_by": by}
                                                        for e in numbers[i:i + CHUNK]])
    except IntegrityError as exc:
        raise AllocationConflict("a number of this plan was allocated by someone else meanwhile; "
                                 "apply again") from exc


def release(session: Session, e164: str) -> str:
    """Release ``e164``; returns the tenant it was allocated to. Refused while a plan uses it,
    so no stored plan ever holds a number that is not its tenant's."""
    row = session.get(m.NumberAllocation, e164)
    if row is None:
        raise NotFound(f"{e164} is not allocated")
    in_use = session.exec(select(m.Tenant.name).join(m.ServiceNumber).where(m.ServiceNumber.e164 == e164)).first()
    if in_use is not None:
        raise AllocationConflict(f"{e164} is in the plan of tenant {in_use!r}; take it out of that plan first")
    tenant = row.tenant
    session.delete(row)
    session.flush()
    return tenant


# --- plan versions --------------------------------------------------------------------------------


def plan_version(session: Session, tenant: str) -> int:
    """The AppliedVersion id the tenant's plan is at; 0 before its first apply."""
    row = session.get(m.PlanHead, tenant)
    if row is not None:
        return row.version_id
    # Databases from before PlanHead: the tenant's last applied version.
    last = session.exec(select(func.max(m.AppliedVersion.id)).where(m.AppliedVersion.tenant == tenant)).one()
    return int(last or 0)


def claim_plan_version(session: Session, tenant: str, expected: int | None) -> int:
    """Start a change of the tenant's plan: check it is still at ``expected`` (None: any version)
    and write that down with a compare-and-set. This is a write, so from here to the commit the
    database holds its write lock for this transaction: another change (from this process or
    another) that read the same version fails here or waits, and never commits over this one.
    Returns the version the change is based on."""
    current = plan_version(session, tenant)
    if expected is not None and expected != current:
        raise VersionConflict(expected, current)
    if session.get(m.PlanHead, tenant) is None:
        try:
            session.execute(insert(m.PlanHead).values(tenant=tenant, version_id=current))
        except IntegrityError as exc:  # another change committed its first version meanwhile
            raise VersionConflict(current, None) from exc
        return current
    # Writes the same value: its WHERE is the compare, its row count the answer.
    result = session.execute(update(m.PlanHead)
                             .where(col(m.PlanHead.tenant) == tenant, col(m.PlanHead.version_id) == current)
                             .values(version_id=current))
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise VersionConflict(current, None)
    return current


def set_plan_version(session: Session, tenant: str, version_id: int) -> None:
    """After the apply recorded its AppliedVersion: the plan is at that version (same transaction)."""
    session.execute(update(m.PlanHead).where(col(m.PlanHead.tenant) == tenant).values(version_id=version_id))
