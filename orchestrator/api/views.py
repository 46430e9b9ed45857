"""Domain objects and rows as the API's JSON (the shapes in ``openapi.py``), and request bodies
parsed with their field paths."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from aiohttp import web
from pydantic import BaseModel, ValidationError

from orchestrator.api.errors import BadRequest, InputInvalid, UnsupportedMedia
from orchestrator.domain.numbers import parse_service_number
from orchestrator.domain.plan import ServiceNumberPlan, TenantPlan, to_document
from orchestrator.domain.violations import field_path, violations_of
from orchestrator.errors import Violation
from orchestrator.services.apply import ApplyReport
from orchestrator.store import models as m

M = TypeVar("M", bound=BaseModel)


MAX_JSON_DEPTH = 32  # a plan nests ~8 deep; deeper is an attack on the parsers, not a plan
INT64 = range(-(2**63), 2**63)  # what the database and orjson hold; larger is never a valid value


def _check_shape(data: Any) -> None:
    """Depth and integer range of a parsed body, walked without recursion: a deep document must
    not reach code that recurses (pydantic, orjson stop at 255 levels), and an integer above 64
    bits must not reach the database or orjson (both raise, which would be a 500)."""
    stack: list[tuple[Any, tuple[str | int, ...]]] = [(data, ())]
    too_big: list[Violation] = []
    while stack:
        value, loc = stack.pop()
        if len(loc) > MAX_JSON_DEPTH:
            raise BadRequest("body", f"nested more than {MAX_JSON_DEPTH} levels deep")
        if isinstance(value, dict):
            stack.extend((v, (*loc, k)) for k, v in value.items())
        elif isinstance(value, list):
            stack.extend((v, (*loc, i)) for i, v in enumerate(value))
        elif isinstance(value, int) and not isinstance(value, bool) and value not in INT64:
            too_big.append(Violation(field_path(loc, "body"), "a whole number of at most 64 bits"))
    if too_big:
        raise InputInvalid(sorted(too_big, key=lambda v: v.field))


async def read_json(request: web.Request) -> Any:
    """The body as JSON: only when sent as ``application/json`` (a form or text/plain body is not
    taken for a plan by accident), at most MAX_JSON_DEPTH deep, integers within 64 bits."""
    if request.content_type != "application/json":
        raise UnsupportedMedia("Content-Type", "send the body as JSON with 'Content-Type: application/json'")
    try:
        data = await request.json()
    except RecursionError as exc:  # the stdlib parser recurses per level
        raise BadRequest("body", f"nested more than {MAX_JSON_DEPTH} levels deep") from exc
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BadRequest("body", f"not valid JSON: {exc}") from exc
    _check_shape(data)
    return data


async def read_body(request: web.Request, model: type[M]) -> M:
    """A JSON body checked against a pydantic model; every error with its field path."""
    data = await read_json(request)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise InputInvalid(violations_of(exc, whole="body")) from exc


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
