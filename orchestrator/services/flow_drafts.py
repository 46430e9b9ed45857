"""Try a draft call flow on the tenant's 088 test number, then promote it to live numbers
(domain/flow_drafts.py says how a draft lives in the plan). Both are applies of the tenant's
plan: validated as a whole, loaded into Asterisk, verified, committed or nothing at all."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from orchestrator.domain import flow_drafts
from orchestrator.domain.flow import Flow
from orchestrator.domain.flow_diff import flow_changes
from orchestrator.domain.numbers import parse_service_number
from orchestrator.domain.plan import TenantPlan, to_document
from orchestrator.errors import NotFound, PlanInvalid, Violation
from orchestrator.services import tenancy
from orchestrator.services.apply import ApplyReport, ApplyTarget, Progress, apply_document
from orchestrator.services.apply_guards import OPERATOR_GUARDS, ApplyGuards
from orchestrator.store.session import Session


@dataclass(frozen=True)
class DraftOutcome:
    report: ApplyReport
    test_number: str  # E.164
    changes: list[str]  # the draft against the live flow, in words
    numbers: list[str]  # the live numbers running the flow (after a promote: the draft)


def flow_in(data: Any, name: str) -> Any:
    """The flow a draft file holds: one flow (``{start, blocks}``), or a plan whose ``flows`` has it."""
    if isinstance(data, dict) and "flows" in data and "blocks" not in data:
        flows = data["flows"]
        if not isinstance(flows, dict) or name not in flows:
            raise PlanInvalid([Violation("flows", f"the file has no flow {name!r}")])
        return flows[name]
    return data


def live_document(session: Session, tenant: str, now: datetime,
                  shown: Callable[[TenantPlan], dict[str, Any]] = to_document) -> tuple[TenantPlan, dict[str, Any]]:
    plan = tenancy.stored_plan(session, tenant, now)
    if plan is None:
        raise NotFound(f"tenant {tenant!r} has no plan yet")
    return plan, shown(plan)


def _flow(document: dict[str, Any], name: str) -> Flow | None:
    found = document.get("flows", {}).get(name)
    return Flow.model_validate(found) if found is not None else None


def _changes(before: Flow | None, after: Flow | None, name: str) -> list[str]:
    return flow_changes({name: before} if before else {}, {name: after} if after else {})


async def try_flow(session: Session, target: ApplyTarget, tenant: str, name: str, flow: Any, *, now: datetime,
                   guards: ApplyGuards = OPERATOR_GUARDS, progress: Progress = lambda _s: None) -> DraftOutcome:
    """Put ``flow`` on the tenant's test number as the draft of flow ``name``; no live number
    changes. The draft's errors are named ``draft.<field>``; nothing is stored then."""
    live_plan, live = live_document(session, tenant, now)
    document = flow_drafts.with_draft(live, name, flow)
    test = flow_drafts.test_number_of(document.get("test_number"))
    progress(f"putting the draft of flow {name!r} on test number {document.get('test_number')}")
    try:
        report = await apply_document(document, session, target, now=now, progress=progress, guards=guards,
                                      summary=f"draft of flow {name!r} on the test number")
    except PlanInvalid as exc:
        raise flow_drafts.draft_violations(exc, name) from exc
    changes = _changes(live_plan.flows.get(name), _flow(document, flow_drafts.draft_name(name)), name)
    return DraftOutcome(report, test, changes, _running(document, name, test))


async def promote_flow(session: Session, target: ApplyTarget, tenant: str, name: str, numbers: list[str], *,
                       now: datetime, guards: ApplyGuards = OPERATOR_GUARDS,
                       progress: Progress = lambda _s: None) -> DraftOutcome:
    """Make the draft of ``name`` the live flow ``name`` and link ``numbers`` to it."""
    live_plan, live = live_document(session, tenant, now)
    document = flow_drafts.promoted(live, name, numbers)
    test = flow_drafts.test_number_of(document.get("test_number"))
    progress(f"promoting the draft of flow {name!r}")
    report = await apply_document(document, session, target, now=now, progress=progress, guards=guards,
                                  summary=f"draft of flow {name!r} promoted")
    changes = _changes(live_plan.flows.get(name), _flow(document, name), name)
    return DraftOutcome(report, test, changes, _running(document, name, test))


def _running(document: dict[str, Any], name: str, test: str) -> list[str]:
    out = []
    for entry in document.get("numbers", []):
        e164 = parse_service_number(str(entry["number"])).e164
        if entry.get("flow") == name and e164 != test:
            out.append(e164)
    return out
