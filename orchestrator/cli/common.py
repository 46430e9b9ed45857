"""What every command group shares: output, exit codes, settings, and the wiring of a use case
to a database session and Asterisk.

Exit codes: 0 done, 2 the input is wrong (invalid plan, malformed number, unknown number),
3 Asterisk is unreachable or refused the change (the previous dialplan stays active), 1 other.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import orjson
import typer
import yaml

from orchestrator.asterisk.ami import Ami
from orchestrator.asterisk.astdb import AllNodes, AstDb
from orchestrator.asterisk.dialplan_files import DialplanFiles
from orchestrator.asterisk.layout import paths_for
from orchestrator.asterisk.runtime import AsteriskRuntime
from orchestrator.domain.cluster import node_of_call
from orchestrator.domain.plan import AMSTERDAM, TenantPlan, parse_plan
from orchestrator.errors import (
    AllocationConflict,
    AsteriskError,
    InputInvalid,
    NotFound,
    NumberInvalid,
    OrchestratorError,
    PlanInvalid,
    RemovalNotConfirmed,
    StoreError,
    VersionConflict,
    Violation,
)
from orchestrator.services import cluster, consistency
from orchestrator.services.apply import ApplyTarget
from orchestrator.settings import Settings, load_settings
from orchestrator.store.engine import make_engine
from orchestrator.store.session import Engine, Session

T = TypeVar("T")


def say(message: str) -> None:
    """Progress and errors go to stderr (coloured on a terminal); results to stdout."""
    colour = "red" if message.startswith(("error", "Asterisk:", "The plan is invalid")) else None
    typer.secho(message, err=True, fg=colour)


@contextmanager
def errors_to_exit_codes() -> Iterator[None]:
    try:
        yield
    except PlanInvalid as exc:
        say(f"The plan is invalid ({len(exc.violations)} problem(s)); nothing was changed:")
        for v in exc.violations:
            say(f"  - {v}")
        raise typer.Exit(2) from exc
    except InputInvalid as exc:
        say(f"error: {len(exc.violations)} problem(s):")
        for v in exc.violations:
            say(f"  - {v}")
        raise typer.Exit(2) from exc
    except (NumberInvalid, NotFound, AllocationConflict, VersionConflict) as exc:
        say(f"error: {exc}")
        raise typer.Exit(2) from exc
    except RemovalNotConfirmed as exc:
        say(f"error: {exc}; nothing was changed. To remove them, run it again with --allow-removal")
        raise typer.Exit(2) from exc
    except AsteriskError as exc:
        say(f"Asterisk: {exc}")
        raise typer.Exit(3) from exc
    except (StoreError, OrchestratorError) as exc:
        say(f"error: {exc}")
        raise typer.Exit(1) from exc


def current_settings() -> Settings:
    return load_settings()


def engine_for(settings: Settings) -> Engine:
    settings.state_dir.mkdir(parents=True, exist_ok=True)
    return make_engine(settings.db_url)


def runtime_for(settings: Settings) -> AsteriskRuntime:
    return AsteriskRuntime(settings, progress=say)


def ami_for(settings: Settings) -> Ami:
    return Ami.from_settings(settings)


def ami_of_call(settings: Settings, call_id: str) -> Ami:
    """The AMI link (not yet connected) of the node a call is on: with a cluster file, the node
    its call id names; else this Asterisk."""
    config = cluster.load_config(settings.cluster_file)
    if config is None:
        return ami_for(settings)
    name = node_of_call(call_id, [n.name for n in config.nodes])
    node = next((n for n in config.nodes if n.name == name), None)
    if node is None:
        raise NotFound(f"no call {call_id!r} on any node of the cluster")
    return Ami(node.ami_host, node.ami_port, settings.ami_user, settings.ami_secret)


@asynccontextmanager
async def nodes_for(settings: Settings) -> AsyncIterator[dict[str, Ami]]:
    """This Asterisk (named ""), or with a cluster file every node that answers (connected)."""
    config = cluster.load_config(settings.cluster_file)
    if config is None:
        async with ami_for(settings) as ami:
            yield {"": ami}
        return
    links = await cluster.connect(config.nodes, settings.ami_user, settings.ami_secret)
    try:
        for name, link in links.items():
            if link is None:
                say(f"node {name} does not answer: left out (it catches up before it takes calls)")
        up = {name: a for name, a in links.items() if a is not None}
        if not up:
            raise AsteriskError("no node of the cluster answers")
        yield up
    finally:
        cluster.close(links)


@asynccontextmanager
async def astdb_for(settings: Settings) -> AsyncIterator[AstDb]:
    """Where a live AstDB change (blacklist, digit list, night service) goes: this Asterisk, or
    with a cluster file every node that answers (asterisk/astdb.AllNodes)."""
    async with nodes_for(settings) as nodes:
        yield nodes[""] if "" in nodes else AllNodes(list(nodes.values()))


def read_plan_document(path: Path) -> Any:
    """A plan file's content, unparsed. JSON (``.json``) loads ~50x faster than YAML, which
    matters from a few thousand numbers on (10,000 numbers: 0.1 s against 5 s)."""
    try:
        text = path.read_text()
    except OSError as exc:
        raise NotFound(f"cannot read {path}: {exc.strerror}") from exc
    if path.suffix == ".json":
        try:
            return orjson.loads(text)
        except orjson.JSONDecodeError as exc:
            raise PlanInvalid([Violation(str(path), f"not valid JSON: {exc}")]) from exc
    try:
        return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError as exc:
        raise PlanInvalid([Violation(str(path), f"not valid YAML: {exc}")]) from exc


def read_plan_file(path: Path) -> TenantPlan:
    return parse_plan(read_plan_document(path))


async def apply_target(settings: Settings, offline: bool) -> tuple[ApplyTarget, list[Ami]]:
    """Where a use case applies, and the AMI links to close after. With a cluster file: every node
    that answers (the first loads first, the others are its peers; docs/scaling.md)."""
    paths = paths_for(settings)
    config = None if offline else cluster.load_config(settings.cluster_file)
    if config is not None:
        links = await cluster.connect(config.nodes, settings.ami_user, settings.ami_secret)
        for name, link in links.items():
            if link is None:
                say(f"node {name} does not answer: it catches up (`orchestrator cluster sync`) before it takes calls")
        node, ami, peers = cluster.peers_of(links)
        opened = [a for a in links.values() if a is not None]
    else:
        node, ami, peers = "", None if offline else await ami_for(settings).connect(), ()
        opened = [] if ami is None else [ami]
    return ApplyTarget(DialplanFiles(paths.etc), paths.sounds, paths.asterisk_path, ami,
                       secrets_dir=settings.secrets_dir, phone_qualify_s=settings.phone_qualify_s,
                       node=node, peers=peers), opened


async def with_asterisk(settings: Settings, use: Callable[[Session, ApplyTarget], Awaitable[T]],
                        offline: bool = False) -> T:
    """Run a use case with a database session and an apply target; the AMI links are closed after."""
    target, opened = await apply_target(settings, offline)
    try:
        with Session(engine_for(settings)) as session:
            return await use(session, target)
    finally:
        for ami in opened:
            ami.close()


def dialplan_problems(settings: Settings) -> list[str]:
    """Where the files, the database and Asterisk disagree (a crashed apply); none: consistent."""
    with Session(engine_for(settings)) as session:
        return consistency.problems(session, DialplanFiles(paths_for(settings).etc))


async def repair_dialplan(settings: Settings, offline: bool) -> list[str]:
    """Repair what a crashed apply left (offline: only the files, before Asterisk starts)."""
    return list(await with_asterisk(settings, lambda session, target: consistency.repair(
        session, target.files, target.ami, say), offline))


def say_dialplan(problems: list[str]) -> None:
    if not problems:
        typer.echo("    dialplan: consistent (Asterisk, files and database agree)")
        return
    for problem in problems:
        typer.echo(f"    dialplan: {problem}")
    typer.echo("    dialplan: the next `orchestrator apply` or `orchestrator asterisk up` repairs this")


def parse_at(text: str | None) -> datetime:
    if text is None:
        return datetime.now(AMSTERDAM)
    try:
        return datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=AMSTERDAM)
    except ValueError as exc:
        raise NumberInvalid(f"--at {text!r}: write it as 'YYYY-MM-DD HH:MM' (Europe/Amsterdam)") from exc
