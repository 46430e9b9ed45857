"""The controller's HTTP side: ``GET /health`` (AMI, Redis, DB each up or down) and
``GET /metrics`` (Prometheus). The service's connections live exactly as long as the app, through
aiohttp's ``cleanup_ctx``."""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from orchestrator.live.controller import LiveController

SERVICE: web.AppKey[LiveController] = web.AppKey("live_controller", LiveController)


async def health(request: web.Request) -> web.Response:
    service = request.app[SERVICE]
    components = await service.health()
    body = {"status": "ok" if all(components.values()) else "degraded",
            "components": {k: "up" if v else "down" for k, v in components.items()},
            "calls_in_progress": len(service.book.calls),
            "records_pending": service.writer.pending}
    # 503 only when the service cannot see calls at all; Redis/DB down is "degraded" but working.
    return web.json_response(body, status=200 if components["ami"] else 503)


async def metrics(request: web.Request) -> web.Response:
    service = request.app[SERVICE]
    await service.health()  # refreshes the svc_component_up gauges
    return web.Response(body=generate_latest(service.metrics.registry),
                        headers={"Content-Type": CONTENT_TYPE_LATEST})


def make_app(service: LiveController) -> web.Application:
    app = web.Application()
    app[SERVICE] = service

    async def lifetime(_app: web.Application) -> AsyncIterator[None]:
        await service.start()
        yield
        await service.stop()

    app.cleanup_ctx.append(lifetime)
    app.router.add_get("/health", health)
    app.router.add_get("/metrics", metrics)
    return app
