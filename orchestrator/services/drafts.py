"""Try a number's new routing on the tenant's test number before it goes live, then promote it.

The operator lends a Premium tenant an 088 test number (``test_number`` in the plan). ``try``
puts one number's routing from a draft plan on that test number, next to the live numbers,
so ops can call it; ``promote`` moves what the test number runs onto the live number. Both go
through the normal apply (validation, verification, rollback on failure).
"""

from __future__ import annotations

from datetime import datetime

from orchestrator.domain.flow_drafts import test_number_of
from orchestrator.domain.numbers import parse_service_number
from orchestrator.domain.plan import Package, ServiceNumberPlan, TenantPlan
from orchestrator.errors import NotFound
from orchestrator.services.apply import ApplyReport, ApplyTarget, Progress, apply_plan
from orchestrator.store import plans as plan_store
from orchestrator.store.session import Session


def _test_number(plan: TenantPlan) -> str:
    return test_number_of(plan.test_number)


def _with(plan: TenantPlan, entry: ServiceNumberPlan) -> TenantPlan:
    others = [n for n in plan.numbers if n.number != entry.number]
    return plan.model_copy(update={"numbers": [*others, entry]})


def drafted(live: TenantPlan | None, draft: TenantPlan, number: str) -> TenantPlan:
    """The live plan plus ``number``'s routing from ``draft`` on the test number. Pure."""
    test = _test_number(draft)
    e164 = parse_service_number(number).e164
    entry = next((n for n in draft.numbers if n.number == e164), None)
    if entry is None:
        raise NotFound(f"{number} is not in the draft plan")
    base = live if live is not None else draft.model_copy(update={"numbers": []})
    base = base.model_copy(update={"test_number": draft.test_number,
                                   "announcements": base.announcements | draft.announcements})
    # The test number is a Premium 088 number: it may run any package's routing, no tariff.
    on_test = entry.model_copy(update={"number": test, "package": Package.PREMIUM, "tariff": None,
                                       "allow_foreign": False})
    return _with(base, on_test)


def promoted(live: TenantPlan, number: str) -> TenantPlan:
    """The live plan with what the test number runs moved onto ``number``. Pure."""
    test = _test_number(live)
    trial = next((n for n in live.numbers if n.number == test), None)
    if trial is None:
        raise NotFound("nothing is on the test number; `orchestrator try` a draft first")
    e164 = parse_service_number(number).e164
    current = next((n for n in live.numbers if n.number == e164), None)
    package = current.package if current is not None else trial.package
    moved = trial.model_copy(update={"number": e164, "package": package,
                                     "tariff": current.tariff if current else None,
                                     "allow_foreign": current.allow_foreign if current else False})
    return _with(live, moved)


async def try_draft(draft: TenantPlan, number: str, session: Session, target: ApplyTarget, *,
                    now: datetime, progress: Progress = lambda _s: None) -> ApplyReport:
    live = plan_store.current_plan(session, draft.tenant)
    plan = drafted(live, draft, number)
    progress(f"putting {number}'s draft routing on test number {plan.test_number}")
    return await apply_plan(plan, session, target, now=now, progress=progress)


async def promote(tenant: str, number: str, session: Session, target: ApplyTarget, *, now: datetime,
                  progress: Progress = lambda _s: None) -> ApplyReport:
    live = plan_store.load_plan(session, tenant)
    plan = promoted(live, number)
    progress(f"promoting what test number {live.test_number} runs to {number}")
    return await apply_plan(plan, session, target, now=now, progress=progress)
