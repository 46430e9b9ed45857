"""Call flows: flow show NAME (a readable tree), flow export NAME --format json|dot|mermaid, and
drafts: flow try NAME --file draft.yaml (on the test number), flow promote NAME --number N."""

from __future__ import annotations

import asyncio
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from orchestrator.cli.common import (
    current_settings,
    engine_for,
    errors_to_exit_codes,
    read_plan_document,
    say,
    with_asterisk,
)
from orchestrator.domain.flow_drafts import draft_name
from orchestrator.domain.flow_export import FORMATS, tree
from orchestrator.domain.numbers import parse_service_number
from orchestrator.domain.plan import AMSTERDAM
from orchestrator.services.flow_drafts import DraftOutcome, flow_in, promote_flow, try_flow
from orchestrator.services.flows import find_flow, numbers_running
from orchestrator.store.session import Session

flow_app = typer.Typer(help="A tenant's Premium call flows: show, export, try a draft on the test number, promote it.",
                       no_args_is_help=True)
TenantOption = Annotated[str | None, typer.Option(help="The tenant (needed when several have a flow of this name).")]


class Format(StrEnum):
    json = "json"
    dot = "dot"
    mermaid = "mermaid"


@flow_app.command("show")
def flow_show(name: str, tenant: TenantOption = None) -> None:
    """Print flow NAME as a tree from its start block, and the numbers that run it."""
    with errors_to_exit_codes(), Session(engine_for(current_settings())) as session:
        owner, flow = find_flow(session, name, tenant)
        typer.echo(f"tenant {owner!r}, " + tree(flow, name))
        running = [parse_service_number(n).national for n in numbers_running(session, owner, name)]
        typer.echo(f"run by: {', '.join(running) if running else 'no number yet'}")


@flow_app.command("export")
def flow_export(name: str, tenant: TenantOption = None,
                fmt: Annotated[Format, typer.Option("--format", help="json (the plan format), dot "
                                                                   "(Graphviz) or mermaid.")] = Format.json) -> None:
    """Print flow NAME as JSON (plan format), Graphviz dot or a Mermaid flowchart."""
    with errors_to_exit_codes(), Session(engine_for(current_settings())) as session:
        _owner, flow = find_flow(session, name, tenant)
        typer.echo(FORMATS[fmt.value](flow, name))


def _owner(session: Session, name: str, tenant: str | None, data: Any = None) -> str:
    """--tenant, else the draft file's tenant, else the one tenant with a flow of that name."""
    if tenant is not None:
        return tenant
    if isinstance(data, dict) and isinstance(data.get("tenant"), str):
        return str(data["tenant"])
    return find_flow(session, name)[0]


def _national(numbers: list[str]) -> str:
    return ", ".join(parse_service_number(n).national for n in numbers) or "no live number"


def _say_changes(outcome: DraftOutcome) -> None:
    for change in outcome.changes:
        say(f"  {change}")


@flow_app.command("try")
def flow_try(name: str,
             file: Annotated[Path, typer.Option("--file", help="The draft: one flow ({start, blocks}) or a plan "
                                                             "file whose flows hold NAME.")],
             tenant: TenantOption = None) -> None:
    """Put a draft of flow NAME on the tenant's 088 test number; live numbers keep the flow they run."""
    with errors_to_exit_codes():
        data = read_plan_document(file)
        flow = flow_in(data, name)

        async def run(session: Session, target: Any) -> DraftOutcome:
            return await try_flow(session, target, _owner(session, name, tenant, data), name, flow,
                                  now=datetime.now(AMSTERDAM), progress=say)

        outcome = asyncio.run(with_asterisk(current_settings(), run))
        _say_changes(outcome)
        say(f"call {parse_service_number(outcome.test_number).national} to hear the draft of {name!r}; "
            f"{_national(outcome.numbers)} keep the live flow until `orchestrator flow promote {name}`")


@flow_app.command("promote")
def flow_promote(name: str,
                 number: Annotated[list[str] | None, typer.Option("--number", help="A live number of the tenant "
                                                                                   "to run the flow (repeat).")] = None,
                 tenant: TenantOption = None) -> None:
    """Make the draft of flow NAME the live flow NAME (every number on it runs it) and link --number's to it."""
    with errors_to_exit_codes():
        async def run(session: Session, target: Any) -> DraftOutcome:
            owner = tenant if tenant is not None else find_flow(session, draft_name(name))[0]
            return await promote_flow(session, target, owner, name, list(number or []),
                                      now=datetime.now(AMSTERDAM), progress=say)

        outcome = asyncio.run(with_asterisk(current_settings(), run))
        _say_changes(outcome)
        say(f"flow {name!r} is live: {_national(outcome.numbers)} run it")
