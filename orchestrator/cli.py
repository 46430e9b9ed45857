"""The ``orchestrator`` command line.

Exit codes: 0 done, 2 the input is wrong (invalid plan, malformed number, unknown number),
3 Asterisk is unreachable or refused the change (the previous dialplan stays active), 1 other.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Annotated, Any

import orjson
import typer
import yaml
from sqlmodel import Session

from orchestrator.api.cli import api_app
from orchestrator.callcentre.cli import agent_app, queue_app
from orchestrator.domain.plan import AMSTERDAM, TenantPlan, parse_plan, to_document
from orchestrator.errors import (
    AsteriskError,
    NotFound,
    NumberInvalid,
    OrchestratorError,
    PlanInvalid,
    StoreError,
    Violation,
)
from orchestrator.live.cli import register as register_live_commands
from orchestrator.recordings.cli import recordings_app
from orchestrator.settings import Settings, load_settings
from orchestrator.tables import emit

app = typer.Typer(
    help="Routing orchestrator for Dutch service numbers (0800, 090x, 088, local, short and "
    "international numbers) on Asterisk 22. Settings come from SVC_* environment variables; "
    "see the README.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
asterisk_app = typer.Typer(help="Run the local Asterisk 22 (loopback only).", no_args_is_help=True)
blacklist_app = typer.Typer(help="A service number's blacklist (live: no dialplan reload).",
                            no_args_is_help=True)
deploy_app = typer.Typer(help="Run it in production: generated service units.", no_args_is_help=True)
app.add_typer(asterisk_app, name="asterisk")
app.add_typer(deploy_app, name="deploy")
app.add_typer(blacklist_app, name="blacklist")
register_live_commands(app)  # serve, status (orchestrator/live)
app.add_typer(api_app, name="api")  # REST API and its tokens (orchestrator/api)
app.add_typer(recordings_app, name="recordings")  # call recordings (orchestrator/recordings)
app.add_typer(agent_app, name="agent")  # call-centre agents (orchestrator/callcentre)
app.add_typer(queue_app, name="queue")  # queues, night service, supervisor

DEMO_PLAN = "demo-plan.yaml"


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
    except (NumberInvalid, NotFound) as exc:
        say(f"error: {exc}")
        raise typer.Exit(2) from exc
    except AsteriskError as exc:
        say(f"Asterisk: {exc}")
        raise typer.Exit(3) from exc
    except (StoreError, OrchestratorError) as exc:
        say(f"error: {exc}")
        raise typer.Exit(1) from exc


def _settings() -> Settings:
    return load_settings()


def _engine(settings: Settings) -> Any:
    from orchestrator.store.repository import make_engine

    settings.state_dir.mkdir(parents=True, exist_ok=True)
    return make_engine(settings.db_url)


def _runtime(settings: Settings) -> Any:
    from orchestrator.asterisk.runtime import AsteriskRuntime

    return AsteriskRuntime(settings, progress=say)


def _ami(settings: Settings) -> Any:
    from orchestrator.asterisk.ami import Ami

    return Ami(settings.bind_host, settings.ami_port, settings.ami_user, settings.ami_secret)


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


def _demo_plan_path() -> Path:
    return Path(str(resources.files("orchestrator") / DEMO_PLAN))


async def _target(settings: Settings, offline: bool) -> tuple[Any, Any]:
    from orchestrator.apply import ApplyTarget
    from orchestrator.asterisk.dialplan_files import DialplanFiles

    runtime = _runtime(settings)
    ami = None if offline else await _ami(settings).connect()
    return ApplyTarget(DialplanFiles(runtime.etc_dir), runtime.sounds_dir, runtime.asterisk_path, ami,
                       secrets_dir=settings.secrets_dir, phone_qualify_s=settings.phone_qualify_s), ami


async def with_asterisk(settings: Settings, use: Callable[[Session, Any], Awaitable[Any]],
                        offline: bool = False) -> Any:
    """Run a use case with a database session and an apply target; the AMI link is closed after."""
    target, ami = await _target(settings, offline)
    try:
        with Session(_engine(settings)) as session:
            return await use(session, target)
    finally:
        if ami is not None:
            ami.close()


async def _apply(settings: Settings, document: Any, base_dir: Path, offline: bool, full: bool = False) -> Any:
    from orchestrator.apply import apply_document

    return await with_asterisk(settings, lambda session, target: apply_document(
        document, session, target, now=datetime.now(AMSTERDAM), base_dir=base_dir, progress=say,
        full=full), offline)


@app.command()
def apply(
    plan_file: Annotated[Path, typer.Argument(help="Plan of one tenant, YAML or JSON (see README).")],
    offline: Annotated[bool, typer.Option(help="Only store and write files; do not reload.")] = False,
    full: Annotated[bool, typer.Option(help="Render every number again and reload the whole dialplan, "
                                            "even when only a few numbers changed.")] = False,
) -> None:
    """Validate a plan, store it, generate the dialplan and load it into Asterisk.

    Only numbers whose entry changed since the last apply are checked and rendered again, and
    pushed to Asterisk context by context. Nothing is stored or loaded when any rule fails; when
    Asterisk refuses the new dialplan the previous one is put back and the command exits with 3.
    """
    with errors_to_exit_codes():
        document = read_plan_document(plan_file)
        report = asyncio.run(_apply(_settings(), document, plan_file.parent.resolve(), offline, full))
        say(f"applied version {report.version}: {report.numbers} numbers of {report.tenant!r}, "
            f"{report.blacklist_entries} blacklist entries in AstDB")
        for note in report.notes:
            say(f"note: {note}")


@app.command("plan")
def plan_command(plan_file: Annotated[Path, typer.Argument(help="YAML plan of one tenant.")]) -> None:
    """Show what applying PLAN_FILE would change, per service number, in words.

    Changes nothing. Exits 2 with every validation error when the plan is invalid.
    """
    from orchestrator.domain.diff import diff_plans, render_changes
    from orchestrator.domain.rules import validate_plan
    from orchestrator.store import repository

    with errors_to_exit_codes(), Session(_engine(_settings())) as session:
        new = validate_plan(read_plan_file(plan_file), datetime.now(AMSTERDAM))
        old = repository.current_plan(session, new.tenant)
        if old is not None:
            old = repository.load_plan(session, new.tenant, now=datetime.now(AMSTERDAM))
        typer.echo(f"Tenant {new.tenant!r}" + (" (new)" if old is None else "") + ":")
        typer.echo(render_changes(diff_plans(old, new)))


@app.command()
def rollback(
    version: Annotated[int | None, typer.Argument(help="Version id from `orchestrator history`.")] = None,
    tenant: Annotated[str | None, typer.Option(help="Roll this tenant back one version.")] = None,
) -> None:
    """Put a tenant's routing back as it was in an earlier applied version, and load it."""
    from orchestrator.apply import rollback as do_rollback

    with errors_to_exit_codes():
        report = asyncio.run(with_asterisk(_settings(), lambda session, target: do_rollback(
            version, tenant, session, target, now=datetime.now(AMSTERDAM), progress=say)))
        say(f"rolled back: tenant {report.tenant!r} runs version {report.version} again")


@app.command("try")
def try_command(
    plan_file: Annotated[Path, typer.Argument(help="Draft plan holding the new routing.")],
    number: Annotated[str, typer.Argument(help="The live number whose draft routing to try.")],
) -> None:
    """Put NUMBER's routing from a draft plan on the tenant's 088 test number, to call it first.

    The live numbers keep running their routing; `orchestrator promote NUMBER` makes it live.
    """
    from orchestrator.drafts import try_draft

    with errors_to_exit_codes():
        draft = read_plan_file(plan_file)
        asyncio.run(with_asterisk(_settings(), lambda session, target: try_draft(
            draft, number, session, target, now=datetime.now(AMSTERDAM), progress=say)))
        say(f"call {draft.test_number} to hear the draft; `orchestrator promote {number}` puts it live")


@app.command()
def promote(
    number: Annotated[str, typer.Argument(help="The live number that gets the test number's routing.")],
    tenant: Annotated[str, typer.Option(help="The tenant owning both numbers.")],
) -> None:
    """Move what the tenant's test number runs onto the live NUMBER."""
    from orchestrator.drafts import promote as do_promote

    with errors_to_exit_codes():
        asyncio.run(with_asterisk(_settings(), lambda session, target: do_promote(
            tenant, number, session, target, now=datetime.now(AMSTERDAM), progress=say)))
        say(f"{number} now runs the routing that was on the test number")


@app.command()
def numbers(tenant: Annotated[str | None, typer.Option(help="Only this tenant's numbers.")] = None,
            as_json: Annotated[bool, typer.Option("--json", help="Machine-readable.")] = False) -> None:
    """List the configured service numbers with their kind, package and routing in force."""
    from orchestrator.domain.numbers import parse_service_number
    from orchestrator.store import repository

    with errors_to_exit_codes(), Session(_engine(_settings())) as session:
        names = [tenant] if tenant else repository.tenants(session)
        rows = []
        for name in names:
            plan = repository.load_plan(session, name, now=datetime.now(AMSTERDAM))
            for n in plan.numbers:
                sid = parse_service_number(n.number)
                rows.append({"number": sid.national, "e164": sid.e164, "kind": sid.kind.value,
                             "package": n.package.value, "tenant": name, "active": n.active})
        emit(rows, ["number", "kind", "package", "tenant", "active"], as_json=as_json, title="Service numbers")


number_app = typer.Typer(help="Service numbers: list them, show one.", no_args_is_help=True)
app.add_typer(number_app, name="number")


@number_app.command("list")
def number_list(tenant: Annotated[str | None, typer.Option(help="Only this tenant's numbers.")] = None,
                as_json: Annotated[bool, typer.Option("--json", help="Machine-readable.")] = False) -> None:
    """The configured service numbers (same as `orchestrator numbers`)."""
    numbers(tenant, as_json)


@number_app.command("show")
def number_show(
    number: Annotated[str, typer.Argument(help="The service number, in any usual form.")],
    as_json: Annotated[bool, typer.Option("--json", help="The number's plan entry as JSON.")] = False,
) -> None:
    """One number: owner, kind, package, routing in force, routings, switch moments, blocking,
    blacklist, tariff and recording policy, as stored now."""
    from orchestrator.domain.numbers import parse_service_number
    from orchestrator.store import repository

    with errors_to_exit_codes(), Session(_engine(_settings())) as session:
        sid = parse_service_number(number)
        owner = repository.number_owner(session, sid.e164)
        if owner is None:
            raise NotFound(f"{sid.national} is not configured")
        plan = repository.load_plan(session, owner, now=datetime.now(AMSTERDAM))
        index = next(i for i, n in enumerate(plan.numbers) if n.number == sid.e164)
        entry = to_document(plan)["numbers"][index]
        if as_json:
            typer.echo(json.dumps({"tenant": owner, "kind": sid.kind.value, "national": sid.national, **entry},
                                  indent=2, ensure_ascii=False))
            return
        n = plan.numbers[index]
        typer.echo(f"{sid.national}  ({sid.e164}, {sid.kind.value}) of tenant {owner!r}, package {n.package.value}")
        typer.echo(f"  routing in force: {n.active}")
        for name, dests in n.routings.items():
            chain = " -> ".join(f"{d.number} ({d.ring_time} s)" for d in dests)
            typer.echo(f"  routing {name}: {chain}")
        for sw in n.switches:
            typer.echo(f"  from {sw.at:%Y-%m-%d %H:%M}: {sw.routing}")
        b = n.blocking
        blocked = [w for w, on in (("withheld", b.anonymous), ("foreign", b.foreign), ("mobile", b.mobile)) if on]
        typer.echo(f"  blocks: {', '.join(blocked) or 'nobody'}; blacklist: {len(b.blacklist)} callers")
        if n.tariff is not None:
            t = n.tariff
            typer.echo(f"  tariff: {t.per_call or 0} per call + {t.per_minute or 0} per minute"
                       + (f", at most {t.max_call_cost}" if t.max_call_cost else ""))
        typer.echo(f"  recording: {n.recording.policy.value}")
        if n.max_concurrent_calls:
            typer.echo(f"  at most {n.max_concurrent_calls} calls at once")


@app.command()
def validate(plan_file: Annotated[Path, typer.Argument(help="YAML plan to check.")]) -> None:
    """Check a plan against the package rules without changing anything."""
    from orchestrator.domain.rules import validate_plan

    with errors_to_exit_codes():
        plan = validate_plan(read_plan_file(plan_file), datetime.now(AMSTERDAM))
        say(f"valid: tenant {plan.tenant!r}, {len(plan.numbers)} service numbers")


def plan_to_yaml(plan: TenantPlan) -> str:
    return yaml.safe_dump(to_document(plan), sort_keys=False, allow_unicode=True)


@app.command()
def export(
    tenant: Annotated[str | None, typer.Option(help="Tenant to export (default: the only one).")] = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="File to write (default stdout).")] = None,
) -> None:
    """Write a tenant's plan as YAML, as it stands now (switch moments passed are folded in)."""
    from orchestrator.store import repository

    with errors_to_exit_codes(), Session(_engine(_settings())) as session:
        names = repository.tenants(session)
        if tenant is None:
            if len(names) != 1:
                raise NotFound(f"give --tenant; tenants are: {', '.join(names) or 'none'}")
            tenant = names[0]
        text = plan_to_yaml(repository.load_plan(session, tenant, now=datetime.now(AMSTERDAM)))
        if output is None:
            sys.stdout.write(text)
        else:
            output.write_text(text)
            say(f"wrote {output}")


def _parse_at(text: str | None) -> datetime:
    if text is None:
        return datetime.now(AMSTERDAM)
    try:
        return datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=AMSTERDAM)
    except ValueError as exc:
        raise NumberInvalid(f"--at {text!r}: write it as 'YYYY-MM-DD HH:MM' (Europe/Amsterdam)") from exc


@app.command()
def simulate(
    number: Annotated[str, typer.Argument(help="The service number, in any form.")],
    caller: Annotated[str, typer.Option(help="Caller number as presented; '' = withheld.")] = "",
    at: Annotated[str | None, typer.Option(help="'YYYY-MM-DD HH:MM' Europe/Amsterdam (default now).")] = None,
    withheld: Annotated[bool, typer.Option(help="The network marks the caller as withheld.")] = False,
    no_answer: Annotated[list[str] | None, typer.Option(help="Destination that does not answer (repeatable).")] = None,
    busy: Annotated[list[str] | None, typer.Option(help="Destination that is busy (repeatable).")] = None,
    unavailable: Annotated[list[str] | None, typer.Option(help="Destination that is unreachable (repeatable).")] = None,
    calls_in_progress: Annotated[int, typer.Option(help="Calls already on the number.")] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="Print the stable JSON form.")] = False,
    digits: Annotated[str, typer.Option(help="Keys the caller presses in a call flow: '1,2,123456#'; "
                                             "'-' = a timeout.")] = "",
) -> None:
    """Tell what would happen to one call, step by step, from the same IR the dialplan uses."""
    from orchestrator.domain.numbers import parse_destination, parse_service_number
    from orchestrator.domain.simulate import CallScenario, DestinationBehaviour
    from orchestrator.simulation import simulate_flow_stored, simulate_stored
    from orchestrator.store import repository

    with errors_to_exit_codes(), Session(_engine(_settings())) as session:
        sid = parse_service_number(number)
        owner = repository.number_owner(session, sid.e164)
        if owner is None:
            raise NotFound(f"{sid.national} is not a configured service number")
        behaviour = {}
        for names, b in ((no_answer, DestinationBehaviour.NOANSWER), (busy, DestinationBehaviour.BUSY),
                         (unavailable, DestinationBehaviour.UNAVAILABLE)):
            for d in names or []:
                behaviour[parse_destination(d)] = b
        scenario = CallScenario(caller, _parse_at(at), withheld=withheld,
                                calls_in_progress=calls_in_progress, behaviour=behaviour)
        result = simulate_stored(session, owner, sid.e164, scenario)
        if result.outcome == "flow":
            _echo_flow(simulate_flow_stored(session, owner, sid.e164, scenario, digits), as_json)
            return
        if as_json:
            typer.echo(result.to_json())
            return
        typer.echo(f"Call to {sid.national} from {result.caller or 'withheld'} at {result.at:%Y-%m-%d %H:%M}:")
        for i, s in enumerate(result.steps, 1):
            typer.echo(f"  {i}. {describe_step(s)}")
        typer.echo(f"Outcome: {result.outcome}" + (f" ({result.reason})" if result.reason else ""))


def _echo_flow(result: dict[str, Any], as_json: bool) -> None:
    """A Premium call through its flow: the number's own steps, then each block and its event."""
    if as_json:
        typer.echo(json.dumps(result, indent=2))
        return
    typer.echo(f"Call to {result['number']} from {result['caller'] or 'withheld'} at {result['at']}:")
    for i, s in enumerate(result["steps"], 1):
        typer.echo(f"  {i}. {describe_step(s)}" if s["step"] != "flow" else f"  {i}. into flow {s['flow']!r}")
    for b in result.get("blocks", []):
        extra = "".join(f", {k} {v}" for k, v in b.items() if k not in ("flow", "block", "event"))
        typer.echo(f"     {b['flow']}.{b['block']}: {b['event']}{extra}")
    typer.echo(f"Outcome: {result['outcome']}" + (f" ({result['answered_by']})" if result.get("answered_by") else ""))


def describe_step(s: dict[str, Any]) -> str:
    match s["step"]:
        case "check":
            return f"check {s['detail']}: {s['result']}"
        case "reject":
            return f"blocked: plays {s['sound']} and hangs up"
        case "limit":
            return f"at most {s['detail']} simultaneous calls: {s['result']}"
        case "busy":
            return "caller hears busy"
        case "play":
            return f"plays {s['detail']} announcement {s['sound']}"
        case "schedule":
            return f"active routing: {s['routing']}"
        case "dial":
            whisper = f", whisper {s['whisper']}" if s["whisper"] else ""
            return f"rings {s['destination']} for {s['ring_time']} s ({s['routing']}{whisper}): {s['result']}"
        case "hangup":
            return f"hangs up: {s['detail']}"
        case "region":
            return f"origin region: {s['exit']}"
        case "roster":
            return f"roster {s['roster']}: {s['exit']}"
        case "split":
            return f"split {s['split']}: share {s['exit']}"
    return json.dumps(s)


@blacklist_app.command("add")
def blacklist_add(number: str, caller: str) -> None:
    """Block CALLER on NUMBER from the next call on."""
    _blacklist_change(number, caller, add=True)


@blacklist_app.command("remove")
def blacklist_remove(number: str, caller: str) -> None:
    """Unblock CALLER on NUMBER from the next call on."""
    _blacklist_change(number, caller, add=False)


@blacklist_app.command("list")
def blacklist_list(number: str,
                   as_json: Annotated[bool, typer.Option("--json", help="Machine-readable.")] = False) -> None:
    """Show NUMBER's blacklist."""
    from orchestrator.domain.numbers import parse_service_number
    from orchestrator.store import repository

    with errors_to_exit_codes(), Session(_engine(_settings())) as session:
        callers = repository.blacklist(session, parse_service_number(number).e164)
        if as_json:
            emit([{"caller": c} for c in callers], ["caller"], as_json=True)
        else:
            for caller in callers:
                typer.echo(caller)


def _blacklist_change(number: str, caller: str, *, add: bool) -> None:
    from orchestrator.blacklist import change_blacklist
    from orchestrator.domain.numbers import parse_caller, parse_service_number

    with errors_to_exit_codes():
        settings = _settings()
        sid, who = parse_service_number(number), parse_caller(caller)

        async def run() -> bool:
            async with _ami(settings) as ami:
                with Session(_engine(settings)) as session:
                    return await change_blacklist(session, ami, sid.e164, who, add=add, source="cli")

        changed = asyncio.run(run())
        verb = "added to" if add else "removed from"
        say(f"{who} {verb} the blacklist of {sid.national}" if changed else "nothing to change")


@app.command()
def history(tenant: Annotated[str | None, typer.Option(help="Only this tenant's versions.")] = None,
            as_json: Annotated[bool, typer.Option("--json", help="Machine-readable.")] = False) -> None:
    """Applied versions, newest first (ids for `orchestrator rollback`)."""
    from orchestrator.store import repository

    with errors_to_exit_codes(), Session(_engine(_settings())) as session:
        rows = [{"id": v.id, "applied (UTC)": f"{v.applied_at:%Y-%m-%d %H:%M:%S}", "tenant": v.tenant,
                 "numbers": v.numbers, "what": v.summary} for v in repository.history(session, tenant=tenant)]
        emit(rows, ["id", "applied (UTC)", "tenant", "numbers", "what"], as_json=as_json, title="Applied versions")


@asterisk_app.command("up")
def asterisk_up() -> None:
    """Get Asterisk 22 (first time: Debian sid into a cache folder, ~1 min) and start it."""
    with errors_to_exit_codes():
        rt = _runtime(_settings())
        rt.ensure_installed()
        rt.prepare()
        rt.up()
        _print_status(rt.status())


@asterisk_app.command("down")
def asterisk_down() -> None:
    """Stop the local Asterisk."""
    with errors_to_exit_codes():
        _runtime(_settings()).down()
        say("Asterisk stopped")


@asterisk_app.command("status")
def asterisk_status() -> None:
    """Is the local Asterisk running, on which ports."""
    with errors_to_exit_codes():
        status = _runtime(_settings()).status()
        _print_status(status)
        if not status.get("running"):
            raise typer.Exit(1)


@deploy_app.command("systemd")
def deploy_systemd(
    out: Annotated[Path, typer.Option(help="Where to write the unit files.")] = Path("deploy-units"),
    env_file: Annotated[Path, typer.Option(help="The environment file the units read.")] = Path(
        "/etc/svcnum/svcnum.env"),
    replace_env: Annotated[bool, typer.Option(help="Overwrite an existing environment file.")] = False,
) -> None:
    """Write systemd units for Asterisk, the live controller, the REST API and the recordings
    worker, pointing at this installation (its virtualenv, SVC_STATE_DIR), and an environment file
    with this shell's SVC_* settings (0600; kept if it exists)."""
    import os
    import sys

    from orchestrator import deploy

    with errors_to_exit_codes():
        settings = _settings()
        rt = _runtime(settings)
        where = deploy.Installation(Path(sys.executable).parent, env_file.resolve(), settings.state_dir,
                                    rt.pid_file)
        written = deploy.write(deploy.render_units(where), out, where.env_file,
                               deploy.env_file_text(os.environ, settings.state_dir), replace_env=replace_env)
        for path in written:
            say(f"wrote {path}")
        units = " ".join(deploy.UNITS)
        typer.echo(f"install with:\n  cp {out}/*.service /etc/systemd/system/ && systemctl daemon-reload\n"
                   f"  systemctl enable --now {units}")


def _print_status(status: dict[str, Any]) -> None:
    for key, value in status.items():
        typer.echo(f"{key:>12}: {value}")


@app.command()
def run(
    plan_file: Annotated[Path | None, typer.Argument(help="Plan to load (default: the demo plan).")] = None,
) -> None:
    """Bring up the local stack: Asterisk 22 on loopback, a plan applied to it."""
    with errors_to_exit_codes():
        settings = _settings()
        path = plan_file or _demo_plan_path()
        plan = read_plan_file(path)
        rt = _runtime(settings)
        rt.ensure_installed()
        rt.prepare()
        rt.up()
        say(f"Asterisk 22 is up: SIP {settings.bind_host}:{settings.sip_port}, "
            f"AMI {settings.bind_host}:{settings.ami_port}")
        report = asyncio.run(_apply(settings, to_document(plan), path.parent.resolve(), offline=False))
        from orchestrator.domain.numbers import parse_service_number

        national = parse_service_number(plan.numbers[0].number).national if plan.numbers else "?"
        typer.echo(
            f"Loaded {report.numbers} service numbers of tenant {report.tenant!r} from {path}\n"
            f"Wrote {report.files} dialplan files to {report.dialplan_dir}\n"
            f"Asterisk took it ({report.how}) in {(report.reload_seconds or 0) * 1000:.0f} ms; "
            f"{report.verified_contexts} contexts verified\n"
            f"Answer as the carrier (destinations ending in 1 answer, 2 busy, 3 ring, 4 unreachable):\n"
            f"  sipp -sf deploy/sipp/carrier.xml -i {settings.carrier_host} -p {settings.carrier_port} -bg\n"
            f"Place a test call from 020 123 4567:\n"
            f"  sipp {settings.bind_host}:{settings.sip_port} -sf deploy/sipp/caller.xml -s {national} "
            f"-key caller 0201234567 -m 1 -trace_msg\n"
            f"See what that call should do:  orchestrator simulate {national} --caller 0201234567\n"
            f"Stop:  orchestrator asterisk down"
        )


def main() -> None:
    app()
