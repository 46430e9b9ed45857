"""``orchestrator serve`` (the live controller) and ``orchestrator status`` (live figures)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
from datetime import datetime
from typing import Annotated
from zoneinfo import ZoneInfo

import typer
from aiohttp import web

from orchestrator.errors import OrchestratorError
from orchestrator.live.state import read_figures
from orchestrator.settings import Settings, load_settings

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
OUTCOMES = ("answered", "busy", "no_answer", "unreachable", "blocked", "abandoned", "max_duration")


async def serve_until_stopped(settings: Settings) -> None:
    from orchestrator.live.http import make_app
    from orchestrator.live.service import LiveService

    service = LiveService(settings)
    runner = web.AppRunner(make_app(service), access_log=None)
    await runner.setup()  # starts the service (cleanup_ctx)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await web.TCPSite(runner, settings.bind_host, settings.live_port).start()
        logging.getLogger("orchestrator.live").info(
            "health and metrics on http://%s:%d/health, /metrics", settings.bind_host, settings.live_port)
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(1.0):
                    await stop.wait()
            failed = service.failed_task()
            if failed is not None:  # a bug killed a part of the service: stop loudly, let systemd restart
                raise failed
    finally:
        await runner.cleanup()


def serve(
    log_level: Annotated[str, typer.Option(help="DEBUG, INFO, WARNING")] = "INFO",
) -> None:
    """Run the live controller next to Asterisk: follows calls over AMI, live figures in Redis
    (SVC_REDIS_URL), call records in the database, the 090x maximum-duration watchdog, and
    /health + /metrics on SVC_BIND_HOST:SVC_LIVE_PORT. Routing does not depend on it."""
    logging.basicConfig(level=log_level.upper(), stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        asyncio.run(serve_until_stopped(load_settings()))
    except OrchestratorError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from exc


def format_status(figures: dict[str, dict[str, str]], day: str) -> str:
    """The live figures as a readable table (pure, for tests)."""
    by_number, today = figures["number"], figures["day"]
    numbers = sorted({*by_number, *(k.split(":number:")[1] for k in today if ":number:" in k)})
    head = f"{'service number':<16} {'in progress':>11} " + " ".join(f"{o:>12}" for o in OUTCOMES)
    lines = [f"Live figures, {day} (Europe/Amsterdam)", head, "-" * len(head)]
    for n in numbers:
        counts = " ".join(f"{today.get(f'{o}:number:{n}', '0'):>12}" for o in OUTCOMES)
        lines.append(f"{n:<16} {by_number.get(n, '0'):>11} {counts}")
    total_now = sum(int(v) for v in by_number.values())
    lines.append("-" * len(head))
    lines.append(f"{'total':<16} {total_now:>11} " + " ".join(f"{today.get(o, '0'):>12}" for o in OUTCOMES))
    tenants = figures["tenant"]
    if tenants:
        lines.append("in progress per tenant: " + ", ".join(f"{t} {v}" for t, v in sorted(tenants.items())))
    for key in sorted(k for k in figures if k.startswith("queue:")):
        q = figures[key]
        lines.append(f"queue {key[6:]}: {q.get('waiting', '0')} waiting (longest {q.get('longest_wait_s', '0')} s), "
                     f"answered {q.get('answered', '0')}, abandoned {q.get('abandoned', '0')}, "
                     f"service level {q.get('service_level_pct', '100.0')} %; agents "
                     + ", ".join(f"{s} {q.get('agents_' + s.replace('-', '_'), '0')}"
                                 for s in ("available", "busy", "wrap-up", "unavailable", "logged-out")))
    updated = figures["meta"].get("updated_at")
    if updated:
        lines.append(f"updated {datetime.fromtimestamp(float(updated), AMSTERDAM):%H:%M:%S}")
    else:
        lines.append("no figures published yet (is `orchestrator serve` running?)")
    return "\n".join(lines)


def status() -> None:
    """Live figures: calls in progress per service number and tenant, today's calls by outcome."""
    settings = load_settings()
    day = datetime.now(AMSTERDAM).date().isoformat()
    try:
        figures = asyncio.run(read_figures(settings.redis_url, day))
    except OrchestratorError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(3) from exc
    typer.echo(format_status(figures, day))


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
    app.command("status")(status)
