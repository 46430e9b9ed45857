"""``orchestrator api``: serve the REST API, and manage its tokens."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any

import typer

from orchestrator.settings import Settings, load_settings

api_app = typer.Typer(help="The REST API (aiohttp): serve it, manage its bearer tokens.",
                      invoke_without_command=True)
token_app = typer.Typer(help="API tokens: shown once on creation, only their SHA-256 is stored.",
                        no_args_is_help=True)
api_app.add_typer(token_app, name="token")


def _say(message: str) -> None:
    typer.echo(message, err=True)


def _engine(settings: Settings) -> Any:
    from orchestrator.store.repository import make_engine

    settings.state_dir.mkdir(parents=True, exist_ok=True)
    return make_engine(settings.db_url)


def serve_api(settings: Settings, *, port: int | None, offline: bool) -> None:
    from aiohttp import web

    from orchestrator.api.app import create_app
    from orchestrator.api.context import ApiConfig
    from orchestrator.asterisk.runtime import AsteriskRuntime

    runtime = AsteriskRuntime(settings, progress=_say)
    config = ApiConfig(settings=settings, etc_dir=runtime.etc_dir, sounds_dir=runtime.sounds_dir,
                       uploads_dir=settings.state_dir / "uploads", asterisk_path=runtime.asterisk_path,
                       offline=offline)
    chosen = port or settings.api_port
    _say(f"REST API on http://{settings.bind_host}:{chosen}/ (OpenAPI: /openapi.json)"
         + (" — offline: no Asterisk reload, no live blacklist" if offline else ""))
    web.run_app(create_app(config), host=settings.bind_host, port=chosen, print=None)


@api_app.callback()
def api(ctx: typer.Context) -> None:
    """Serve the REST API when no subcommand is given (same as `orchestrator api serve`)."""
    if ctx.invoked_subcommand is None:
        from orchestrator.cli.common import errors_to_exit_codes

        with errors_to_exit_codes():
            serve_api(load_settings(), port=None, offline=False)


@api_app.command("serve")
def serve(
    port: Annotated[int | None, typer.Option(help="Port (default SVC_API_PORT, 8080).")] = None,
    offline: Annotated[bool, typer.Option(help="Without Asterisk: applies only write files; "
                                                "live blacklist changes answer 503.")] = False,
) -> None:
    """Serve the REST API on SVC_BIND_HOST (loopback by default)."""
    from orchestrator.cli.common import errors_to_exit_codes

    with errors_to_exit_codes():
        serve_api(load_settings(), port=port, offline=offline)


@token_app.command("create")
def token_create(
    tenant: Annotated[str | None, typer.Option(help="The tenant this token acts for.")] = None,
    admin: Annotated[bool, typer.Option("--admin", help="Operator token: every tenant.")] = False,
    label: Annotated[str | None, typer.Option(help="A note on who holds it.")] = None,
) -> None:
    """Create a token and print it once (stdout); only its hash is stored."""
    from sqlmodel import Session

    from orchestrator.cli.common import errors_to_exit_codes
    from orchestrator.domain.plan import NAME_PATTERN
    from orchestrator.store import api_repository

    if not admin and tenant is None:
        _say("give --tenant T (or --admin for an operator token)")
        raise typer.Exit(2)
    if tenant is not None and not re.match(NAME_PATTERN, tenant):
        _say(f"tenant names match {NAME_PATTERN}")
        raise typer.Exit(2)
    with errors_to_exit_codes(), Session(_engine(load_settings())) as session:
        row, token = api_repository.create_token(session, tenant=tenant, role="admin" if admin else "tenant",
                                                 label=label)
        session.commit()
        _say(f"token {row.id} for {'admin' if admin else 'tenant ' + str(tenant)} (shown only now):")
        typer.echo(token)


@token_app.command("list")
def token_list() -> None:
    """Tokens (without their secret): id, role, tenant, created, last used, revoked."""
    from sqlmodel import Session

    from orchestrator.cli.common import errors_to_exit_codes
    from orchestrator.store import api_repository

    with errors_to_exit_codes(), Session(_engine(load_settings())) as session:
        for t in api_repository.tokens(session):
            def when(d: datetime | None) -> str:
                return "-" if d is None else f"{d:%Y-%m-%d %H:%M}"
            typer.echo(f"{t.id:>4}  {t.role:<6}  {t.tenant or '*':<14}  created {when(t.created_at)}  "
                       f"used {when(t.last_used_at)}  revoked {when(t.revoked_at)}  {t.label or ''}")


@token_app.command("revoke")
def token_revoke(token_id: Annotated[int, typer.Argument(help="The id shown by `token list`.")]) -> None:
    """Revoke a token: it is refused from the next request on."""
    from sqlmodel import Session

    from orchestrator.cli.common import errors_to_exit_codes
    from orchestrator.store import api_repository

    with errors_to_exit_codes(), Session(_engine(load_settings())) as session:
        api_repository.revoke_token(session, token_id, datetime.now(UTC))
        session.commit()
        _say(f"token {token_id} revoked")
