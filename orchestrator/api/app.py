"""The aiohttp application: middlewares, routes, and the lifetimes of the database engine and the
AMI connection (``cleanup_ctx``: opened before the first request, closed on shutdown)."""

from __future__ import annotations

import asyncio
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
from orchestrator.api.context import AMI, ENGINE, NODES, STATE, ApiConfig, ApiState
from orchestrator.api.errors import Handler, InputInvalid, error_middleware
from orchestrator.asterisk.ami import Ami
from orchestrator.errors import AsteriskUnavailable, Violation
from orchestrator.services import cluster
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
    config = cluster.load_config(s.cluster_file)
    if config is not None:
        # A cluster: a link to every node, kept connected (panoramisk logs in again by itself);
        # each apply takes the nodes that are up then (api/context.py).
        links = {n.name: Ami(n.ami_host, n.ami_port, s.ami_user, s.ami_secret) for n in config.nodes}
        for link in links.values():
            link.start(lambda: None, lambda _exc: None)
        await _any_logged_in(links)
        app[NODES] = links
        yield
        for link in links.values():
            link.close()
        return
    # Fails the start-up (AsteriskUnavailable) rather than serving an API that cannot apply.
    ami = await Ami.from_settings(s).connect()
    app[AMI] = ami
    yield
    ami.close()


async def _any_logged_in(links: dict[str, Ami], timeout: float = 10.0) -> None:
    """Wait for every node (an apply must not skip a node that is merely still logging in), at
    most ``timeout``; then at least one must be there."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not all(a.logged_in for a in links.values()):
        if asyncio.get_running_loop().time() > deadline:
            if any(a.logged_in for a in links.values()):
                return
            for link in links.values():
                link.close()
            raise AsteriskUnavailable(f"no node of the cluster answers on AMI within {timeout:.0f} s")
        await asyncio.sleep(0.1)


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
