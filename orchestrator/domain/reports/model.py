"""What report kinds read and produce. Pure.

``Call`` is one call record as the reports see it; ``Rollup`` one row of the per-quarter-hour
sums (store/rollups.py). A ``Report`` is its parameters (printed with every report) and one or
more tables."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, NamedTuple

from orchestrator.domain.reports.intervals import Interval, Period


class Kind(StrEnum):
    VOLUME = "volume"
    WAITING = "waiting"
    QUEUES = "queues"
    ORIGINS = "origins"
    PEAKS = "peaks"
    CALLERS = "callers"
    ROUTING = "routing"
    FINANCE = "finance"


ROLLUP_KINDS = frozenset({Kind.VOLUME, Kind.FINANCE})  # read the rollups, not the calls


class Call(NamedTuple):
    started_at: datetime  # UTC
    ended_at: datetime
    number: str
    outcome: str
    talk_s: float
    caller_hash: str
    origin: str
    queue: str | None
    queue_result: str | None
    queue_wait_s: float | None
    agent: str | None
    flow: str | None
    path: str  # JSON list of [block, exit]
    agent_wrapup_s: float = 0.0


# The call record columns a Call is made of, in its order.
CALL_FIELDS = ("started_at", "ended_at", "service_number", "outcome", "talk_s", "caller_hash", "origin", "queue",
               "queue_result", "queue_wait_s", "agent", "flow", "path", "agent_wrapup_s")


class Pause(NamedTuple):
    agent: str
    started_at: datetime  # UTC
    ended_at: datetime
    reason: str


class Rollup(NamedTuple):
    bucket: datetime  # UTC quarter hour
    number: str
    outcome: str
    reason: str
    calls: int
    talk_s: float
    revenue_cents: int
    revenue_call_cents: int


@dataclass(frozen=True)
class Query:
    tenant: str
    kind: Kind
    start: datetime  # Amsterdam, aware
    end: datetime
    interval: Interval
    number: str | None = None
    queue: str | None = None
    flow: str | None = None
    more_than: int = 2  # callers: list callers with more than this many calls in an interval
    service_level_s: dict[str, int] = field(default_factory=dict)  # queue -> T (plan's service_level)
    abandon_grace_s: float = 5.0  # S: callers who hang up within S seconds do not count against the SL
    default_service_level_s: int = 20
    queue_agents: tuple[str, ...] | None = None  # queues with a queue filter: its agents (whose pauses count)

    def parameters(self, spans: Sequence[Period]) -> dict[str, str]:
        p = {"kind": self.kind.value, "tenant": self.tenant,
             "from": self.start.isoformat(timespec="minutes"), "to": self.end.isoformat(timespec="minutes"),
             "to_is": "exclusive (the first moment not in the report)", "interval": self.interval.value,
             "intervals": str(len(spans)), "time_zone": "Europe/Amsterdam (wall clock)",
             "a_call_belongs_to": "the interval it started in"}
        for name in ("number", "queue", "flow"):
            if getattr(self, name):
                p[name] = str(getattr(self, name))
        if self.kind is Kind.QUEUES:
            levels = ", ".join(f"{q} {s} s" for q, s in sorted(self.service_level_s.items()))
            p["service_level"] = (f"answered within T s / (answered + abandoned after S s); T per queue: "
                                  f"{levels or 'none'} (default {self.default_service_level_s} s); "
                                  f"S = {self.abandon_grace_s:g} s")
        if self.kind is Kind.CALLERS:
            p["repeat_callers"] = f"callers with more than {self.more_than} calls in an interval"
        return p


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[str, ...]
    rows: Iterable[Sequence[Any]]


@dataclass(frozen=True)
class Report:
    parameters: dict[str, str]
    tables: tuple[Table, ...]
