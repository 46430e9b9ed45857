"""What a supervisor does to live calls: listen in, whisper, barge in; see who waits; move a
waiting caller to another queue; raise a waiting caller's priority. All over AMI.

Listening uses ChanSpy with a spy group: every call to an agent carries SPYGROUP
``<tenant>.<agent>`` on the agent's own leg (a pre-dial handler in ``svca-<tenant>``), which
survives the Local channel being optimised away once the call is answered."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

from orchestrator.asterisk.ami import Ami
from orchestrator.asterisk.ami_results import QueueEntry
from orchestrator.domain.naming import agent_endpoint, queue_context
from orchestrator.domain.numbers import parse_destination
from orchestrator.domain.plan import TenantPlan
from orchestrator.errors import NotFound, NumberInvalid, PlanInvalid, Violation

SPY_OPTIONS = {"listen": "q", "whisper": "qw", "barge": "qB"}  # q: no beep or name to anyone


@dataclass(frozen=True)
class WaitingCall:
    queue: str  # plan queue name
    skill: str
    channel: str
    caller: str
    position: int
    wait: int  # seconds
    priority: int
    node: str = ""  # a cluster: the node it waits on


def spy_group(tenant: str, agent: str) -> str:
    return f"{tenant}.{agent}"


async def waiting_calls(ami: Ami, tenant: str) -> list[WaitingCall]:
    return waiting_of((await ami.queue_status()).of_tenant(tenant).entries)


async def waiting_calls_on(nodes: Mapping[str, Ami], tenant: str) -> list[WaitingCall]:
    """The callers waiting on every node (a queue's callers wait on the node that took them), each
    with its node's name."""
    return [replace(c, node=name) for name, ami in nodes.items() for c in await waiting_calls(ami, tenant)]


def waiting_of(entries: Iterable[QueueEntry]) -> list[WaitingCall]:
    """Waiting callers by plan queue and skill (``tenant.queue[.skill]``). Pure."""
    out = []
    for e in entries:
        parts = e.queue.split(".")
        out.append(WaitingCall(parts[1], parts[2] if len(parts) > 2 else "", e.channel, e.caller, e.position,
                               e.wait, e.priority))
    return out


async def _find(ami: Ami, tenant: str, channel: str) -> WaitingCall:
    for call in await waiting_calls(ami, tenant):
        if call.channel == channel:
            return call
    raise NotFound(f"no caller {channel!r} waits in a queue of tenant {tenant!r}")


async def node_of_waiting(nodes: Mapping[str, Ami], tenant: str, channel: str, node: str | None = None) -> Ami:
    """The node where ``channel`` waits: ``node`` when named, else the one node that has it. A
    channel's name is per node (``PJSIP/carrier-0000002a`` can exist on two), so when two nodes
    have a waiting caller of that name the node must be named: acting on the wrong caller is worse
    than asking."""
    if node is not None:
        if node not in nodes:
            raise NotFound(f"node {node!r} is not a node that answers")
        return nodes[node]
    found = [name for name, ami in nodes.items() if any(c.channel == channel for c in await waiting_calls(ami, tenant))]
    if not found:
        raise NotFound(f"no caller {channel!r} waits in a queue of tenant {tenant!r}")
    if len(found) > 1:
        raise PlanInvalid([Violation("node", f"a caller {channel!r} waits on {' and '.join(found)}: name the node")])
    return nodes[found[0]]


def move_target(plan: TenantPlan, target: str) -> tuple[str, str]:
    """``queue`` or ``queue/skill`` (as in a routing step) checked against the plan: (queue, skill)."""
    name, _, skill = target.partition("/")
    queue = plan.queues.get(name)
    if queue is None:
        raise NotFound(f"tenant {plan.tenant!r} has no queue {name!r}")
    if skill and not any(skill in plan.agents[a].skills for a in queue.agents):
        raise NotFound(f"queue {name!r} of tenant {plan.tenant!r} has no agent with skill {skill!r}")
    return name, skill


async def move_call(ami: Ami, tenant: str, channel: str, to_queue: str, skill: str = "") -> None:
    """Take a waiting caller out of its queue and put it in ``to_queue`` (of the same tenant),
    waiting for an agent with ``skill`` when given. Check both with ``move_target`` first: the
    extension is the generated one of that queue (and skill), never built from caller input."""
    await _find(ami, tenant, channel)
    await ami.redirect(channel, queue_context(tenant), f"{to_queue}.{skill}.moved" if skill else f"{to_queue}.moved")


async def set_priority(ami: Ami, tenant: str, channel: str, priority: int) -> None:
    """Higher priority callers are served first (app_queue's QUEUE_PRIO)."""
    call = await _find(ami, tenant, channel)
    queue = f"{tenant}.{call.queue}" + (f".{call.skill}" if call.skill else "")
    await ami.queue_priority(queue, channel, priority)


def supervisor_channel(plan: TenantPlan, supervisor: str, trunk: str = "carrier") -> str:
    """What to ring for the supervisor: one of the tenant's own agent phones (by its endpoint
    name in the plan), or a phone number rung via the trunk. Never a channel string from
    outside: that could ring another tenant's phone, and a number must be one a routing may
    dial too (no 0906/0909/112: the spy call is paid by the operator)."""
    phones = {a.endpoint for a in plan.agents.values() if a.endpoint}
    if supervisor in phones:
        return f"PJSIP/{agent_endpoint(plan.tenant, supervisor)}"
    try:
        return f"PJSIP/{parse_destination(supervisor)}@{trunk}"
    except NumberInvalid as exc:
        raise NumberInvalid(f"the supervisor is a phone number or one of tenant {plan.tenant!r}'s agent phones "
                            f"({', '.join(sorted(phones)) or 'it has none'}): {exc}") from exc


async def spy(ami: Ami, tenant: str, agent: str, channel: str, mode: str) -> None:
    """Ring the supervisor's ``channel`` (from ``supervisor_channel``); when answered it listens to
    (or whispers to, or joins) the agent's current call. The caller hears nothing of it unless
    the mode is barge."""
    if mode not in SPY_OPTIONS:
        raise ValueError(f"mode is one of {', '.join(SPY_OPTIONS)}, not {mode!r}")
    await ami.originate_app(channel, "ChanSpy", f",{SPY_OPTIONS[mode]}Eg({spy_group(tenant, agent)})",
                            caller_id=f"spy <{agent}>", timeout_s=30)
