"""``orchestrator agent …`` and ``orchestrator queue …``: live call-centre control (no reload)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar

import typer

from orchestrator.cli.common import astdb_for, engine_for, errors_to_exit_codes, nodes_for, say, with_asterisk
from orchestrator.errors import NotFound
from orchestrator.services import phones, tenancy
from orchestrator.services.callcentre import control, credentials, supervisor
from orchestrator.settings import Settings, load_settings
from orchestrator.store.session import Session

agent_app = typer.Typer(help="Call-centre agents: log in / out, unavailable with a reason, list.",
                        no_args_is_help=True)
queue_app = typer.Typer(help="Queues and hunt groups: waiting calls, night service, supervisor actions.",
                        no_args_is_help=True)
Tenant = Annotated[str, typer.Option("--tenant", "-t", help="The tenant whose call centre this is.")]
NodeOption = Annotated[str | None, typer.Option(help="A cluster: the node the caller waits on (`queue show`); "
                                                     "needed only when its channel's name waits on two nodes.")]
T = TypeVar("T")


def _run(use: Callable[[Any], Awaitable[T]]) -> T:
    """``use`` with this Asterisk, or in a cluster the first node that answers (`spy`)."""
    s = load_settings()

    async def main() -> T:
        async with nodes_for(s) as nodes:
            return await use(next(iter(nodes.values())))

    return asyncio.run(main())


def _on_nodes(use: Callable[[dict[str, Any]], Awaitable[T]]) -> T:
    """``use`` with this Asterisk, or every node of a cluster that answers."""
    s = load_settings()

    async def main() -> T:
        async with nodes_for(s) as nodes:
            return await use(nodes)

    return asyncio.run(main())


def _plan(settings: Settings, tenant: str) -> Any:
    with Session(engine_for(settings)) as session:
        return tenancy.tenant_plan(session, tenant)


def check_agent(tenant: str, agent: str) -> None:
    if agent not in _plan(load_settings(), tenant).agents:
        raise NotFound(f"tenant {tenant!r} has no agent {agent!r}")


def check_group(tenant: str, kind: str, name: str) -> None:
    plan = _plan(load_settings(), tenant)
    if name not in (plan.queues if kind == "queue" else plan.hunt_groups):
        raise NotFound(f"tenant {tenant!r} has no {kind} {name!r}")


def _state(tenant: str, agent: str, state: str, reason: str = "") -> None:
    with errors_to_exit_codes():
        check_agent(tenant, agent)
        _on_nodes(lambda nodes: control.set_agent_state_on(list(nodes.values()), tenant, agent, state, reason))
        typer.echo(f"{agent}: {state}{' (' + reason + ')' if reason else ''}", err=True)


@agent_app.command("login")
def agent_login(agent: str, tenant: Tenant) -> None:
    """Log AGENT in: available for calls in every queue they serve."""
    _state(tenant, agent, control.AVAILABLE)


@agent_app.command("logout")
def agent_logout(agent: str, tenant: Tenant) -> None:
    """Log AGENT out of every queue they serve."""
    _state(tenant, agent, control.LOGGED_OUT)


@agent_app.command("pause")
def agent_pause(agent: str, tenant: Tenant,
                reason: Annotated[str, typer.Option(help="Why (shown to supervisors).")] = "break") -> None:
    """Make AGENT unavailable, with a reason; `agent login` makes them available again."""
    _state(tenant, agent, "unavailable", reason)


@agent_app.command("list")
def agent_list(tenant: Tenant) -> None:
    """Agents of the tenant's queues and their state now (available, busy, wrap-up, …)."""
    with errors_to_exit_codes():
        states = _on_nodes(lambda nodes: control.agent_states_on(list(nodes.values()), tenant))
        for s in states:
            reason = f" ({s.reason})" if s.reason else ""
            typer.echo(f"{s.agent:<16} {s.state + reason:<24} {', '.join(s.queues)}")


@agent_app.command("credentials")
def agent_credentials(agent: str, tenant: Tenant,
                      as_json: Annotated[bool, typer.Option("--json", help="One JSON object.")] = False,
                      rotate: Annotated[bool, typer.Option(help="Give the phone a new password first and load it "
                                                                "into Asterisk; the old one is refused from then on.")]
                      = False,
                      offline: Annotated[bool, typer.Option(help="With --rotate: only write the files; "
                                                                 "Asterisk reads them when it starts.")] = False,
                      ) -> None:
    """SIP account of AGENT's phone (an endpoint agent), to provision it: shows the password.

    The password is generated on the first apply (or here, if asked before) and stays the same until
    --rotate. A phone registered with the old password stays registered until its registration expires."""

    with errors_to_exit_codes():
        s = load_settings()
        plan = _plan(s, tenant)
        account = _rotate(s, plan, agent, offline) if rotate else credentials.account(plan, agent, s)
        if as_json:
            typer.echo(json.dumps(account.to_dict(), indent=2))
            return
        for key, value in account.to_dict().items():
            typer.echo(f"{key:<14} {value}")


def _rotate(settings: Settings, plan: Any, agent: str, offline: bool) -> Any:
    credentials.phone_endpoint(plan, agent)  # an unknown or phone-number agent fails before AMI is asked
    account = asyncio.run(with_asterisk(settings, lambda session, target: phones.rotate_password(
        session, plan, agent, settings, target, progress=say), offline))
    typer.echo(f"{agent}: new password{' written (Asterisk not reloaded)' if offline else ' in force'}", err=True)
    return account


@queue_app.command("show")
def queue_show(tenant: Tenant) -> None:
    """Callers waiting now in the tenant's queues."""
    with errors_to_exit_codes():
        calls = _on_nodes(lambda nodes: supervisor.waiting_calls_on(nodes, tenant))
        for c in calls:
            skill = f"/{c.skill}" if c.skill else ""
            typer.echo(f"{c.queue + skill:<20} #{c.position:<3} {c.wait:>5} s  prio {c.priority}  "
                       f"{c.caller:<14} {c.channel}" + (f"  on {c.node}" if c.node else ""))
        if not calls:
            typer.echo("nobody is waiting", err=True)


async def _night(settings: Settings, tenant: str, kind: str, name: str, mode: str) -> None:
    async with astdb_for(settings) as astdb:  # every node of a cluster
        await control.set_night(astdb, tenant, kind, name, mode)


@queue_app.command("night")
def queue_night(name: str, mode: Annotated[str, typer.Argument(help="on, off or auto (the schedule)")],
                tenant: Tenant, hunt: Annotated[bool, typer.Option(help="NAME is a hunt group.")] = False) -> None:
    """Switch night service of a queue (or hunt group) by hand; the next call follows it."""
    kind = "hunt" if hunt else "queue"
    with errors_to_exit_codes():
        check_group(tenant, kind, name)
        asyncio.run(_night(load_settings(), tenant, kind, name, mode))
        typer.echo(f"night service of {kind} {name}: {mode}", err=True)


@queue_app.command("move")
def queue_move(channel: Annotated[str, typer.Argument(help="the waiting caller's channel (`queue show`)")],
               to_queue: Annotated[str, typer.Argument(help="QUEUE, or QUEUE/SKILL to wait for an agent "
                                                              "with that skill")],
               tenant: Tenant, node: NodeOption = None) -> None:
    """Move a waiting caller to another queue of the tenant (or to one of its skill queues)."""
    with errors_to_exit_codes():
        name, skill = supervisor.move_target(_plan(load_settings(), tenant), to_queue)

        async def move(nodes: dict[str, Any]) -> None:
            ami = await supervisor.node_of_waiting(nodes, tenant, channel, node)
            await supervisor.move_call(ami, tenant, channel, name, skill)
        _on_nodes(move)
        typer.echo(f"{channel} now waits in {name}{'/' + skill if skill else ''}", err=True)


@queue_app.command("priority")
def queue_priority(channel: str, priority: int, tenant: Tenant, node: NodeOption = None) -> None:
    """Give a waiting caller a priority (higher is served first)."""
    with errors_to_exit_codes():
        async def prioritise(nodes: dict[str, Any]) -> None:
            ami = await supervisor.node_of_waiting(nodes, tenant, channel, node)
            await supervisor.set_priority(ami, tenant, channel, priority)
        _on_nodes(prioritise)


@queue_app.command("spy")
def queue_spy(agent: str, tenant: Tenant,
              supervisor_phone: Annotated[str, typer.Option(
                  "--supervisor", help="Phone number, or the endpoint name of one of the tenant's agent phones.")],
              mode: Annotated[str, typer.Option(help="listen, whisper or barge")] = "listen") -> None:
    """Ring the supervisor, then listen in on (whisper to, barge into) AGENT's call."""
    with errors_to_exit_codes():
        check_agent(tenant, agent)
        channel = supervisor.supervisor_channel(_plan(load_settings(), tenant), supervisor_phone)
        _run(lambda ami: supervisor.spy(ami, tenant, agent, channel, mode))
