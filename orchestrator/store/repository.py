"""Plans in and out of the database. Every function works inside the caller's session, so the
caller decides when to commit (apply commits only after Asterisk has taken the new dialplan)."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import delete, false, func, insert, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, col, create_engine, select

from orchestrator.domain import plan as p
from orchestrator.domain.numbers import NumberKind, ServiceNumberId, parse_service_number
from orchestrator.errors import NotFound, StoreError
from orchestrator.store import models as m
from orchestrator.store import schema


def make_engine(url: str, *, check_schema: bool = True):  # type: ignore[no-untyped-def]
    """The engine for ``url``. An empty database gets the newest schema; one whose schema is
    behind is refused (SchemaOutdated names `orchestrator db upgrade`) unless ``check_schema`` is
    off, which only that command does."""
    try:
        if url.startswith("postgresql://"):  # psycopg 3, whatever SQLAlchemy's default driver is
            url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
        engine = create_engine(url, **_engine_options(url))
    except SQLAlchemyError as exc:
        raise StoreError(f"cannot open database {url}: {exc}") from exc
    if check_schema:
        schema.ensure_current(engine)
    return engine


def _engine_options(url: str) -> dict[str, Any]:
    if not url.startswith("postgresql"):
        return {}
    # Timestamps are TIMESTAMP WITH TIME ZONE there and come back in the session's zone: UTC, as
    # SQLite stores them, whatever zone the server is configured with. pre_ping: a long-running
    # controller reconnects after a PostgreSQL restart instead of failing its next write.
    return {"connect_args": {"options": "-c timezone=UTC"}, "pool_pre_ping": True}


def _tenant(session: Session, name: str, create: bool = False) -> m.Tenant:
    tenant = session.exec(select(m.Tenant).where(m.Tenant.name == name)).first()
    if tenant is None:
        if not create:
            raise NotFound(f"no tenant {name!r}")
        tenant = m.Tenant(name=name)
        session.add(tenant)
        session.flush()
    return tenant


def tenants(session: Session) -> list[str]:
    return list(session.exec(select(m.Tenant.name).order_by(col(m.Tenant.name))))


def number_owner(session: Session, e164: str) -> str | None:
    row = session.exec(
        select(m.Tenant.name).join(m.ServiceNumber).where(m.ServiceNumber.e164 == e164)
    ).first()
    return row


# Rows per IN (...) list: a statement may carry at most 65,535 bound parameters in PostgreSQL and
# 32,766 in SQLite's default build. Statements per row were what made storing 10,000 numbers take
# 30 s (benchmarks, issue 9); now it is a fixed number of statements per chunk.
CHUNK = 500
T = TypeVar("T")


def _chunks(items: Sequence[T]) -> list[Sequence[T]]:
    return [items[i:i + CHUNK] for i in range(0, len(items), CHUNK)]


def save_plan(session: Session, plan: p.TenantPlan, *, keep: Collection[str] = (),
              positions: list[int] | None = None) -> None:
    """Replace the tenant's numbers and announcements by the plan's (not committed). Numbers in
    ``keep`` (E.164) are unchanged since the last apply and stay as stored; ``positions`` are the
    plan's numbers' places in the whole document (default: their order in ``plan``).

    Set-based: a fixed number of statements per CHUNK numbers, not a few per number."""
    tenant = _tenant(session, plan.tenant, create=True)
    assert tenant.id is not None
    tenant.test_number = plan.test_number
    session.add(tenant)
    wanted = [n.number for n in plan.numbers]
    owners: dict[str, str] = {}
    for chunk in _chunks(wanted):
        owners.update(session.exec(select(m.ServiceNumber.e164, m.Tenant.name).join(m.Tenant)
                                   .where(col(m.ServiceNumber.e164).in_(chunk))).all())
    for e164 in wanted:
        owner = owners.get(e164)
        if owner is not None and owner != plan.tenant:
            raise StoreError(f"{e164} belongs to tenant {owner!r}, not {plan.tenant!r}")
    stored = session.exec(select(m.ServiceNumber.id, m.ServiceNumber.e164)
                          .where(m.ServiceNumber.tenant_id == tenant.id)).all()
    kept = set(keep)
    drop_ids = [i for i, e164 in stored if e164 not in kept]
    for ids in _chunks(drop_ids):
        their_routings = select(m.Routing.id).where(col(m.Routing.service_number_id).in_(ids))
        session.execute(delete(m.Destination).where(col(m.Destination.routing_id).in_(their_routings)))
        session.execute(delete(m.Routing).where(col(m.Routing.service_number_id).in_(ids)))
        session.execute(delete(m.SwitchMoment).where(col(m.SwitchMoment.service_number_id).in_(ids)))
        session.execute(delete(m.ServiceNumber).where(col(m.ServiceNumber.id).in_(ids)))
    session.execute(delete(m.Announcement).where(col(m.Announcement.tenant_id) == tenant.id))
    # Plan-sourced blacklist entries follow the plan; ones added live (cli, dtmf) stay, unless
    # their number left the plan.
    in_plan = set(wanted) | kept
    for chunk in _chunks([e for _i, e in stored if e not in in_plan]):
        session.execute(delete(m.BlacklistEntry).where(col(m.BlacklistEntry.service_number_e164).in_(chunk)))
    for chunk in _chunks(sorted(wanted)):
        session.execute(delete(m.BlacklistEntry).where(
            col(m.BlacklistEntry.service_number_e164).in_(chunk), col(m.BlacklistEntry.source) == "plan"))
    session.flush()

    for name, a in plan.announcements.items():
        session.add(m.Announcement(tenant_id=tenant.id, name=name, sound=a.sound, file=a.file, text=a.text))
    sids = [parse_service_number(n.number) for n in plan.numbers]
    existing = blacklists(session, [sid.e164 for sid in sids])  # live entries that stay
    # Core bulk INSERTs (executemany, ids back in parameter order): ORM objects cost ~1 ms each.
    rows = [{
        "tenant_id": tenant.id, "position": pos, "e164": sid.e164, "national": sid.national,
        "kind": sid.kind.value, "package": n.package.value, "active_routing": n.active,
        "block_anonymous": n.blocking.anonymous, "block_foreign": n.blocking.foreign,
        "block_mobile": n.blocking.mobile, "rejection_announcement": n.blocking.message,
        "welcome_announcement": n.announcements.welcome,
        "whisper_announcement": n.announcements.whisper,
        "final_announcement": n.announcements.final,
        "max_concurrent_calls": n.max_concurrent_calls,
        "steps_json": _steps_json(n),
        "allow_foreign": n.allow_foreign,
        **_tariff_columns(n.tariff),
    } for pos, n, sid in zip(positions if positions is not None else range(len(sids)), plan.numbers, sids,
                             strict=True)]
    try:
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
    except SQLAlchemyError as exc:
        raise StoreError(f"could not store the plan of {plan.tenant!r}: {exc}") from exc
    _save_recording(session, plan, kept)
    _save_call_centre(session, plan)
    try:
        session.flush()
    except SQLAlchemyError as exc:
        raise StoreError(f"could not store the plan of {plan.tenant!r}: {exc}") from exc


STEP_FIELDS = ("start", "regions", "rosters", "splits")


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


def load_plan(session: Session, tenant_name: str, *, now: datetime | None = None) -> p.TenantPlan:
    """Rebuild the tenant's plan. With ``now``, switch moments already passed are folded into
    ``active`` (what an export should show: the plan as it stands)."""
    tenant = _tenant(session, tenant_name)
    query = select(m.ServiceNumber).where(m.ServiceNumber.tenant_id == tenant.id)
    numbers = list(session.exec(query.order_by(col(m.ServiceNumber.position), col(m.ServiceNumber.id))))
    # Subqueries, not lists of ids: 100,000 routing ids exceed the databases' bound-parameter limits.
    ids = select(m.ServiceNumber.id).where(m.ServiceNumber.tenant_id == tenant.id)
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
    lists = blacklists(session, [n.e164 for n in numbers])
    recording, retention = _load_recording(session, tenant.name)

    out_numbers = []
    for n in numbers:
        assert n.id is not None
        active = n.active_routing
        moments = []
        for s in switches[n.id]:
            if now is not None and s.at_epoch <= now.timestamp():
                active = s.routing
            else:
                moments.append({"at": datetime.fromtimestamp(s.at_epoch, p.AMSTERDAM), "routing": s.routing})
        out_numbers.append({
            "number": n.e164,
            "package": n.package,
            "routings": {r.name: [{"number": d.e164, "ring_time": d.ring_time} for d in dests[r.id or 0]]
                         for r in routings[n.id]},
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
        })
    announcements = {
        a.name: {"sound": a.sound, "file": a.file, "text": a.text}
        for a in session.exec(
            select(m.Announcement).where(m.Announcement.tenant_id == tenant.id).order_by(col(m.Announcement.name)))
    }
    return p.parse_plan({"tenant": tenant.name, "test_number": tenant.test_number,
                         "announcements": announcements, "numbers": out_numbers,
                         "recording_retention": retention, **_load_call_centre(session, tenant.name)})


def call_centre_json(plan: p.TenantPlan) -> str | None:
    """How a plan's call centre is stored (None: it has none)."""
    if not (plan.agents or plan.queues or plan.hunt_groups):
        return None
    return json.dumps(plan.model_dump(mode="json", include={"agents", "queues", "hunt_groups"}), sort_keys=True)


def stored_call_centre(session: Session, tenant: str) -> str | None:
    row = session.exec(select(m.TenantCallCentre).where(m.TenantCallCentre.tenant == tenant)).first()
    return row.plan_json if row is not None else None


def _save_call_centre(session: Session, plan: p.TenantPlan) -> None:
    session.execute(delete(m.TenantCallCentre).where(col(m.TenantCallCentre.tenant) == plan.tenant))
    data = call_centre_json(plan)
    if data is not None:
        session.add(m.TenantCallCentre(tenant=plan.tenant, plan_json=data))


def _load_call_centre(session: Session, tenant: str) -> dict[str, Any]:
    data = stored_call_centre(session, tenant)
    return json.loads(data) if data is not None else {}


def load_call_centre_plans(session: Session) -> list[p.TenantPlan]:
    """Every tenant's plan without its numbers: what the call centres are compiled from, at a
    cost that does not grow with the number of service numbers."""
    out = []
    for row in session.exec(select(m.TenantCallCentre).order_by(col(m.TenantCallCentre.tenant))):
        tenant = _tenant(session, row.tenant)
        announcements = {
            a.name: {"sound": a.sound, "file": a.file, "text": a.text}
            for a in session.exec(select(m.Announcement).where(m.Announcement.tenant_id == tenant.id))}
        out.append(p.parse_plan({"tenant": row.tenant, "announcements": announcements, "numbers": [],
                                 **json.loads(row.plan_json)}))
    return out


def _save_recording(session: Session, plan: p.TenantPlan, kept: set[str]) -> None:
    """Recording policies (per number, only those not 'never') and the tenant's retention."""
    stored = session.exec(select(m.NumberRecordingPolicy.service_number_e164)
                          .where(m.NumberRecordingPolicy.tenant == plan.tenant)).all()
    for chunk in _chunks([e for e in stored if e not in kept]):
        session.execute(delete(m.NumberRecordingPolicy).where(
            col(m.NumberRecordingPolicy.service_number_e164).in_(chunk)))
    for chunk in _chunks([n.number for n in plan.numbers]):  # a number that moved from another tenant
        session.execute(delete(m.NumberRecordingPolicy).where(col(m.NumberRecordingPolicy.service_number_e164).in_(chunk)))
    session.execute(delete(m.TenantRecordingSettings).where(col(m.TenantRecordingSettings.tenant) == plan.tenant))
    rows = [{"service_number_e164": n.number, "tenant": plan.tenant, "policy": n.recording.policy.value,
             "announce": n.recording.announce}
            for n in plan.numbers if n.recording != p.Recording()]
    if rows:
        session.execute(insert(m.NumberRecordingPolicy), rows)
    session.add(m.TenantRecordingSettings(tenant=plan.tenant, retention=plan.recording_retention))


def _load_recording(session: Session, tenant: str) -> tuple[dict[str, dict[str, Any]], str]:
    policies = {r.service_number_e164: {"policy": r.policy, "announce": r.announce}
                for r in session.exec(select(m.NumberRecordingPolicy).where(m.NumberRecordingPolicy.tenant == tenant))}
    settings = session.exec(select(m.TenantRecordingSettings).where(m.TenantRecordingSettings.tenant == tenant)).first()
    return policies, settings.retention if settings is not None else "90d"


def recording_retention(session: Session, tenant: str) -> str:
    """The tenant's retention for new recordings ("90d" when it never applied a plan)."""
    return _load_recording(session, tenant)[1]


def load_all_plans(session: Session) -> list[p.TenantPlan]:
    return [load_plan(session, name) for name in tenants(session)]


def blacklist(session: Session, e164: str) -> list[str]:
    query = select(m.BlacklistEntry.caller).where(m.BlacklistEntry.service_number_e164 == e164)
    return list(session.exec(query.order_by(col(m.BlacklistEntry.caller))))


def blacklists(session: Session, numbers: list[str] | None = None) -> dict[str, set[str]]:
    query = select(m.BlacklistEntry)
    queries = [query] if numbers is None else [
        query.where(col(m.BlacklistEntry.service_number_e164).in_(chunk)) for chunk in _chunks(numbers)]
    out: dict[str, set[str]] = defaultdict(set)
    for q in queries:
        for e in session.exec(q):
            out[e.service_number_e164].add(e.caller)
    return dict(out)


def blacklist_add(session: Session, e164: str, caller: str, source: str) -> bool:
    """Add an entry; False when it was already there."""
    if number_owner(session, e164) is None:
        raise NotFound(f"no service number {e164}")
    if caller in blacklist(session, e164):
        return False
    session.add(m.BlacklistEntry(service_number_e164=e164, caller=caller, source=source))
    session.flush()
    return True


def blacklist_remove(session: Session, e164: str, caller: str) -> bool:
    result = session.execute(delete(m.BlacklistEntry).where(
        col(m.BlacklistEntry.service_number_e164) == e164, col(m.BlacklistEntry.caller) == caller))
    return bool(result.rowcount)  # type: ignore[attr-defined]


def record_version(session: Session, version: m.AppliedVersion) -> None:
    session.add(version)
    session.flush()


def history(session: Session, limit: int = 50, tenant: str | None = None) -> list[m.AppliedVersion]:
    query = select(m.AppliedVersion)
    if tenant is not None:
        query = query.where(col(m.AppliedVersion.tenant) == tenant)
    return list(session.exec(query.order_by(col(m.AppliedVersion.id).desc()).limit(limit)))


def version(session: Session, version_id: int) -> m.AppliedVersion:
    found = session.get(m.AppliedVersion, version_id)
    if found is None:
        raise NotFound(f"no applied version {version_id}")
    return found


def current_plan(session: Session, tenant_name: str) -> p.TenantPlan | None:
    """The tenant's stored plan, or None for a new tenant."""
    if tenant_name not in tenants(session):
        return None
    return load_plan(session, tenant_name)


# --- what the dialplan on disk was generated from (domain/digest.py) ----------------------------


def number_digests(session: Session, tenant: str) -> dict[str, str]:
    """E.164 -> digest of the entry each of the tenant's numbers was last applied from."""
    rows = session.exec(select(m.NumberDigest.e164, m.NumberDigest.digest).where(m.NumberDigest.tenant == tenant))
    return dict(rows.all())


def save_digests(session: Session, tenant: str, digests: dict[str, str], keep: Collection[str]) -> None:
    """The tenant's numbers are now ``keep`` (digests unchanged) plus ``digests`` (new)."""
    stored = session.exec(select(m.NumberDigest.e164).where(m.NumberDigest.tenant == tenant)).all()
    kept = set(keep)
    gone = [e for e in stored if e not in kept] + [e for e in digests if e not in stored]
    for chunk in _chunks(gone):  # including rows another tenant left behind for a moved number
        session.execute(delete(m.NumberDigest).where(col(m.NumberDigest.e164).in_(chunk)))
    if digests:
        session.execute(insert(m.NumberDigest), [{"e164": e, "tenant": tenant, "digest": d}
                                                 for e, d in digests.items()])


def tenant_salt(session: Session, tenant: str) -> str | None:
    row = session.get(m.TenantDigest, tenant)
    return None if row is None else row.salt


def set_tenant_salt(session: Session, tenant: str, salt: str) -> None:
    _upsert(session, m.TenantDigest, {"tenant": tenant, "salt": salt}, key="tenant")


def dialplan_state(session: Session) -> m.DialplanState | None:
    return session.get(m.DialplanState, 1)


def set_dialplan_state(session: Session, dialplan_dir: str, generator: str) -> None:
    _upsert(session, m.DialplanState, {"id": 1, "dialplan_dir": dialplan_dir, "generator": generator}, key="id")


APPLY_LOCK = 0x5356434E  # PostgreSQL advisory lock key of applies ("SVCN")


def lock_applies(session: Session) -> None:
    """Applies one at a time, across processes (the API, the CLI), until the session's transaction
    ends. An apply reads every tenant's plan in several statements (numbers, routings, ...); with
    another apply committing between them, PostgreSQL (read committed) would hand it numbers
    without routings. SQLite: a write statement (that changes no row) takes the database's single
    write lock now instead of at the apply's first real write."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(func.pg_advisory_xact_lock(APPLY_LOCK)))
    else:
        session.execute(update(m.Tenant).where(false()).values(name=m.Tenant.name))


def _upsert(session: Session, model: Any, values: dict[str, Any], *, key: str) -> None:
    """Insert the row or update the one with the same ``key``, in one statement: a get-then-insert
    lets two services writing the first row at once (API and CLI applies) fail on the key.
    Both databases have INSERT ... ON CONFLICT, each dialect its own construct."""
    dialect = session.get_bind().dialect.name
    stmt = (pg_insert if dialect == "postgresql" else sqlite_insert)(model).values(**values)
    session.execute(stmt.on_conflict_do_update(index_elements=[key], set_={k: v for k, v in values.items()
                                                                           if k != key}))
    session.get(model, values[key], populate_existing=True)  # a loaded copy in the session: refreshed


def number_ids(session: Session) -> list[ServiceNumberId]:
    """Every tenant's service numbers, as the entry context needs them (no parsing)."""
    rows = session.exec(select(m.ServiceNumber.e164, m.ServiceNumber.national, m.ServiceNumber.kind)).all()
    return [ServiceNumberId(e164, national, NumberKind(kind)) for e164, national, kind in rows]


def count_numbers(session: Session) -> int:
    return session.exec(select(func.count()).select_from(m.ServiceNumber)).one()


def tenant_numbers(session: Session, tenant: str) -> list[str]:
    """The tenant's numbers (E.164); none for a tenant not seen before."""
    query = select(m.ServiceNumber.e164).join(m.Tenant).where(m.Tenant.name == tenant)
    return list(session.exec(query))
