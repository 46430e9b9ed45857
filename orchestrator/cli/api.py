"""``orchestrator api``: serve the REST API, and manage its tokens."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated

import typer
from aiohttp import web

from orchestrator.api.app import create_app
from orchestrator.api.context import ApiConfig
from orchestrator.asterisk.layout import paths_for
from orchestrator.cli.common import engine_for, errors_to_exit_codes, say
from orchestrator.domain.plan import NAME_PATTERN
from orchestrator.services import tokens
from orchestrator.settings import Settings, load_settings
from orchestrator.store.session import Session

api_app = typer.Typer(help="The REST API (aiohttp): serve it, manage its bearer tokens.",
                      invoke_without_command=True)
token_app = typer.Typer(help="API tokens: shown once on creation, only their SHA-256 is stored.",
                        no_args_is_help=True)
api_app.add_typer(token_app, name="token")


def serve_api(settings: Settings, *, port: int | None, offline: bool) -> None:
    paths = paths_for(settings)
    config = ApiConfig(settings=settings, etc_dir=paths.etc, sounds_dir=paths.sounds,
                       uploads_dir=settings.state_dir / "uploads", asterisk_path=paths.asterisk_path,
                       offline=offline)
    chosen = port or settings.api_port
    say(f"REST API on http://{settings.bind_host}:{chosen}/ (OpenAPI: /openapi.json)"
        + (" — offline: no Asterisk reload, no live blacklist" if offline else ""))
    web.run_app(create_app(config), host=settings.bind_host, port=chosen, print=None)


@api_app.callback()
def api(ctx: typer.Context) -> None:
    """Serve the REST API when no subcommand is given (same as `orchestrator api serve`)."""
    if ctx.invoked_subcommand is None:
        with errors_to_exit_codes():
            serve_api(load_settings(), port=None, offline=False)


@api_app.command("serve")
def serve(
    port: Annotated[int | None, typer.Option(help="Port (default SVC_API_PORT, 8080).")] = None,
    offline: Annotated[bool, typer.Option(help="Without Asterisk: applies only write files; "
                                                "live blacklist changes answer 503.")] = False,
) -> None:
    """Serve the REST API on SVC_BIND_HOST (loopback by default)."""
    with errors_to_exit_codes():
        serve_api(load_settings(), port=port, offline=offline)


@token_app.command("create")
def token_create(
    tenant: Annotated[str | None, typer.Option(help="The tenant this token acts for.")] = None,
    admin: Annotated[bool, typer.Option("--admin", help="Operator token: every tenant.")] = False,
    label: Annotated[str | None, typer.Option(help="A note on who holds it.")] = None,
) -> None:
    """Create a token and print it once (stdout); only its hash is stored."""
    if not admin and tenant is None:
        say("give --tenant T (or --admin for an operator token)")
        raise typer.Exit(2)
    if tenant is not None and not re.match(NAME_PATTERN, tenant):
        say(f"tenant names match {NAME_PATTERN}")
        raise typer.Exit(2)
    with errors_to_exit_codes(), Session(engine_for(load_settings())) as session:
        row, token = tokens.create(session, tenant=tenant, admin=admin, label=label)
        say(f"token {row.id} for {'admin' if admin else 'tenant ' + str(tenant)} (shown only now):")
        typer.echo(token)


@token_app.command("list")
def token_list() -> None:
    """Tokens (without their secret): id, role, tenant, created, last used, revoked."""
    with errors_to_exit_codes(), Session(engine_for(load_settings())) as session:
        for t in tokens.listing(session):
            def when(d: datetime | None) -> str:
                return "-" if d is None else f"{d:%Y-%m-%d %H:%M}"
            typer.echo(f"{t.id:>4}  {t.role:<6}  {t.tenant or '*':<14}  created {when(t.created_at)}  "
                       f"used {when(t.last_used_at)}  revoked {when(t.revoked_at)}  {t.label or ''}")


@token_app.command("revoke")
def token_revoke(token_id: Annotated[int, typer.Argument(help="The id shown by `token list`.")]) -> None:
    """Revoke a token: it is refused from the next request on."""
    with errors_to_exit_codes(), Session(engine_for(load_settings())) as session:
        tokens.revoke(session, token_id)
        say(f"token {token_id} revoked")
