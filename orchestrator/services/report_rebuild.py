"""Calls the live controller did not see, rebuilt from Asterisk's CDR and queue_log and stored as
call records (with rollups), so no call is missing from a report. A call already recorded (same
call id: the caller channel's uniqueid) is left as it is. docs/reports.md, "Calls the controller
did not see"."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from orchestrator.domain.callers import caller_hash, origin_of, tenant_key
from orchestrator.domain.numbers import parse_service_number
from orchestrator.domain.rebuild import RebuiltCall, parse_cdr, parse_queue_log, rebuild
from orchestrator.domain.tariffs import call_revenue_cents
from orchestrator.errors import NotFound
from orchestrator.services.tenancy import tenant_plan, tenants
from orchestrator.store import call_records
from orchestrator.store import tenants as tenant_store
from orchestrator.store.session import Engine, Session

NOTE = "rebuilt from CDR"


@dataclass(frozen=True)
class RebuildResult:
    calls: int  # calls in the CDR (in the range)
    added: int  # new records
    known: int  # already recorded by the controller (or an earlier rebuild)
    unattributed: int  # calls whose service number or tenant cannot be told


def _flow_numbers(engine: Engine) -> dict[tuple[str, str], list[str]]:
    out: dict[tuple[str, str], list[str]] = {}
    with Session(engine) as session:
        for tenant in tenants(session):
            try:
                plan = tenant_plan(session, tenant)
            except NotFound:
                continue
            for n in plan.numbers:
                if n.flow:
                    out.setdefault((tenant, n.flow), []).append(parse_service_number(n.number).e164)
    return out


def _values(c: RebuiltCall, tenant: str, hash_key: str, tariff: tuple[str | None, str | None]) -> dict[str, Any]:
    per_call, per_minute = tariff
    revenue = revenue_call = 0
    if (per_call or per_minute) and c.outcome == "answered":
        revenue = call_revenue_cents(Decimal(per_call or 0), Decimal(per_minute or 0), c.talk_s)
        revenue_call = call_revenue_cents(Decimal(per_call or 0), None, 0.0)
    v = c.visit
    return {"call_id": c.call_id, "service_number": c.number, "tenant": tenant, "caller": c.caller,
            "started_at": c.started_at, "answered_at": c.answered_at, "ended_at": c.ended_at, "outcome": c.outcome,
            "reason": c.reason, "wait_s": c.wait_s, "talk_s": c.talk_s, "end_observed": False, "note": NOTE,
            "caller_hash": caller_hash(tenant_key(hash_key, tenant), c.caller) if hash_key else "",
            "origin": origin_of(c.caller), "flow": c.flow, "path": "",
            "queue": v.queue if v else None, "queue_result": v.result if v else None,
            "queue_wait_s": v.wait_s if v else None, "agent": v.agent if v else None,
            "tariff_per_call": per_call, "tariff_per_minute": per_minute, "revenue_cents": revenue,
            "revenue_call_cents": revenue_call}


def rebuild_calls(engine: Engine, cdr: Iterable[str], queue_log: Iterable[str], hash_key: str,
                  since: datetime | None = None) -> RebuildResult:
    """Store the calls of the CDR lines (from ``since`` on) the database does not have yet."""
    rows = [r for r in parse_cdr(cdr) if since is None or r.start >= since]
    calls, unknown = rebuild(rows, parse_queue_log(queue_log), _flow_numbers(engine))
    numbers = sorted({c.number for c in calls})
    with Session(engine) as session:
        owners = tenant_store.owners(session, numbers)
    tariffs = call_records.tariffs(engine, numbers)
    values = [_values(c, owners[c.number], hash_key, tariffs.get(c.number, (None, None)))
              for c in calls if c.number in owners]
    added = call_records.save_values(engine, values)
    unattributed = len(unknown) + len(calls) - len(values)
    return RebuildResult(len(calls) + len(unknown), added, len(values) - added, unattributed)
