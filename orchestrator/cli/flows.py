"""Call flows: flow show NAME (a readable tree), flow export NAME --format json|dot|mermaid."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer

from orchestrator.cli.common import current_settings, engine_for, errors_to_exit_codes
from orchestrator.domain.flow_export import FORMATS, tree
from orchestrator.domain.numbers import parse_service_number
from orchestrator.services.flows import find_flow, numbers_running
from orchestrator.store.session import Session

flow_app = typer.Typer(help="A tenant's Premium call flows: show one as a tree, export it.", no_args_is_help=True)
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
