"""Digit lists of call flows: list add|remove|show (live: AstDB, no dialplan reload)."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer

from orchestrator.cli.common import astdb_for, current_settings, engine_for, errors_to_exit_codes, say
from orchestrator.cli.tables import emit
from orchestrator.services import flow_lists
from orchestrator.store.session import Session

list_app = typer.Typer(help="A tenant's digit lists, checked by call flows' input blocks (live: no reload).",
                       no_args_is_help=True)


@list_app.command("add")
def list_add(tenant: str, name: str, value: str) -> None:
    """Put VALUE (digits) on the tenant's list NAME, from the next call on."""
    _change(tenant, name, value, add=True)


@list_app.command("remove")
def list_remove(tenant: str, name: str, value: str) -> None:
    """Take VALUE off the tenant's list NAME, from the next call on."""
    _change(tenant, name, value, add=False)


@list_app.command("show")
def list_show(tenant: str, name: Annotated[str | None, typer.Argument(help="One list; default: all.")] = None,
              as_json: Annotated[bool, typer.Option("--json", help="Machine-readable.")] = False) -> None:
    """Show the tenant's lists and their sizes, or the entries of list NAME."""
    with errors_to_exit_codes(), Session(engine_for(current_settings())) as session:
        if name is None:
            counts = flow_lists.overview(session, tenant)
            emit([{"list": n, "entries": c} for n, c in counts.items()], ["list", "entries"], as_json=as_json)
            return
        values = flow_lists.entries(session, tenant, name)
        if as_json:
            emit([{"value": v} for v in values], ["value"], as_json=True)
        else:
            for v in values:
                typer.echo(v)


def _change(tenant: str, name: str, value: str, *, add: bool) -> None:
    with errors_to_exit_codes():
        settings = current_settings()

        async def run() -> bool:
            with Session(engine_for(settings)) as session:
                flow_lists.check_entry(session, tenant, name, value)  # refused before Asterisk is asked
                async with astdb_for(settings) as astdb:
                    return await flow_lists.change_list(session, astdb, tenant, name, value, add=add)

        changed = asyncio.run(run())
        verb = "added to" if add else "removed from"
        say(f"{value} {verb} list {name!r} of {tenant!r}" if changed else "nothing to change")
