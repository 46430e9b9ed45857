"""Plans in and out of the database: a tenant's numbers, routings, switch moments and
announcements. Every function works inside the caller's session, so the caller decides when to
commit (apply stages the plan only after Asterisk took the new dialplan, then commits at once)."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Collection, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, col, select

from orchestrator.domain import plan as p
from orchestrator.domain.numbers import ServiceNumberId, parse_service_number
from orchestrator.errors import StoreError
from orchestrator.store import models as m
from orchestrator.store.blacklists import blacklists
from orchestrator.store.call_centres import load_call_centre, load_recording, save_call_centre, save_recording
from orchestrator.store.engine import chunks
from orchestrator.store.flows import load_flows, save_flows
from orchestrator.store.tenants import owners, tenant_row, tenants

STEP_FIELDS = ("start", "regions", "rosters", "splits", "flow")


def save_plan(session: Session, plan: p.TenantPlan, *, keep: Collection[str] = (),
              positions: list[int] | None = None, stored: Collection[str] | None = None,
              same_flows: Mapping[str, Any] | None = None) -> None:
    """Replace the tenant's numbers and announcements by the plan's (not committed). Numbers in
    ``keep`` (E.164) are unchanged since the last apply and stay as stored; ``positions`` are the
    plan's numbers' places in the whole document (default: their order in ``plan``).

    Set-based: a fixed number of statements per CHUNK numbers, not a few per number. ``stored``:
    the tenant's numbers as the caller read them in this transaction (apply, under its lock); when
    all of them are kept, none is dropped and the tenant's rows are not read again. ``same_flows``:
    flows known to be as stored, in the stored format (store/flows.py)."""
    tenant = tenant_row(session, plan.tenant, create=True)
    assert tenant.id is not None
    tenant.test_number = plan.test_number
    session.add(tenant)
    wanted = [n.number for n in plan.numbers]
    for e164, owner in owners(session, wanted).items():
        if owner != plan.tenant:
            raise StoreError(f"{e164} belongs to tenant {owner!r}, not {plan.tenant!r}")
    kept = set(keep)
    _drop_rows(session, tenant.id, plan, kept, stored is not None and kept.issuperset(stored))
    for name, a in plan.announcements.items():
        session.add(m.Announcement(tenant_id=tenant.id, name=name, sound=a.sound, file=a.file, text=a.text))
    try:
        _insert_numbers(session, tenant.id, plan, positions)
    except SQLAlchemyError as exc:
        raise StoreError(f"could not store the plan of {plan.tenant!r}: {exc}") from exc
    save_recording(session, plan, kept)
    save_call_centre(session, plan)
    save_flows(session, plan, same_flows)
    try:
        session.flush()
    except SQLAlchemyError as exc:
        raise StoreError(f"could not store the plan of {plan.tenant!r}: {exc}") from exc


def _drop_rows(session: Session, tenant_id: int, plan: p.TenantPlan, kept: set[str], all_kept: bool) -> None:
    """Delete the tenant's numbers not kept (with their routings), its announcements, the plan's
    blacklist entries of the numbers it writes again and every entry of numbers that left.
    ``all_kept``: every stored number is kept (nothing of theirs to drop, no need to read them)."""
    stored: list[tuple[int, str]] = [] if all_kept else [(i, e) for i, e in session.connection().execute(
        select(m.ServiceNumber.id, m.ServiceNumber.e164).where(m.ServiceNumber.tenant_id == tenant_id)).all()]
    drop_ids = [i for i, e164 in stored if e164 not in kept]
    for ids in chunks(drop_ids):
        their_routings = select(m.Routing.id).where(col(m.Routing.service_number_id).in_(ids))
        session.execute(delete(m.Destination).where(col(m.Destination.routing_id).in_(their_routings)))
        session.execute(delete(m.Routing).where(col(m.Routing.service_number_id).in_(ids)))
        session.execute(delete(m.SwitchMoment).where(col(m.SwitchMoment.service_number_id).in_(ids)))
        session.execute(delete(m.ServiceNumber).where(col(m.ServiceNumber.id).in_(ids)))
    session.execute(delete(m.Announcement).where(col(m.Announcement.tenant_id) == tenant_id))
    wanted = [n.number for n in plan.numbers]
    in_plan = set(wanted) | kept
    for chunk in chunks([e for _i, e in stored if e not in in_plan]):
        session.execute(delete(m.BlacklistEntry).where(col(m.BlacklistEntry.service_number_e164).in_(chunk)))
    for chunk in chunks(sorted(wanted)):
        session.execute(delete(m.BlacklistEntry).where(
            col(m.BlacklistEntry.service_number_e164).in_(chunk), col(m.BlacklistEntry.source) == "plan"))
    session.flush()


def _number_row(tenant_id: int, pos: int, n: p.ServiceNumberPlan, sid: ServiceNumberId) -> dict[str, Any]:
    return {
        "tenant_id": tenant_id, "position": pos, "e164": sid.e164, "national": sid.national,
        "kind": sid.kind.value, "package": n.package.value, "active_routing": n.active or "",
        "block_anonymous": n.blocking.anonymous, "block_foreign": n.blocking.foreign,
        "block_mobile": n.blocking.mobile, "rejection_announcement": n.blocking.message,
        "welcome_announcement": n.announcements.welcome,
        "whisper_announcement": n.announcements.whisper,
        "final_announcement": n.announcements.final,
        "max_concurrent_calls": n.max_concurrent_calls,
        "steps_json": _steps_json(n),
        "allow_foreign": n.allow_foreign,
        **_tariff_columns(n.tariff),
    }


def _insert_numbers(session: Session, tenant_id: int, plan: p.TenantPlan, positions: list[int] | None) -> None:
    """Core bulk INSERTs (executemany, ids back in parameter order): ORM objects cost ~1 ms each."""
    sids = [parse_service_number(n.number) for n in plan.numbers]
    existing = blacklists(session, [sid.e164 for sid in sids])  # live entries that stay
    places = positions if positions is not None else range(len(sids))
    rows = [_number_row(tenant_id, pos, n, sid) for pos, n, sid in zip(places, plan.numbers, sids, strict=True)]
    number_ids = _insert_returning_ids(session, m.ServiceNumber, rows)
    routings: list[dict[str, Any]] = []
    routing_dests: list[list[p.Destination]] = []
    switches: list[dict[str, Any]] = []
    for n, sid, nid in zip(plan.numbers, sids, number_ids, strict=True):
        for rpos, (rname, dests) in enumerate(n.routings.items()):
            routings.append({"service_number_id": nid, "name": rname, "position": rpos})
            routing_dests.append(dests)
        switches += [{"service_number_id": nid, "at_epoch": s.epoch, "routing": s.routing} for s in n.switches]
        have = existing.get(sid.e164, set())
        for caller in n.blocking.blacklist:
            if caller not in have:
                session.add(m.BlacklistEntry(service_number_e164=sid.e164, caller=caller, source="plan"))
    routing_ids = _insert_returning_ids(session, m.Routing, routings)
    destinations = [{"routing_id": rid, "position": dpos, "e164": d.number, "ring_time": d.ring_time}
                    for rid, dests in zip(routing_ids, routing_dests, strict=True)
                    for dpos, d in enumerate(dests)]
    if destinations:
        session.execute(insert(m.Destination), destinations)
    if switches:
        session.execute(insert(m.SwitchMoment), switches)


def _insert_returning_ids(session: Session, model: Any, rows: list[dict[str, Any]]) -> list[int]:
    if not rows:
        return []
    stmt = insert(model).returning(model.id, sort_by_parameter_order=True)
    return list(session.execute(stmt, rows).scalars())


def _tariff_columns(t: p.Tariff | None) -> dict[str, Any]:
    if t is None:  # every key, so all rows of one bulk INSERT have the same columns
        return dict.fromkeys(("tariff_per_call", "tariff_per_minute", "max_call_cost", "max_duration",
                              "warning_before", "tariff_announcement"))
    return {"tariff_per_call": _text(t.per_call), "tariff_per_minute": _text(t.per_minute),
            "max_call_cost": _text(t.max_call_cost), "max_duration": t.max_duration,
            "warning_before": t.warning_before, "tariff_announcement": t.announcement}


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def _tariff(n: m.ServiceNumber) -> dict[str, object] | None:
    if n.warning_before is None:  # set whenever a tariff was stored
        return None
    return {"per_call": n.tariff_per_call, "per_minute": n.tariff_per_minute, "max_call_cost": n.max_call_cost,
            "max_duration": n.max_duration, "warning_before": n.warning_before,
            "announcement": n.tariff_announcement}


def _steps_json(n: p.ServiceNumberPlan) -> str | None:
    steps = n.model_dump(mode="json", include=set(STEP_FIELDS), exclude_none=True)
    steps = {k: v for k, v in steps.items() if v}
    return json.dumps(steps, sort_keys=True) if steps else None


def _by_number(session: Session, tenant_id: int) -> tuple[dict[int, list[m.Routing]], dict[int, list[m.Destination]],
                                                           dict[int, list[m.SwitchMoment]]]:
    """The tenant's routings, destinations and switch moments, by their parent's id."""
    # Subqueries, not lists of ids: 100,000 routing ids exceed the databases' bound-parameter limits.
    ids = select(m.ServiceNumber.id).where(m.ServiceNumber.tenant_id == tenant_id)
    routings: dict[int, list[m.Routing]] = defaultdict(list)
    routing_rows = select(m.Routing).where(col(m.Routing.service_number_id).in_(ids)).order_by(col(m.Routing.position))
    for r in session.exec(routing_rows):
        routings[r.service_number_id].append(r)
    rids = select(m.Routing.id).where(col(m.Routing.service_number_id).in_(ids))
    dests: dict[int, list[m.Destination]] = defaultdict(list)
    dest_rows = select(m.Destination).where(col(m.Destination.routing_id).in_(rids))
    for d in session.exec(dest_rows.order_by(col(m.Destination.position))):
        dests[d.routing_id].append(d)
    switches: dict[int, list[m.SwitchMoment]] = defaultdict(list)
    switch_rows = select(m.SwitchMoment).where(col(m.SwitchMoment.service_number_id).in_(ids))
    for s in session.exec(switch_rows.order_by(col(m.SwitchMoment.at_epoch))):
        switches[s.service_number_id].append(s)
    return routings, dests, switches


def load_plan(session: Session, tenant_name: str, *, now: datetime | None = None) -> p.TenantPlan:
    """Rebuild the tenant's plan. With ``now``, switch moments already passed are folded into
    ``active`` (what an export should show: the plan as it stands)."""
    tenant = tenant_row(session, tenant_name)
    assert tenant.id is not None
    query = select(m.ServiceNumber).where(m.ServiceNumber.tenant_id == tenant.id)
    numbers = list(session.exec(query.order_by(col(m.ServiceNumber.position), col(m.ServiceNumber.id))))
    routings, dests, switches = _by_number(session, tenant.id)
    lists = blacklists(session, [n.e164 for n in numbers])
    recording, retention = load_recording(session, tenant.name)
    out_numbers = []
    for n in numbers:
        assert n.id is not None
        active: str | None = n.active_routing or None  # "" for numbers that run a flow
        moments = []
        for s in switches[n.id]:
            if now is not None and s.at_epoch <= now.timestamp():
                active = s.routing
            else:
                moments.append({"at": datetime.fromtimestamp(s.at_epoch, p.AMSTERDAM), "routing": s.routing})
        out_numbers.append(_number_document(n, routings[n.id], dests, active, moments, lists, recording))
    announcements = {
        a.name: {"sound": a.sound, "file": a.file, "text": a.text}
        for a in session.exec(
            select(m.Announcement).where(m.Announcement.tenant_id == tenant.id).order_by(col(m.Announcement.name)))
    }
    return p.parse_plan({"tenant": tenant.name, "test_number": tenant.test_number,
                         "announcements": announcements, "numbers": out_numbers,
                         "recording_retention": retention, **load_call_centre(session, tenant.name),
                         **load_flows(session, tenant.name)})


def _number_document(n: m.ServiceNumber, routings: list[m.Routing], dests: dict[int, list[m.Destination]],
                     active: str | None, moments: list[dict[str, Any]], lists: dict[str, set[str]],
                     recording: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return {
        "number": n.e164,
        "package": n.package,
        "routings": {r.name: [{"number": d.e164, "ring_time": d.ring_time} for d in dests[r.id or 0]]
                     for r in routings},
        "active": active,
        "switches": moments,
        "blocking": {"anonymous": n.block_anonymous, "foreign": n.block_foreign,
                     "mobile": n.block_mobile, "blacklist": sorted(lists.get(n.e164, ())),
                     "message": n.rejection_announcement},
        "announcements": {"welcome": n.welcome_announcement, "whisper": n.whisper_announcement,
                          "final": n.final_announcement},
        "max_concurrent_calls": n.max_concurrent_calls,
        "tariff": _tariff(n),
        "allow_foreign": n.allow_foreign,
        **(json.loads(n.steps_json) if n.steps_json else {}),
        "recording": recording.get(n.e164, {}),
    }


def current_plan(session: Session, tenant_name: str) -> p.TenantPlan | None:
    """The tenant's stored plan, or None for a new tenant."""
    if tenant_name not in tenants(session):
        return None
    return load_plan(session, tenant_name)


def load_all_plans(session: Session) -> list[p.TenantPlan]:
    return [load_plan(session, name) for name in tenants(session)]
