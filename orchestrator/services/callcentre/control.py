"""Live control of queues and agents over AMI. Agent state is kept in AstDB
(``svc-agent/<tenant>/<agent>`` = available | logged-out | unavailable:<reason>) so it survives a
queue reload and an orchestrator restart; app_queue's pause carries it into call distribution.

Wrap-up is not set here: app_queue keeps a member out of calls for its ``wrapuptime`` after each
call by itself."""

from __future__ import annotations

import re
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from orchestrator.asterisk.ami import Ami
from orchestrator.asterisk.ami_results import QueueMember
from orchestrator.asterisk.astdb import AstDb
from orchestrator.domain.agent_state import AVAILABLE as AVAILABLE  # re-exported for the CLI and API
from orchestrator.domain.agent_state import LOGGED_OUT as LOGGED_OUT
from orchestrator.domain.agent_state import UNAVAILABLE, combined_state, member_state
from orchestrator.domain.ir_queues import CallCentre, agent_interface
from orchestrator.domain.naming import AGENT_FAMILY, night_family
from orchestrator.errors import AsteriskError, NotFound, PlanInvalid, Violation

# A reason goes into AstDB and, after a restart, into PauseQueueMember's arguments (svc-agent-restore).
REASON = re.compile(r"[A-Za-z0-9 _-]{0,40}")


@dataclass(frozen=True)
class AgentState:
    agent: str
    state: str  # available | logged-out | unavailable | wrap-up | busy
    reason: str = ""
    queues: tuple[str, ...] = ()


async def reload_queues(ami: Ami, *, music: bool) -> None:
    """Re-read queues (and MOH classes): waiting callers stay where they are."""
    await ami.reload_queues(music=music)


async def verify_queues(ami: Ami, names: list[str]) -> int:
    for name in names:
        if not await ami.has_queue(name):
            raise AsteriskError(f"after reloading queues, Asterisk has no queue {name}")
    return len(names)


def _state_value(state: str, reason: str) -> str:
    return f"{UNAVAILABLE}:{reason}" if state == UNAVAILABLE else state


def check_reason(reason: str) -> str:
    if not REASON.fullmatch(reason):
        raise PlanInvalid([Violation("reason", f"at most 40 letters, digits, spaces, '_' or '-', not {reason!r}")])
    return reason


async def set_agent_state(ami: Ami, tenant: str, agent: str, state: str, reason: str = "") -> None:
    """available (log in), logged-out, or unavailable with a reason; in every queue of the agent."""
    if state not in (AVAILABLE, LOGGED_OUT, UNAVAILABLE):
        raise ValueError(f"unknown agent state {state!r}")
    check_reason(reason)
    paused = state != AVAILABLE
    why = LOGGED_OUT if state == LOGGED_OUT else (reason or "unavailable")
    try:
        await ami.queue_pause(agent_interface(tenant, agent), paused, why if paused else "")
    except NotFound as exc:
        raise NotFound(f"agent {agent!r} of tenant {tenant!r} is in no queue") from exc
    await ami.db_put(f"{AGENT_FAMILY}/{tenant}", agent, _state_value(state, reason))


async def set_agent_state_on(nodes: Sequence[Ami], tenant: str, agent: str, state: str, reason: str = "") -> None:
    """The same on every node (a cluster's nodes that are up): queues are per node and an agent is
    a member on each, so a state set on one node only would leave the others ringing them.
    NotFound only when no node has the agent in a queue."""
    missing = 0
    for ami in nodes:
        try:
            await set_agent_state(ami, tenant, agent, state, reason)
        except NotFound:
            missing += 1
    if missing == len(nodes):
        raise NotFound(f"agent {agent!r} of tenant {tenant!r} is in no queue")


async def restore_agent_states(ami: Ami, centre: CallCentre) -> int:
    """After a queue reload: put back the pauses AstDB holds (new members start available)."""
    return await restore_states(ami, centre.tenant, [a.name for a in centre.agents])


async def restore_states(ami: Ami, tenant: str, agents: list[str]) -> int:
    """Pauses from AstDB back into app_queue (after a reload or an Asterisk restart: static
    members come back available)."""
    count = 0
    for name in agents:
        value = await ami.db_get(f"{AGENT_FAMILY}/{tenant}", name)
        state, _, reason = (value or "").partition(":")
        if state in (LOGGED_OUT, UNAVAILABLE):
            try:
                await set_agent_state(ami, tenant, name, state, reason)
                count += 1
            except NotFound:
                continue  # an agent in no queue (only in hunt groups) has nothing to pause
    return count


async def agent_states(ami: Ami, tenant: str) -> list[AgentState]:
    """Every agent of the tenant's queues as app_queue sees it now (QueueStatus members)."""
    return states_of((await ami.queue_status()).of_tenant(tenant).members, time.time())


async def agent_states_on(nodes: Sequence[Ami], tenant: str) -> list[AgentState]:
    """Every agent of the tenant's queues over every node: each agent once, its memberships on all
    nodes taken together (the live figures' rule, domain.queue_totals: busy on one node is busy)."""
    members = [m for ami in nodes for m in (await ami.queue_status()).of_tenant(tenant).members]
    return states_of(members, time.time())


def states_of(members: Iterable[QueueMember], now: float) -> list[AgentState]:
    """One state per agent over its memberships (domain.agent_state's rule). Pure."""
    by_agent: dict[str, list[QueueMember]] = {}
    for m in members:
        by_agent.setdefault(m.name, []).append(m)
    out = []
    for name, mine in sorted(by_agent.items()):
        state = combined_state(member_state(m, now) for m in mine)
        reason = next((m.reason for m in reversed(mine) if m.paused), "")
        queues = tuple(dict.fromkeys(m.queue.split(".")[1] for m in mine))
        out.append(AgentState(name, state, reason if state == UNAVAILABLE else "", queues))
    return out


async def set_night(ami: AstDb, tenant: str, kind: str, name: str, mode: str) -> None:
    """Night service by hand: on, off (day service even inside the schedule) or auto (schedule).
    ``ami``: this Asterisk, or every node of a cluster (asterisk/astdb.AllNodes)."""
    key = f"{kind}-{name}"
    if mode == "auto":
        await ami.db_del(night_family(tenant), key)
    elif mode in ("on", "off"):
        await ami.db_put(night_family(tenant), key, mode)
    else:
        raise ValueError(f"night service is on, off or auto, not {mode!r}")
