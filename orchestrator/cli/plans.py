"""Plan commands: apply, plan, validate, export, history, rollback, try, promote."""

from __future__ import annotations

import asyncio
import sys
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml

from orchestrator.cli.common import (
    current_settings,
    engine_for,
    errors_to_exit_codes,
    read_plan_document,
    read_plan_file,
    say,
    with_asterisk,
)
from orchestrator.cli.tables import emit
from orchestrator.domain.diff import diff_plans, render_changes
from orchestrator.domain.plan import AMSTERDAM, TenantPlan, to_document
from orchestrator.domain.rules import validate_plan
from orchestrator.services import tenancy
from orchestrator.services.apply import apply_document
from orchestrator.services.apply_guards import OPERATOR_GUARDS, ApplyGuards
from orchestrator.services.drafts import promote as do_promote
from orchestrator.services.drafts import try_draft
from orchestrator.services.rollback import rollback as do_rollback
from orchestrator.settings import Settings
from orchestrator.store.session import Session

commands = typer.Typer()  # top-level commands, added to the main app by cli/main.py


async def apply_document_cli(settings: Settings, document: Any, base_dir: Path, offline: bool,
                             full: bool = False, guards: Any = None) -> Any:

    return await with_asterisk(settings, lambda session, target: apply_document(
        document, session, target, now=datetime.now(AMSTERDAM), base_dir=base_dir, progress=say,
        full=full, guards=guards or OPERATOR_GUARDS), offline)


@commands.command()
def apply(
    plan_file: Annotated[Path, typer.Argument(help="Plan of one tenant, YAML or JSON (see README).")],
    offline: Annotated[bool, typer.Option(help="Only store and write files; do not reload.")] = False,
    full: Annotated[bool, typer.Option(help="Render every number again and reload the whole dialplan, "
                                            "even when only a few numbers changed.")] = False,
    allow_removal: Annotated[bool, typer.Option(help="Let the plan remove all of the tenant's numbers, or more "
                                                     "than 5 at once (refused otherwise).")] = False,
    if_version: Annotated[int | None, typer.Option(help="Only apply if the tenant's plan is still at this "
                                                        "version (an id from `history`, the API's ETag).")] = None,
) -> None:
    """Validate a plan, store it, generate the dialplan and load it into Asterisk.

    Only numbers whose entry changed since the last apply are checked and rendered again, and
    pushed to Asterisk context by context. Nothing is stored or loaded when any rule fails; when
    Asterisk refuses the new dialplan the previous one is put back and the command exits with 3.
    Numbers not allocated to any tenant are allocated to the plan's tenant (and said so); a number
    allocated to another tenant is refused (see docs/security.md).
    """
    with errors_to_exit_codes():
        document = read_plan_document(plan_file)
        guards = ApplyGuards(allow_removal=allow_removal, if_version=if_version)
        report = asyncio.run(apply_document_cli(current_settings(), document, plan_file.parent.resolve(),
                                                offline, full, guards))
        say(f"applied version {report.version}: {report.numbers} numbers of {report.tenant!r}, "
            f"{report.blacklist_entries} blacklist entries in AstDB")
        for note in report.notes:
            say(f"note: {note}")


@commands.command("plan")
def plan_command(plan_file: Annotated[Path, typer.Argument(help="YAML plan of one tenant.")]) -> None:
    """Show what applying PLAN_FILE would change, per service number, in words.

    Changes nothing. Exits 2 with every validation error when the plan is invalid.
    """
    with errors_to_exit_codes(), Session(engine_for(current_settings())) as session:
        new = validate_plan(read_plan_file(plan_file), datetime.now(AMSTERDAM))
        old = tenancy.stored_plan(session, new.tenant, datetime.now(AMSTERDAM))
        typer.echo(f"Tenant {new.tenant!r}" + (" (new)" if old is None else "") + ":")
        typer.echo(render_changes(diff_plans(old, new)))


@commands.command()
def rollback(
    version: Annotated[int | None, typer.Argument(help="Version id from `orchestrator history`.")] = None,
    tenant: Annotated[str | None, typer.Option(help="Roll this tenant back one version.")] = None,
) -> None:
    """Put a tenant's routing back as it was in an earlier applied version, and load it."""
    with errors_to_exit_codes():
        report = asyncio.run(with_asterisk(current_settings(), lambda session, target: do_rollback(
            version, tenant, session, target, now=datetime.now(AMSTERDAM), progress=say)))
        say(f"rolled back: tenant {report.tenant!r} runs version {report.version} again")


@commands.command("try")
def try_command(
    plan_file: Annotated[Path, typer.Argument(help="Draft plan holding the new routing.")],
    number: Annotated[str, typer.Argument(help="The live number whose draft routing to try.")],
) -> None:
    """Put NUMBER's routing from a draft plan on the tenant's 088 test number, to call it first.

    The live numbers keep running their routing; `orchestrator promote NUMBER` makes it live.
    """
    with errors_to_exit_codes():
        draft = read_plan_file(plan_file)
        asyncio.run(with_asterisk(current_settings(), lambda session, target: try_draft(
            draft, number, session, target, now=datetime.now(AMSTERDAM), progress=say)))
        say(f"call {draft.test_number} to hear the draft; `orchestrator promote {number}` puts it live")


@commands.command()
def promote(
    number: Annotated[str, typer.Argument(help="The live number that gets the test number's routing.")],
    tenant: Annotated[str, typer.Option(help="The tenant owning both numbers.")],
) -> None:
    """Move what the tenant's test number runs onto the live NUMBER."""
    with errors_to_exit_codes():
        asyncio.run(with_asterisk(current_settings(), lambda session, target: do_promote(
            tenant, number, session, target, now=datetime.now(AMSTERDAM), progress=say)))
        say(f"{number} now runs the routing that was on the test number")


@commands.command()
def validate(plan_file: Annotated[Path, typer.Argument(help="YAML plan to check.")]) -> None:
    """Check a plan against the package rules without changing anything."""
    with errors_to_exit_codes():
        plan = validate_plan(read_plan_file(plan_file), datetime.now(AMSTERDAM))
        say(f"valid: tenant {plan.tenant!r}, {len(plan.numbers)} service numbers")


def plan_to_yaml(plan: TenantPlan) -> str:
    return yaml.safe_dump(to_document(plan), sort_keys=False, allow_unicode=True)


@commands.command()
def export(
    tenant: Annotated[str | None, typer.Option(help="Tenant to export (default: the only one).")] = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="File to write (default stdout).")] = None,
) -> None:
    """Write a tenant's plan as YAML, as it stands now (switch moments passed are folded in)."""
    with errors_to_exit_codes(), Session(engine_for(current_settings())) as session:
        tenant = tenancy.only_tenant(session, tenant)
        text = plan_to_yaml(tenancy.plan_as_it_stands(session, tenant, datetime.now(AMSTERDAM)))
        if output is None:
            sys.stdout.write(text)
        else:
            output.write_text(text)
            say(f"wrote {output}")



@commands.command()
def history(tenant: Annotated[str | None, typer.Option(help="Only this tenant's versions.")] = None,
            as_json: Annotated[bool, typer.Option("--json", help="Machine-readable.")] = False) -> None:
    """Applied versions, newest first (ids for `orchestrator rollback`)."""
    with errors_to_exit_codes(), Session(engine_for(current_settings())) as session:
        rows = [{"id": v.id, "applied (UTC)": f"{v.applied_at:%Y-%m-%d %H:%M:%S}", "tenant": v.tenant,
                 "numbers": v.numbers, "what": v.summary} for v in tenancy.history(session, tenant)]
        emit(rows, ["id", "applied (UTC)", "tenant", "numbers", "what"], as_json=as_json, title="Applied versions")


