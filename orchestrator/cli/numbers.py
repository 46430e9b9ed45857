"""Number commands: numbers, number list|show, simulate, blacklist."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime
from typing import Annotated, Any

import typer

from orchestrator.cli.common import (
    astdb_for,
    current_settings,
    engine_for,
    errors_to_exit_codes,
    parse_at,
    say,
)
from orchestrator.cli.tables import emit
from orchestrator.domain.numbers import parse_caller, parse_destination, parse_service_number
from orchestrator.domain.plan import AMSTERDAM, to_document
from orchestrator.domain.simulate import CallScenario, DestinationBehaviour
from orchestrator.services import blacklist, tenancy
from orchestrator.services.blacklist import change_blacklist
from orchestrator.services.simulate import simulate_flow_stored, simulate_stored
from orchestrator.store.session import Session

commands = typer.Typer()  # top-level commands, added to the main app by cli/main.py
number_app = typer.Typer(help="Service numbers: list them, show one, allocate them to tenants.",
                         no_args_is_help=True)
blacklist_app = typer.Typer(help="A service number's blacklist (live: no dialplan reload).", no_args_is_help=True)


@commands.command()
def numbers(tenant: Annotated[str | None, typer.Option(help="Only this tenant's numbers.")] = None,
            as_json: Annotated[bool, typer.Option("--json", help="Machine-readable.")] = False) -> None:
    """List the configured service numbers with their kind, package and routing in force."""
    with errors_to_exit_codes(), Session(engine_for(current_settings())) as session:
        names = [tenant] if tenant else tenancy.tenants(session)
        rows = []
        for name in names:
            plan = tenancy.plan_as_it_stands(session, name, datetime.now(AMSTERDAM))
            for n in plan.numbers:
                sid = parse_service_number(n.number)
                rows.append({"number": sid.national, "e164": sid.e164, "kind": sid.kind.value,
                             "package": n.package.value, "tenant": name, "active": n.active})
        emit(rows, ["number", "kind", "package", "tenant", "active"], as_json=as_json, title="Service numbers")



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

    with errors_to_exit_codes(), Session(engine_for(current_settings())) as session:
        sid = parse_service_number(number)
        owner = tenancy.owner(session, sid.e164, sid.national)
        plan = tenancy.plan_as_it_stands(session, owner, datetime.now(AMSTERDAM))
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


@commands.command()
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
    with errors_to_exit_codes(), Session(engine_for(current_settings())) as session:
        sid = parse_service_number(number)
        owner = tenancy.owner(session, sid.e164, sid.national)
        behaviour = {}
        for names, b in ((no_answer, DestinationBehaviour.NOANSWER), (busy, DestinationBehaviour.BUSY),
                         (unavailable, DestinationBehaviour.UNAVAILABLE)):
            for d in names or []:
                behaviour[parse_destination(d)] = b
        scenario = CallScenario(caller, parse_at(at), withheld=withheld,
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
    with errors_to_exit_codes(), Session(engine_for(current_settings())) as session:
        callers = blacklist.callers(session, parse_service_number(number).e164)
        if as_json:
            emit([{"caller": c} for c in callers], ["caller"], as_json=True)
        else:
            for caller in callers:
                typer.echo(caller)


def _blacklist_change(number: str, caller: str, *, add: bool) -> None:
    with errors_to_exit_codes():
        settings = current_settings()
        sid, who = parse_service_number(number), parse_caller(caller)

        async def run() -> bool:
            async with astdb_for(settings) as astdb:
                with Session(engine_for(settings)) as session:
                    return await change_blacklist(session, astdb, sid.e164, who, add=add, source="cli")

        changed = asyncio.run(run())
        verb = "added to" if add else "removed from"
        say(f"{who} {verb} the blacklist of {sid.national}" if changed else "nothing to change")


@number_app.command("allocate")
def number_allocate(
    number: Annotated[str, typer.Argument(help="The service number, in any usual form.")],
    tenant: Annotated[str, typer.Option(help="The tenant whose plans may use it.")],
) -> None:
    """Allocate a service number to a tenant: only then may the tenant's plans use it (the API
    refuses others). A number allocated to another tenant must be released first."""
    with errors_to_exit_codes(), Session(engine_for(current_settings())) as session:
        sid = parse_service_number(number)
        added = tenancy.allocate(session, sid.e164, tenant, "cli")
        say(f"{sid.national} is {'now' if added else 'already'} allocated to tenant {tenant!r}")


@number_app.command("release")
def number_release(number: Annotated[str, typer.Argument(help="The service number, in any usual form.")]) -> None:
    """Release a number's allocation; refused while a plan still uses it."""
    with errors_to_exit_codes(), Session(engine_for(current_settings())) as session:
        sid = parse_service_number(number)
        was = tenancy.release(session, sid.e164)
        say(f"{sid.national} released (was allocated to tenant {was!r})")


@number_app.command("allocations")
def number_allocations(tenant: Annotated[str | None, typer.Option(help="Only this tenant's.")] = None) -> None:
    """Numbers allocated to tenants: number, tenant, when, by whom."""
    with errors_to_exit_codes(), Session(engine_for(current_settings())) as session:
        for a in tenancy.allocations(session, tenant):
            typer.echo(f"{a.e164}\t{a.tenant}\t{a.allocated_at:%Y-%m-%d %H:%M}\t{a.allocated_by}")
