"""Call-centre IR: what the queue configuration and the call-centre dialplan are rendered from.
Pure data, one ``CallCentre`` per tenant.

Naming (dots never occur in plan names, so every name parses back):
- Asterisk queue ``<tenant>.<queue>``, and ``<tenant>.<queue>.<skill>`` for calls needing a skill;
- agent ``<agent>`` in context ``svca-<tenant>`` (queue member ``Local/<agent>@svca-<tenant>``);
- queue flows in ``svcq-<tenant>``, hunt groups in ``svch-<tenant>`` (extension = the name);
- an endpoint agent's phone is PJSIP endpoint ``<tenant>.<endpoint>`` (auth, aor and endpoint of
  that name), calling into ``svce-<tenant>``.
"""

from __future__ import annotations

from dataclasses import dataclass

from orchestrator.domain.naming import agent_context

# Digest realm of the agent phones: the stored digest of a password is bound to it.
SIP_REALM = "svcnum"

# Plan strategies → app_queue strategies. 'linear' rings static members in their listed order.
APP_QUEUE_STRATEGY = {"ringall": "ringall", "fixed": "linear", "circular": "rrmemory", "uniform": "fewestcalls"}


@dataclass(frozen=True)
class Exit:
    """Where a caller goes next: a phone number, or another queue / hunt group of the tenant."""

    kind: str  # "number" | "queue" | "hunt" | "return" (back to the number's next routing step)
    value: str = ""  # E.164 number, or queue / hunt group name
    skill: str = ""


@dataclass(frozen=True)
class NightService:
    """AstDB ``family/key`` = on | off switches by hand; else the weekly spans decide."""

    family: str
    key: str
    to: Exit
    spans: tuple[tuple[int, int, int], ...]  # (weekday 1-7, start minute, end minute)
    timezone: str = "Europe/Amsterdam"


@dataclass(frozen=True)
class Member:
    agent: str
    interface: str  # Local/<agent>@svca-<tenant>
    state_interface: str  # device whose state tells busy/free ("" = the Local channel itself)
    penalty: int  # lower is rung first
    wrapup: int


@dataclass(frozen=True)
class AsteriskQueue:
    """One section of the generated queue configuration."""

    name: str
    strategy: str  # app_queue strategy
    members: tuple[Member, ...]
    ring_time: int
    max_waiting: int
    music: str
    comfort: str | None
    comfort_every: int
    announce_position: bool
    announce_holdtime: bool
    announce_every: int
    service_level: int


@dataclass(frozen=True)
class QueueFlow:
    name: str
    queues: dict[str, AsteriskQueue]  # "" → the queue itself; skill → its skill queue
    max_wait: int
    max_waiting: int
    welcome: str | None
    full: Exit
    timeout: Exit
    night: NightService | None


@dataclass(frozen=True)
class HuntFlow:
    name: str
    strategy: str  # plan strategy (ringall, fixed, circular, uniform)
    members: tuple[str, ...]  # agent names in order
    ring_time: int
    no_answer: Exit
    state_family: str  # AstDB family of the circular / uniform counters
    night: NightService | None


@dataclass(frozen=True)
class AgentLine:
    name: str
    dial: str  # what the agent context dials: PJSIP/<number>@<trunk> or PJSIP/<endpoint>
    number: str | None  # E.164 when the agent is a phone number (may use the DTMF state codes)
    interface: str
    endpoint: str | None = None  # PJSIP endpoint <tenant>.<endpoint> when the agent has a SIP phone


@dataclass(frozen=True)
class MohClass:
    name: str
    files: tuple[str, ...]  # paths as Asterisk sees them, without extension


@dataclass(frozen=True)
class CallCentre:
    tenant: str
    agents: tuple[AgentLine, ...]
    queues: tuple[QueueFlow, ...]
    hunts: tuple[HuntFlow, ...]
    moh: tuple[MohClass, ...]

    @property
    def empty(self) -> bool:
        return not (self.agents or self.queues or self.hunts)


def agent_interface(tenant: str, agent: str) -> str:
    return f"Local/{agent}@{agent_context(tenant)}"
