"""Bearer-token authentication and the tenant boundary.

A tenant token sees only its own tenant: any path naming another tenant answers 404, exactly as
for a tenant that does not exist, so a token cannot even learn which other tenants exist. The
admin (operator) token sees every tenant.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from aiohttp import web

from orchestrator.api import context
from orchestrator.api.errors import Forbidden, Handler, Unauthenticated
from orchestrator.domain.plan import NAME_PATTERN
from orchestrator.errors import NotFound
from orchestrator.store import api_repository

PUBLIC_PATHS = frozenset({"/openapi.json"})


@dataclass(frozen=True)
class Principal:
    token_id: int
    role: str  # "tenant" | "admin"
    tenant: str | None

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def actor(self) -> str:
        return f"token {self.token_id} (admin)" if self.is_admin else f"token {self.token_id} (tenant {self.tenant})"

    def may_see(self, tenant: str) -> bool:
        return self.is_admin or self.tenant == tenant


PRINCIPAL = web.RequestKey("principal", Principal)


def _lookup(request: web.Request, token: str) -> Principal | None:
    with context.session(request) as session:
        row = api_repository.token_by_secret(session, token, context.config(request).now())
        if row is None or row.id is None:
            return None
        return Principal(row.id, row.role, row.tenant)


@web.middleware
async def auth_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.path in PUBLIC_PATHS:
        return await handler(request)
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("token", "send 'Authorization: Bearer <token>'")
    principal = _lookup(request, token.strip())
    if principal is None:
        raise Unauthenticated("token", "unknown or revoked token")
    request[PRINCIPAL] = principal
    return await handler(request)


def principal(request: web.Request) -> Principal:
    return request[PRINCIPAL]


def audit_action(request: web.Request, tenant: str, action: str, target: str) -> None:
    """Record a live action (no plan change to commit it with) in the audit log, on its own."""
    who = principal(request)
    with context.session(request) as session:
        api_repository.audit(session, actor=who.actor, token_id=who.token_id, tenant=tenant, action=action,
                             target=target)
        session.commit()


def tenant_of(request: web.Request) -> str:
    """The ``{tenant}`` of the path, if this token may see it (else 404, see the module doc)."""
    tenant = request.match_info["tenant"]
    # A name outside the tenant pattern cannot exist (and must never reach a file path).
    if not re.match(NAME_PATTERN, tenant) or not principal(request).may_see(tenant):
        raise NotFound(f"no tenant {tenant!r}")
    return tenant


def require_admin(request: web.Request) -> Principal:
    p = principal(request)
    if not p.is_admin:
        raise Forbidden("token", "this needs an admin (operator) token")
    return p
