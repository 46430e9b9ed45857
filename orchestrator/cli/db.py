"""``orchestrator db``: the database schema's version, and upgrading it (docs/database.md)."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from orchestrator.cli.common import current_settings, errors_to_exit_codes, say
from orchestrator.services import database

db_app = typer.Typer(help="The database: its schema version, and upgrading it after a new release.",
                     no_args_is_help=True)


@db_app.command("upgrade")
def upgrade() -> None:
    """Bring the database (SVC_DB_URL) to this release's schema; a database of the release
    before migrations is adopted with its rows. Safe to run again: a current schema is left as it is."""
    with errors_to_exit_codes():
        settings = current_settings()
        settings.state_dir.mkdir(parents=True, exist_ok=True)
        before, after = database.upgrade(settings.db_url)
        if before.current == after.current:
            say(f"database schema already current ({after.current})")
        else:
            say(f"database schema upgraded: {before.describe()} -> {after.current}")


@db_app.command("status")
def status(as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False) -> None:
    """The database's schema version and the one this release needs; exit 1 when behind."""
    with errors_to_exit_codes():
        settings = current_settings()
        settings.state_dir.mkdir(parents=True, exist_ok=True)  # the default SQLite file lives there
        found = database.state(settings.db_url)
    if as_json:
        typer.echo(json.dumps({"current": found.current, "head": found.head, "empty": found.empty,
                               "up_to_date": found.up_to_date}))
    else:
        typer.echo(f"schema {found.describe()}, this release needs {found.head}"
                   + ("" if found.up_to_date else f": run `{database.UPGRADE_COMMAND}`"))
    if not found.up_to_date and not found.empty:
        raise typer.Exit(1)
