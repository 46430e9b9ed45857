"""The aiohttp application: middlewares, routes, and the lifetimes of the database engine and the
AMI connection (``cleanup_ctx``: opened before the first request, closed on shutdown)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from aiohttp import web

from orchestrator.api import (
    openapi,
    routes_allocations,
    routes_announcements,
    routes_blacklist,
    routes_callcentre,
    routes_flows,
    routes_lists,
    routes_live,
    routes_numbers,
    routes_phones,
    routes_plan,
    routes_recordings,
    routes_reports,
)
from orchestrator.api.audit import audit_middleware
from orchestrator.api.auth import auth_middleware
from orchestrator.api.context import AMI, ENGINE, STATE, ApiConfig, ApiState
from orchestrator.api.errors import Handler, InputInvalid, error_middleware
from orchestrator.asterisk.ami import Ami
from orchestrator.errors import Violation
from orchestrator.store.engine import make_engine

JSON_BODY_LIMIT = 4 * 1024 * 1024  # a plan of ~10,000 numbers; uploads are streamed and limited apart


async def _database(app: web.Application) -> AsyncIterator[None]:
    settings = app[STATE].config.settings
    settings.state_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.db_url)
    app[ENGINE] = engine
    yield
    engine.dispose()


async def _asterisk(app: web.Application) -> AsyncIterator[None]:
    s = app[STATE].config.settings
    # Fails the start-up (AsteriskUnavailable) rather than serving an API that cannot apply.
    ami = await Ami.from_settings(s).connect()
    app[AMI] = ami
    yield
    ami.close()


def _query_middleware(allowed: dict[tuple[str, str], frozenset[str]]) -> Any:
    """Unknown query parameters are errors, as unknown plan fields are: a typo is not ignored."""

    @web.middleware
    async def check_query(request: web.Request, handler: Handler) -> web.StreamResponse:
        resource = request.match_info.route.resource
        if resource is not None:
            known = allowed.get((request.method, resource.canonical), frozenset())
            unknown = sorted(set(request.query) - known)
            if unknown:
                raise InputInvalid([Violation(name, "unknown query parameter") for name in unknown])
        return await handler(request)

    return check_query


async def openapi_document(_request: web.Request) -> web.Response:
    return web.json_response(openapi.document())


def create_app(config: ApiConfig) -> web.Application:
    query = _query_middleware(openapi.query_parameters(openapi.document()))
    app = web.Application(middlewares=[audit_middleware, error_middleware, auth_middleware, query],
                          client_max_size=JSON_BODY_LIMIT)
    app[STATE] = ApiState(config)
    app.cleanup_ctx.append(_database)
    if not config.offline:
        app.cleanup_ctx.append(_asterisk)
    app.router.add_get("/openapi.json", openapi_document)
    for module in (routes_numbers, routes_plan, routes_blacklist, routes_lists, routes_flows,
                   routes_announcements, routes_live,
                   routes_recordings, routes_callcentre, routes_phones, routes_allocations, routes_reports):
        app.router.add_routes(module.routes())
    return app
