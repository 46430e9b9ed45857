"""Live control of queues and agents over AMI. Agent state is kept in AstDB
(``svc-agent/<tenant>/<agent>`` = available | logged-out | unavailable:<reason>) so it survives a
queue reload and an orchestrator restart; app_queue's pause carries it into call distribution.

Wrap-up is not set here: app_queue keeps a member out of calls for its ``wrapuptime`` after each
call by itself."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import Any

from orchestrator.asterisk.ami import Ami
from orchestrator.domain.ir_queues import CallCentre, agent_interface, night_family
from orchestrator.errors import AsteriskError, NotFound, PlanInvalid, Violation

AGENT_FAMILY = "svc-agent"
LOGGED_OUT = "logged-out"
AVAILABLE = "available"
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
    if music:
        await ami.command("moh reload")
    out = await ami.command("queue reload all")
    if "No such command" in out:
        raise AsteriskError(f"queue reload answered: {out.strip()[:200]}")


async def verify_queues(ami: Ami, names: list[str]) -> int:
    for name in names:
        out = await ami.command(f"queue show {name}")
        if "No such queue" in out or name not in out:
            raise AsteriskError(f"after reloading queues, Asterisk has no queue {name}: {out.strip()[:200]}")
    return len(names)


def _state_value(state: str, reason: str) -> str:
    return f"unavailable:{reason}" if state == "unavailable" else state


def check_reason(reason: str) -> str:
    if not REASON.fullmatch(reason):
        raise PlanInvalid([Violation("reason", f"at most 40 letters, digits, spaces, '_' or '-', not {reason!r}")])
    return reason


async def set_agent_state(ami: Ami, tenant: str, agent: str, state: str, reason: str = "") -> None:
    """available (log in), logged-out, or unavailable with a reason; in every queue of the agent."""
    if state not in (AVAILABLE, LOGGED_OUT, "unavailable"):
        raise ValueError(f"unknown agent state {state!r}")
    check_reason(reason)
    paused = state != AVAILABLE
    why = LOGGED_OUT if state == LOGGED_OUT else (reason or "unavailable")
    fields = {"Action": "QueuePause", "Interface": agent_interface(tenant, agent),
              "Paused": "true" if paused else "false"}
    if paused:
        fields["Reason"] = why
    resp = await ami.action(fields, as_list=False)
    if not resp.success and "not found" in str(resp.get("Message", "")).lower():
        raise NotFound(f"agent {agent!r} of tenant {tenant!r} is in no queue")
    if not resp.success:
        raise AsteriskError(f"QueuePause failed: {resp.get('Message')}")
    await ami.db_put(f"{AGENT_FAMILY}/{tenant}", agent, _state_value(state, reason))


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
        if state in (LOGGED_OUT, "unavailable"):
            try:
                await set_agent_state(ami, tenant, name, state, reason)
                count += 1
            except NotFound:
                continue  # an agent in no queue (only in hunt groups) has nothing to pause
    return count


async def agent_states(ami: Ami, tenant: str) -> list[AgentState]:
    """Every agent of the tenant's queues as app_queue sees it now (QueueStatus members)."""
    resp = await ami.action({"Action": "QueueStatus"}, as_list=True)
    by_agent: dict[str, dict[str, object]] = {}
    for msg in resp if isinstance(resp, list) else [resp]:
        if msg.get("Event") != "QueueMember" or not str(msg.get("Queue", "")).startswith(f"{tenant}."):
            continue
        name = str(msg.get("Name") or msg.get("MemberName"))
        entry = by_agent.setdefault(name, {"queues": [], "paused": False, "reason": "", "busy": False,
                                           "wrapup": False})
        queue_name = str(msg["Queue"]).split(".")[1]
        queues = entry["queues"]
        assert isinstance(queues, list)
        if queue_name not in queues:
            queues.append(queue_name)
        if msg.get("Paused") == "1":
            entry["paused"], entry["reason"] = True, str(msg.get("PausedReason", ""))
        if msg.get("InCall") == "1" or msg.get("Status") in ("2", "3", "6", "7"):
            entry["busy"] = True
        if str(msg.get("Wrapuptime", "0")) not in ("", "0") and _in_wrapup(msg):
            entry["wrapup"] = True
    out = []
    for name, e in sorted(by_agent.items()):
        reason = str(e["reason"])
        if e["paused"]:
            state = LOGGED_OUT if reason == LOGGED_OUT else "unavailable"
        elif e["busy"]:
            state = "busy"
        elif e["wrapup"]:
            state = "wrap-up"
        else:
            state = AVAILABLE
        queues = e["queues"]
        assert isinstance(queues, list)
        out.append(AgentState(name, state, reason if state == "unavailable" else "", tuple(queues)))
    return out


def _in_wrapup(msg: Any) -> bool:
    last = int(msg.get("LastCall", "0") or 0)
    wrapup = int(msg.get("Wrapuptime", "0") or 0)
    return last > 0 and time.time() < last + wrapup


async def set_night(ami: Ami, tenant: str, kind: str, name: str, mode: str) -> None:
    """Night service by hand: on, off (day service even inside the schedule) or auto (schedule)."""
    key = f"{kind}-{name}"
    if mode == "auto":
        await ami.db_del(night_family(tenant), key)
    elif mode in ("on", "off"):
        await ami.db_put(night_family(tenant), key, mode)
    else:
        raise ValueError(f"night service is on, off or auto, not {mode!r}")
