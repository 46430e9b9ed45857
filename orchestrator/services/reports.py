"""Reports (issue 16): check a report request against the tenant (every filter must be the
tenant's own), read the rollups or the calls it needs, and build it with the pure kinds in
domain/reports. The CLI and the API both come here; docs/reports.md has the definitions."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from orchestrator.domain.numbers import parse_service_number
from orchestrator.domain.plan import TenantPlan
from orchestrator.domain.reports import handling, traffic
from orchestrator.domain.reports.intervals import Interval, parse_moment, periods
from orchestrator.domain.reports.model import CALL_FIELDS, Call, Kind, Pause, Query, Report, Rollup, Table
from orchestrator.errors import InputInvalid, NotFound, NumberInvalid, Violation
from orchestrator.services.tenancy import tenant_plan, tenants
from orchestrator.store import call_records, report_data
from orchestrator.store.session import Engine, Session

FORMATS = ("table", "json", "csv", "xlsx")


@dataclass(frozen=True)
class Request:
    """A report as asked for, unchecked (strings from the command line or the query string)."""

    tenant: str
    kind: str
    start: str
    end: str
    interval: str = "day"
    number: str | None = None
    queue: str | None = None
    flow: str | None = None
    more_than: int = 2
    abandon_grace_s: float = 5.0


def _choice(value: str, allowed: Iterable[str], field: str, out: list[Violation]) -> str:
    options = list(allowed)
    if value not in options:
        out.append(Violation(field, f"{value!r} is not one of: {', '.join(options)}"))
    return value


def check(engine: Engine, r: Request) -> Query:
    """The checked query; InputInvalid naming every bad field, NotFound for an unknown tenant."""
    bad: list[Violation] = []
    kind = _choice(r.kind, [k.value for k in Kind], "kind", bad)
    interval = _choice(r.interval, [i.value for i in Interval], "interval", bad)
    moments = {}
    for field, text in (("from", r.start), ("to", r.end)):
        try:
            moments[field] = parse_moment(text, field)
        except InputInvalid as exc:
            bad.extend(exc.violations)
    if r.more_than < 0:
        bad.append(Violation("more_than", "must be 0 or more"))
    if not 0 <= r.abandon_grace_s <= 600:
        bad.append(Violation("abandon_grace", "must be 0 to 600 seconds"))
    with Session(engine) as session:
        if r.tenant not in tenants(session):
            raise NotFound(f"no tenant {r.tenant!r}")
        try:
            plan: TenantPlan | None = tenant_plan(session, r.tenant)
        except NotFound:
            plan = None
    filters = _filters(engine, r, plan, bad)
    if bad:
        raise InputInvalid(bad)
    q = Query(r.tenant, Kind(kind), moments["from"], moments["to"], Interval(interval),
              number=filters.get("number"), queue=filters.get("queue"), flow=filters.get("flow"),
              more_than=r.more_than, abandon_grace_s=r.abandon_grace_s,
              service_level_s={n: qu.service_level for n, qu in (plan.queues.items() if plan else ())},
              queue_agents=_queue_agents(plan, filters.get("queue")))
    periods(q.start, q.end, q.interval)  # the range must be whole intervals: checked before any reading
    return q


def _queue_agents(plan: TenantPlan | None, queue: str | None) -> tuple[str, ...] | None:
    """With a queue filter, the agents whose pauses count: the queue's, as the plan has them now."""
    if queue is None:
        return None
    found = plan.queues.get(queue) if plan else None
    return tuple(found.agents) if found is not None else ()


def _filters(engine: Engine, r: Request, plan: TenantPlan | None, bad: list[Violation]) -> dict[str, str]:
    out: dict[str, str] = {}
    number = r.number
    if number is not None:
        try:
            number = parse_service_number(number).e164
        except NumberInvalid as exc:
            bad.append(Violation("number", str(exc)))
            number = None
    planned = {"number": {parse_service_number(n.number).e164 for n in plan.numbers} if plan else set(),
               "queue": set(plan.queues) if plan else set(), "flow": set(plan.flows) if plan else set()}
    for what, value in (("number", number), ("queue", r.queue), ("flow", r.flow)):
        if value is None:
            continue
        if value not in planned[what] and value not in report_data.named(engine, r.tenant, what):
            bad.append(Violation(what, f"tenant {r.tenant!r} has no {what} {value!r}"))
        out[what] = value
    return out


def build(engine: Engine, q: Query) -> Report:
    """The report: its parameters and tables (rows are lists, built from the rollups or calls)."""
    spans = periods(q.start, q.end, q.interval)
    filters = {k: v for k, v in (("number", q.number), ("queue", q.queue), ("flow", q.flow)) if v}
    params = q.parameters(spans)
    if q.kind is Kind.CALLERS:  # counted where the data is (exact, from the hashes)
        counts, repeat = report_data.caller_counts(engine, q.tenant, [p.start for p in spans], q.end, filters,
                                                   q.more_than)
        return Report(params, traffic.callers(spans, counts, repeat, q.more_than))
    if q.kind is Kind.VOLUME or q.kind is Kind.FINANCE:
        rows = [Rollup._make(t) for t in report_data.rollups(engine, q.tenant, q.start, q.end, filters,
                                                             per_number=q.kind is Kind.FINANCE)]
        table = traffic.volume(spans, rows) if q.kind is Kind.VOLUME else handling.finance(spans, rows)
        return Report(params, (table,))
    calls = list(_calls(engine, q, filters))
    tables: tuple[Table, ...]
    match q.kind:
        case Kind.WAITING:
            tables = (traffic.waiting(spans, calls),)
        case Kind.QUEUES:
            pauses = [Pause._make(p) for p in report_data.pauses(engine, q.tenant, q.start, q.end)]
            tables = handling.queues(q, spans, calls, pauses)
        case Kind.ORIGINS:
            tables = (traffic.origins(spans, calls),)
        case Kind.PEAKS:
            tables = traffic.peaks(spans, calls)
        case _:
            tables = (handling.routing(spans, calls),)
    return Report(params, tables)


def _calls(engine: Engine, q: Query, filters: dict[str, str]) -> Iterator[Call]:
    for row in report_data.calls(engine, q.tenant, q.start, q.end, filters, CALL_FIELDS):
        yield Call._make(row)


def report(engine: Engine, r: Request) -> Report:
    return build(engine, check(engine, r))


def forget_callers(engine: Engine, keep_days: int, now: datetime) -> int:
    """Empty the raw caller of records older than ``keep_days`` (the live controller does this
    hourly); the hash and origin stay. The number of records changed."""
    if keep_days < 0:
        raise InputInvalid([Violation("days", "must be 0 or more")])
    return call_records.forget_callers(engine, now - timedelta(days=keep_days))


# --- saved layouts -------------------------------------------------------------------------------

LAYOUT_KEYS = ("kinds", "interval", "number", "queue", "flow", "more_than")


# 1 January and 1 April 2024 are Mondays: whole intervals of every length, to check a layout with.
SAMPLE_RANGE = ("2024-01-01", "2024-04-01")


def save_layout(engine: Engine, tenant: str, name: str, spec: dict[str, Any]) -> None:
    """Check the layout (kinds, interval, filters against the tenant), then store it."""
    start, end = SAMPLE_RANGE
    kinds = spec.get("kinds") or []
    if not isinstance(kinds, list) or not kinds:
        raise InputInvalid([Violation("kinds", "give at least one report kind")])
    for kind in kinds:
        check(engine, layout_request(tenant, {**spec, "kinds": [kind]}, str(kind), start, end))
    report_data.save_layout(engine, tenant, name, {k: spec[k] for k in LAYOUT_KEYS if spec.get(k) is not None})


def layout_request(tenant: str, spec: dict[str, Any], kind: str, start: str, end: str) -> Request:
    return Request(tenant, kind, start, end, str(spec.get("interval") or "day"), spec.get("number"),
                   spec.get("queue"), spec.get("flow"), int(spec.get("more_than") or 2))


def layouts(engine: Engine, tenant: str) -> dict[str, dict[str, Any]]:
    return report_data.layouts(engine, tenant)


def run_layout(engine: Engine, tenant: str, name: str, start: str, end: str) -> list[Report]:
    spec = report_data.layouts(engine, tenant).get(name)
    if spec is None:
        raise NotFound(f"tenant {tenant!r} has no report layout {name!r}")
    return [report(engine, layout_request(tenant, spec, str(k), start, end)) for k in spec["kinds"]]


def delete_layout(engine: Engine, tenant: str, name: str) -> None:
    if not report_data.delete_layout(engine, tenant, name):
        raise NotFound(f"tenant {tenant!r} has no report layout {name!r}")
