"""Failed requests in the audit log (issue 14): every change that was refused or failed, and every
request refused for its token (401, 403), whatever the method. Successful changes are audited by
their handlers, in the transaction of the change; reads that fail are not (the access log has them).

An entry is filed under the tenant of the token that made the request (the URL's tenant for an
admin token), never under a tenant the token may not see: a tenant does not learn from its audit
log who probed its URLs, and a prober finds its own attempts in its own log.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from aiohttp import web

from orchestrator.api import context
from orchestrator.api.auth import PRINCIPAL
from orchestrator.api.errors import Handler
from orchestrator.errors import OrchestratorError
from orchestrator.store import api_repository

log = logging.getLogger(__name__)
AUDITED = web.RequestKey("audited", bool)  # set by a handler that audited its own failure
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
MAX_ERRORS = 10  # of a refused plan's violations, kept in the entry


def mark_audited(request: web.Request) -> None:
    request[AUDITED] = True


def _errors(response: web.StreamResponse) -> list[dict[str, Any]]:
    body = getattr(response, "body", None)
    if not isinstance(body, bytes):
        return []
    try:
        errors = json.loads(body).get("errors", [])
    except (ValueError, AttributeError):
        return []
    return list(errors)[:MAX_ERRORS]


def _audit(request: web.Request, response: web.StreamResponse) -> None:
    who = request.get(PRINCIPAL)
    if who is None:
        actor, token_id, tenant = "anonymous", None, None
    elif who.is_admin:
        actor, token_id, tenant = who.actor, who.token_id, request.match_info.get("tenant")
    else:
        actor, token_id, tenant = who.actor, who.token_id, who.tenant
    resource = request.match_info.route.resource
    route = resource.canonical if resource is not None else request.path
    detail = {"method": request.method, "path": request.path, "status": response.status, "errors": _errors(response)}
    with context.session(request) as session:
        api_repository.audit_committed(session, actor=actor, token_id=token_id, tenant=tenant,
                                       action=f"{request.method} {route}", target=request.match_info.get("number"),
                                       outcome="failed" if response.status >= 500 else "rejected", detail=detail)


@web.middleware
async def audit_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    response = await handler(request)  # error_middleware (inside) made every error a response
    failed = response.status >= 400 and (request.method not in SAFE_METHODS or response.status in (401, 403))
    if failed and not request.get(AUDITED, False):
        try:
            _audit(request, response)
        except OrchestratorError:
            # The answer stands; a database that cannot take the entry is in the server log.
            log.exception("cannot audit %s %s (%s)", request.method, request.path, response.status)
    return response
