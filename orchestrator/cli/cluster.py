"""``orchestrator cluster``: Kamailio's files, and the nodes' state (docs/scaling.md).

Needs SVC_CLUSTER_FILE (the nodes and Kamailio's addresses). Every node is reached over AMI with
the same SVC_AMI_USER / SVC_AMI_SECRET."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Annotated

import typer

from orchestrator.asterisk.dialplan_files import DialplanFiles
from orchestrator.asterisk.layout import paths_for
from orchestrator.cli.common import engine_for, errors_to_exit_codes, say
from orchestrator.domain.cluster import ClusterConfig, NodeState
from orchestrator.edge import kamailio
from orchestrator.errors import EdgeError, NotFound
from orchestrator.generate.kamailio import Edge
from orchestrator.services import cluster
from orchestrator.settings import Settings, load_settings
from orchestrator.store.session import Session

cluster_app = typer.Typer(help="A cluster of Asterisk nodes behind Kamailio: its files and the nodes' state.",
                          no_args_is_help=True)


def _required(settings: Settings) -> ClusterConfig:
    config = cluster.load_config(settings.cluster_file)
    if config is None:
        raise NotFound("no cluster configured: set SVC_CLUSTER_FILE (docs/scaling.md)")
    return config


def edge_of(config: ClusterConfig) -> Edge:
    return Edge(config.listen, config.port, Path(config.run_dir), log_routes=config.log_routes,
                count_port=config.count_port)


async def node_states(settings: Settings, config: ClusterConfig) -> list[NodeState]:
    links = await cluster.connect(config.nodes, settings.ami_user, settings.ami_secret)
    try:
        with Session(engine_for(settings)) as session:
            return await cluster.states(session, links)
    finally:
        cluster.close(links)


def say_nodes(settings: Settings) -> None:
    """`orchestrator status`: one line per node, when a cluster is configured."""
    config = cluster.load_config(settings.cluster_file)
    if config is None:
        return
    for s in asyncio.run(node_states(settings, config)):
        say(f"node {s.name}: {s.describe}")


@cluster_app.command("edge")
def edge(reload: Annotated[bool, typer.Option("--reload", help="Tell the running Kamailio to read the node "
                                                                 "list again.")] = False) -> None:
    """Write Kamailio's kamailio.cfg and dispatcher.list for the configured nodes, and check them."""
    with errors_to_exit_codes():
        config = _required(load_settings())
        where = edge_of(config)
        kamailio.write_files(where, config.nodes)
        kamailio.check_config(where)
        say(f"wrote {where.cfg_file} and {where.dispatcher_file} ({len(config.nodes)} nodes); Kamailio accepts them")
        if reload:
            kamailio.Kamailio(where, where.run_dir / "kamailio.log").reload_nodes()
            say("Kamailio reads the node list again")


@cluster_app.command("status")
def status(as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False) -> None:
    """Each node: reachable, the version it verified, stale or up to date, taking calls or not."""
    with errors_to_exit_codes():
        settings = load_settings()
        config = _required(settings)
        states = asyncio.run(node_states(settings, config))
        seen = _dispatcher(config)
    if as_json:
        typer.echo(json.dumps([{"node": s.name, "reachable": s.reachable, "version": s.version,
                                "committed": s.committed, "stale": s.stale, "ready": s.ready,
                                "kamailio": seen.get(s.name)} for s in states]))
    else:
        for s in states:
            typer.echo(f"{s.name}: {s.describe}; Kamailio: {seen.get(s.name, 'not reachable')}")
    if any(s.stale for s in states):
        raise typer.Exit(1)


def _dispatcher(config: ClusterConfig) -> dict[str, str]:
    """Kamailio's own view: node -> "sends calls" / "sends none" (its dispatcher flags); {} when its
    control socket does not answer."""
    where = edge_of(config)
    try:
        found = kamailio.Kamailio(where, where.run_dir / "kamailio.log").destinations()
    except EdgeError:
        return {}
    return {n.name: ("sends calls" if found[n.uri].active else f"sends none ({found[n.uri].flags})")
            for n in config.nodes if n.uri in found}


async def _sync(settings: Settings, config: ClusterConfig) -> list[str]:
    links = await cluster.connect(config.nodes, settings.ami_user, settings.ami_secret)
    try:
        with Session(engine_for(settings)) as session:
            where = edge_of(config)
            gate = kamailio.Kamailio(where, where.run_dir / "kamailio.log")
            return await cluster.sync_nodes(session, DialplanFiles(paths_for(settings).etc), links, say,
                                            nodes=config.nodes, gate=gate)
    finally:
        cluster.close(links)


@cluster_app.command("sync")
def sync(watch: Annotated[float, typer.Option("--watch", help="Go on, every this many seconds.")] = 0.0) -> None:
    """Catch up every reachable node that is behind or takes no calls (reload, verify, AstDB), then
    let Kamailio send it calls again."""
    with errors_to_exit_codes():
        settings = load_settings()
        config = _required(settings)
        while True:
            done = asyncio.run(_sync(settings, config))
            if not watch:
                typer.echo(", ".join(done) if done else "every reachable node is up to date")
                return
            time.sleep(watch)
