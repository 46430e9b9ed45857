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

from orchestrator.cli.cluster import say_nodes
from orchestrator.cli.common import dialplan_problems, errors_to_exit_codes, runtime_for, say_dialplan
from orchestrator.domain.agent_state import AGENT_STATES
from orchestrator.errors import OrchestratorError
from orchestrator.live.controller import LiveController
from orchestrator.live.http import make_app
from orchestrator.live.notifier import PublishedFigures, read_figures
from orchestrator.services import cluster
from orchestrator.services.stack import Stack
from orchestrator.settings import Settings, load_settings

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
OUTCOMES = ("answered", "busy", "no_answer", "unreachable", "blocked", "abandoned", "max_duration")


async def serve_until_stopped(settings: Settings) -> None:
    config = cluster.load_config(settings.cluster_file)
    nodes = None if config is None else {n.name: (n.ami_host, n.ami_port) for n in config.nodes}
    service = LiveController(settings, nodes=nodes)  # a cluster: every node
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
    """Run the live controller next to Asterisk: calls over AMI, figures in Redis, /health, /metrics.

    It follows calls over AMI, keeps live figures in Redis (SVC_REDIS_URL) and call records in the
    database, runs the 090x maximum-duration watchdog, and serves /health + /metrics on
    SVC_BIND_HOST:SVC_LIVE_PORT. Routing does not depend on it."""
    logging.basicConfig(level=log_level.upper(), stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        asyncio.run(serve_until_stopped(load_settings()))
    except OrchestratorError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from exc


def _nodes(q: dict[str, str]) -> str:
    """How many nodes a queue's figures cover, when that is not simply the one Asterisk."""
    reporting, nodes = q.get("nodes_reporting", "1"), q.get("nodes", "1")
    return "" if reporting == nodes == "1" else f" (from {reporting} of {nodes} nodes)"


def format_status(figures: PublishedFigures, day: str) -> str:
    """The live figures as a readable table (pure, for tests)."""
    by_number, today = figures.in_progress_by_number, figures.today
    numbers = sorted({*by_number, *figures.today_by_number})
    head = f"{'service number':<16} {'in progress':>11} " + " ".join(f"{o:>12}" for o in OUTCOMES)
    lines = [f"Live figures, {day} (Europe/Amsterdam)", head, "-" * len(head)]
    for n in numbers:
        mine = figures.today_by_number.get(n, {})
        counts = " ".join(f"{mine.get(o, 0):>12}" for o in OUTCOMES)
        lines.append(f"{n:<16} {by_number.get(n, 0):>11} {counts}")
    lines.append("-" * len(head))
    lines.append(f"{'total':<16} {sum(by_number.values()):>11} " + " ".join(f"{today.get(o, 0):>12}"
                                                                          for o in OUTCOMES))
    tenants = figures.in_progress_by_tenant
    if tenants:
        lines.append("in progress per tenant: " + ", ".join(f"{t} {v}" for t, v in sorted(tenants.items())))
    for name, q in sorted(figures.queues.items()):
        lines.append(f"queue {name}: {q.get('waiting', '0')} waiting (longest {q.get('longest_wait_s', '0')} s), "
                     f"answered {q.get('answered', '0')}, abandoned {q.get('abandoned', '0')}, "
                     f"service level {q.get('service_level_pct', '100.0')} %; agents "
                     + ", ".join(f"{s} {q.get('agents_' + s.replace('-', '_'), '0')}" for s in AGENT_STATES)
                     + _nodes(q))
    if figures.updated_at is not None:
        lines.append(f"updated {datetime.fromtimestamp(figures.updated_at, AMSTERDAM):%H:%M:%S}")
    else:
        lines.append("no figures published yet (is `orchestrator serve` running?)")
    return "\n".join(lines)


def status() -> None:
    """Each part of the stack, then the live figures: calls in progress per number and tenant, today's outcomes.

    Parts: Asterisk, Redis, live controller, REST API, recordings worker (up / unhealthy / down,
    pid, where it listens). Exit 3 when the live figures cannot be read from Redis."""
    settings = load_settings()
    day = datetime.now(AMSTERDAM).date().isoformat()
    try:
        parts = Stack(settings, runtime_for(settings), sys.executable).status()
    except OrchestratorError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from exc
    for part in parts:
        typer.echo(part.line())
    say_dialplan(dialplan_problems(settings))
    with errors_to_exit_codes():
        say_nodes(settings)  # a cluster: each node's version, stale or not
    try:
        figures = asyncio.run(read_figures(settings.redis_url, day))
    except OrchestratorError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(3) from exc
    typer.echo(format_status(figures, day))


commands = typer.Typer()  # top-level commands, added to the main app by cli/main.py
commands.command("serve")(serve)
commands.command("status")(status)
