"""Recordings of calls in progress: keep (on_demand), pause and resume. The call id is the caller
channel's Uniqueid (the SvcRecording AMI user event). A call of another tenant is "not found"."""

from __future__ import annotations

from datetime import UTC, datetime

from aiohttp import web

from orchestrator.api import context
from orchestrator.api.auth import audit_action, tenant_of
from orchestrator.api.errors import Conflict
from orchestrator.errors import NotFound, RecordingError
from orchestrator.services.recordings.control import InProgress, mark_keep, recording_in_progress, set_paused


async def _owned_call(request: web.Request) -> tuple[str, str, InProgress]:
    """The recording in progress of the call in the path, on the call's node; another tenant's
    call is "not found"."""
    tenant = tenant_of(request)
    call_id = request.match_info["call_id"]
    found = await recording_in_progress(context.ami_of_call(request, call_id), call_id)
    if found.recording.tenant != tenant:
        raise NotFound(f"no recording in progress for call {call_id}")
    return tenant, call_id, found


async def keep(request: web.Request) -> web.Response:
    tenant, call_id, found = await _owned_call(request)
    if found.recording.policy.value != "on_demand":
        raise Conflict("call_id", "only an on_demand recording needs a keep mark; this one is kept anyway")
    marked = await mark_keep(context.ami_of_call(request, call_id), request.app[context.ENGINE], call_id, "api")
    audit_action(request, tenant, "recording.keep", call_id)
    return web.json_response({"call_id": call_id, "kept": True, "newly_marked": marked})


async def _pause(request: web.Request, paused: bool) -> web.Response:
    tenant, call_id, _found = await _owned_call(request)
    try:
        at = await set_paused(context.ami_of_call(request, call_id), call_id, paused)
    except RecordingError as exc:
        raise Conflict("call_id", str(exc)) from exc
    audit_action(request, tenant, "recording.pause" if paused else "recording.resume", call_id)
    return web.json_response({"call_id": call_id, "paused": paused,
                              "at": datetime.fromtimestamp(at, UTC).isoformat()})


async def pause(request: web.Request) -> web.Response:
    return await _pause(request, True)


async def resume(request: web.Request) -> web.Response:
    return await _pause(request, False)


def routes() -> list[web.RouteDef]:
    base = "/api/v1/tenants/{tenant}/recordings/calls/{call_id}"
    return [web.post(f"{base}/keep", keep), web.post(f"{base}/pause", pause), web.post(f"{base}/resume", resume)]
