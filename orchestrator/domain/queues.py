"""Call centres of a tenant (issue 6): agents, queues and hunt groups, as ops write them.

Tenant-wide rather than per number, so one agent can serve several queues and several numbers
can lead to the same queue. Limits per tier are in ``queue_rules.py``.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field

from orchestrator.domain.fields import Clock, DestinationNumber, Model, Name, Weekday


class Tier(StrEnum):
    """Call Center Instap / Standaard / Premium (seed 002)."""

    BASIC = "basic"
    STANDARD = "standard"
    PREMIUM = "premium"


class Strategy(StrEnum):
    RINGALL = "ringall"  # every available agent at once
    FIXED = "fixed"  # always in the listed order
    CIRCULAR = "circular"  # round robin, starting after the agent who had the last call
    UNIFORM = "uniform"  # the agent with the fewest calls first


class Agent(Model):
    """A person taking calls: a phone number (rung via the carrier) or a SIP endpoint."""

    number: DestinationNumber | None = None
    endpoint: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_-]{1,40}$")
    skills: dict[Name, int] = Field(default_factory=dict)  # skill -> level 1 (some) .. 10 (expert)
    wrapup: int = Field(default=0, ge=0, le=3600)  # seconds of after-call work before the next call


class Span(Model):
    start: Clock
    end: Clock  # exclusive; "24:00" is the end of the day


class Night(Model):
    """Night service: everything goes to ``to`` while a span of ``week`` covers the moment, or
    while it is switched on by hand (CLI/API, no reload); switched off by hand overrides the week."""

    to: DestinationNumber
    week: dict[Weekday, list[Span]] = Field(default_factory=dict)


class Queue(Model):
    tier: Tier = Tier.BASIC
    strategy: Strategy = Strategy.RINGALL
    agents: list[Name] = Field(default_factory=list)  # in order (matters for 'fixed')
    max_waiting: int | None = Field(default=None, ge=1)  # default: the tier's maximum
    max_wait: int = Field(default=300, ge=5, le=7200)  # seconds, then the 'timeout' exit
    ring_time: int = Field(default=15, ge=5, le=120)  # seconds one agent rings before the next try
    full: DestinationNumber | None = None  # exit when max_waiting callers already wait; None = busy
    timeout: DestinationNumber | None = None  # overflow after max_wait; None = next routing step
    welcome: Name | None = None  # announcement before waiting
    music: Name | None = None  # an announcement of the plan played as music on hold; None = default
    comfort: Name | None = None  # periodic comfort message
    comfort_every: int = Field(default=30, ge=5, le=600)
    announce_position: bool = False
    announce_holdtime: bool = False
    announce_every: int = Field(default=60, ge=15, le=600)
    service_level: int = Field(default=20, ge=1, le=600)  # answered within this many seconds counts
    night: Night | None = None


class HuntGroup(Model):
    """Ring agents without a queue: nobody waits; unanswered → ``no_answer`` (or next routing step)."""

    strategy: Strategy = Strategy.RINGALL
    agents: list[Name] = Field(min_length=1)
    ring_time: int = Field(default=20, ge=5, le=300)  # per agent; the whole group for ringall
    no_answer: DestinationNumber | None = None
    night: Night | None = None
