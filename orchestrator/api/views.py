"""Domain objects and rows as the API's JSON (the shapes in ``openapi.py``), and request bodies
parsed with their field paths."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from aiohttp import web
from pydantic import BaseModel, ValidationError

from orchestrator.api.errors import BadRequest, InputInvalid
from orchestrator.domain.numbers import parse_service_number
from orchestrator.domain.plan import ServiceNumberPlan, TenantPlan, _loc, to_document
from orchestrator.errors import Violation
from orchestrator.services.apply import ApplyReport
from orchestrator.store import models as m

M = TypeVar("M", bound=BaseModel)


async def read_json(request: web.Request) -> Any:
    try:
        return await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BadRequest("body", f"not valid JSON: {exc}") from exc


async def read_body(request: web.Request, model: type[M]) -> M:
    """A JSON body checked against a pydantic model; every error with its field path."""
    data = await read_json(request)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise InputInvalid([
            Violation(_loc(tuple(e["loc"])) if e["loc"] else "body",
                      "unknown field" if e["type"] == "extra_forbidden" else e["msg"].removeprefix("Value error, "))
            for e in exc.errors()
        ]) from exc


def utc(moment: datetime | None) -> str | None:
    """ISO 8601 in UTC; SQLite hands back naive datetimes that were stored in UTC."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def plan_document(plan: TenantPlan, upload_names: dict[str, str]) -> dict[str, Any]:
    """The plan as the API shows it: what PUT accepts back unchanged. Switch moments are written
    as the plan format writes them; uploaded files are named, not given as server paths."""
    data = to_document(plan)
    for a in data["announcements"].values():
        if "file" in a and a["file"] in upload_names:
            a["file"] = upload_names[a["file"]]
    return data


def number_summary(n: ServiceNumberPlan) -> dict[str, Any]:
    sid = parse_service_number(n.number)
    return {"number": sid.e164, "national": sid.national, "kind": sid.kind.value, "package": n.package.value,
            "active": n.active, "routings": list(n.routings)}


def number_detail(n: ServiceNumberPlan, plan: dict[str, Any], index: int) -> dict[str, Any]:
    return {**number_summary(n), "plan": plan["numbers"][index]}


def apply_report(r: ApplyReport) -> dict[str, Any]:
    return {"tenant": r.tenant, "version": r.version, "numbers": r.numbers, "total_numbers": r.total_numbers,
            "files": r.files, "reload_ms": None if r.reload_seconds is None else round(r.reload_seconds * 1000, 1),
            "verified_contexts": r.verified_contexts, "blacklist_entries": r.blacklist_entries, "notes": r.notes}


def version(v: m.AppliedVersion) -> dict[str, Any]:
    return {"id": v.id, "applied_at": utc(v.applied_at), "tenant": v.tenant, "numbers": v.numbers,
            "files": v.files, "version": Path(v.dialplan_dir).name, "summary": v.summary}


def audit_entry(e: m.AuditEntry) -> dict[str, Any]:
    return {"id": e.id, "at": utc(e.at), "actor": e.actor, "tenant": e.tenant, "action": e.action,
            "target": e.target, "outcome": e.outcome, "detail": None if e.detail is None else json.loads(e.detail)}


def blacklist_entry(e: m.BlacklistEntry) -> dict[str, Any]:
    return {"caller": e.caller, "source": e.source, "added_at": utc(e.added_at)}


def upload(u: m.UploadedAnnouncement, used_by: list[str]) -> dict[str, Any]:
    return {"name": u.name, "content_type": u.source_type, "bytes": u.source_bytes,
            "seconds": round(u.seconds, 3), "created_at": utc(u.created_at), "used_by": used_by}
