"""Where the live controller's view goes: live figures in Redis (written here, and read back here
for ``orchestrator status`` and the API), Prometheus metrics, and call records in the database.

This module is the one owner of the Redis key format. Every write replaces whole hashes with
absolute values (never INCR), so catching up after Redis was down is just writing the current
figures again: the controller's own view (kept exact by AMI events and re-syncs with Asterisk)
is the truth, Redis is its published copy.

Keys (prefix ``svc:live``):
  ``in_progress:number``  hash  E.164 -> calls in progress
  ``in_progress:tenant``  hash  tenant -> calls in progress
  ``day:<YYYY-MM-DD>``    hash  ``<outcome>``, ``<outcome>:number:<E.164>``, ``<outcome>:tenant:<t>``
  ``queue:<tenant>.<queue>``  hash  waiting, longest_wait_s, answered, abandoned,
                              service_level_pct, agents_<state> (call centres)
  ``queues``              set   the queue names above
  ``updated_at``          string  epoch seconds of the last write
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import redis.asyncio as aioredis
from prometheus_client import CollectorRegistry, Gauge, Histogram
from prometheus_client import Counter as PromCounter
from redis.exceptions import RedisError

from orchestrator.errors import RedisUnavailable
from orchestrator.live.calls import DayCounters
from orchestrator.settings import redacted

log = logging.getLogger(__name__)

PREFIX = "svc:live"
DAY_TTL_S = 8 * 24 * 3600  # a week of daily figures, for the reports' sanity checks
_NUMBER, _TENANT = ":number:", ":tenant:"


@dataclass(frozen=True)
class Figures:
    """What the controller publishes (its view now)."""

    in_progress_by_number: Counter[str]
    in_progress_by_tenant: Counter[str]
    day: DayCounters
    queues: dict[str, dict[str, int | float]] = field(default_factory=dict)  # see queue_figures.py


@dataclass(frozen=True)
class PublishedFigures:
    """What a reader finds in Redis: the figures of one day, typed."""

    in_progress_by_number: dict[str, int]
    in_progress_by_tenant: dict[str, int]
    today: dict[str, int]  # outcome -> calls
    today_by_number: dict[str, dict[str, int]]  # E.164 -> outcome -> calls
    today_by_tenant: dict[str, dict[str, int]]  # tenant -> outcome -> calls
    queues: dict[str, dict[str, str]]  # tenant.queue -> figure -> value
    updated_at: float | None  # epoch seconds; None: nothing published yet


def day_fields(day: DayCounters) -> dict[str, int]:
    """The day hash: ``answered``, ``answered:number:+31…``, ``answered:tenant:acme``."""
    out: dict[str, int] = dict(day.total)
    out.update({f"{o}{_NUMBER}{n}": v for (o, n), v in day.by_number.items()})
    out.update({f"{o}{_TENANT}{t}": v for (o, t), v in day.by_tenant.items()})
    return out


def parse_published(raw: dict[str, dict[str, str]]) -> PublishedFigures:
    """The hashes as read (``number``, ``tenant``, ``day``, ``meta``, ``queue:<name>``), typed. Pure."""
    today: dict[str, int] = {}
    by_number: dict[str, dict[str, int]] = {}
    by_tenant: dict[str, dict[str, int]] = {}
    for key, value in raw.get("day", {}).items():
        if _NUMBER in key:
            outcome, number = key.split(_NUMBER, 1)
            by_number.setdefault(number, {})[outcome] = int(value)
        elif _TENANT in key:
            outcome, tenant = key.split(_TENANT, 1)
            by_tenant.setdefault(tenant, {})[outcome] = int(value)
        else:
            today[key] = int(value)
    updated = raw.get("meta", {}).get("updated_at")
    return PublishedFigures(
        {k: int(v) for k, v in raw.get("number", {}).items()}, {k: int(v) for k, v in raw.get("tenant", {}).items()},
        today, by_number, by_tenant, {k[6:]: v for k, v in raw.items() if k.startswith("queue:")},
        float(updated) if updated else None)


def _redis(url: str) -> aioredis.Redis:
    # Short timeouts: a hung Redis must not stall publishing (or a reader) for long.
    return aioredis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2, decode_responses=True)


def _hash_ops(pipe: Any, key: str, values: dict[str, int]) -> None:
    pipe.delete(key)
    if values:
        pipe.hset(key, mapping=values)


async def read_figures(url: str, day: str) -> PublishedFigures:
    """The published figures of ``day`` (YYYY-MM-DD), for ``orchestrator status`` and the API."""
    client = _redis(url)

    def text(h: dict[Any, Any]) -> dict[str, str]:
        return {str(k): str(v) for k, v in h.items()}
    try:
        queues = sorted(str(x) for x in await client.smembers(f"{PREFIX}:queues"))
        return parse_published({
            "number": text(await client.hgetall(f"{PREFIX}:in_progress:number")),
            "tenant": text(await client.hgetall(f"{PREFIX}:in_progress:tenant")),
            "day": text(await client.hgetall(f"{PREFIX}:day:{day}")),
            "meta": {"updated_at": str(await client.get(f"{PREFIX}:updated_at") or "")},
            **{f"queue:{q}": text(await client.hgetall(f"{PREFIX}:queue:{q}")) for q in queues},
        })
    except (RedisError, OSError) as exc:
        raise RedisUnavailable(f"cannot read live figures from Redis at {redacted(url)}: {exc}") from exc
    finally:
        await client.aclose()


class RedisFigures:
    """Publishes figures to Redis; the ``run`` task writes whenever they changed."""

    def __init__(self, url: str, *, retry_s: float = 1.0,
                 observe: Callable[[float], None] = lambda _s: None) -> None:
        self._client = _redis(url)
        self.retry_s = retry_s
        self._observe = observe  # change-to-written latency, seconds (a metric)
        self.up = False
        self._changed = asyncio.Event()
        self._figures: Figures | None = None
        self._changed_at: float = 0.0
        self.latencies: list[float] = []  # change-to-written, seconds (the last 1,000)

    def publish(self, figures: Figures, since: float | None = None) -> None:
        """Remember the newest figures and wake the writer (never blocks, never fails).
        ``since``: wall-clock time of the event that changed them (for the latency figure)."""
        self._figures = figures
        if not self._changed.is_set():
            self._changed_at = since if since is not None else time.time()
        self._changed.set()

    async def write(self, figures: Figures) -> None:
        try:
            async with self._client.pipeline(transaction=True) as pipe:
                _hash_ops(pipe, f"{PREFIX}:in_progress:number", dict(+figures.in_progress_by_number))
                _hash_ops(pipe, f"{PREFIX}:in_progress:tenant", dict(+figures.in_progress_by_tenant))
                day_key = f"{PREFIX}:day:{figures.day.day.isoformat()}"
                _hash_ops(pipe, day_key, day_fields(figures.day))
                pipe.expire(day_key, DAY_TTL_S)
                for name, values in figures.queues.items():
                    pipe.delete(f"{PREFIX}:queue:{name}")
                    pipe.hset(f"{PREFIX}:queue:{name}", mapping={k: str(v) for k, v in values.items()})
                pipe.delete(f"{PREFIX}:queues")
                if figures.queues:
                    pipe.sadd(f"{PREFIX}:queues", *figures.queues)
                pipe.set(f"{PREFIX}:updated_at", f"{time.time():.3f}")
                await pipe.execute()
        except (RedisError, OSError) as exc:
            raise RedisUnavailable(f"cannot write live figures to Redis: {exc}") from exc

    async def run(self) -> None:
        while True:
            await self._changed.wait()
            self._changed.clear()
            figures, changed_at = self._figures, self._changed_at
            if figures is None:
                continue
            try:
                await self.write(figures)
            except RedisUnavailable as exc:
                if self.up:
                    log.error("Redis down; live figures kept in memory and written when it is back: %s", exc)
                self.up = False
                if not self._changed.is_set():
                    self._changed_at = changed_at
                self._changed.set()  # write again (the newest figures) after the pause
                await asyncio.sleep(self.retry_s)
                continue
            if not self.up:
                log.info("Redis up; live figures written")
            self.up = True
            lag = time.time() - changed_at
            self.latencies = [*self.latencies[-999:], lag]
            self._observe(lag)

    async def ping(self) -> bool:
        try:
            return bool(await self._client.ping())
        except (RedisError, OSError):
            return False

    async def close(self) -> None:
        await self._client.aclose()


class Metrics:
    """Prometheus metrics of one controller (its own registry: no global state)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.in_progress = Gauge("svc_calls_in_progress", "Calls in progress per service number",
                                 ["number"], registry=r)
        self.in_progress_total = Gauge("svc_calls_in_progress_total", "Calls in progress", registry=r)
        self.finished = PromCounter("svc_calls_finished", "Finished calls by outcome", ["outcome"], registry=r)
        self.up = Gauge("svc_component_up", "1 when the component is reachable", ["component"], registry=r)
        self.incidents = PromCounter("svc_max_duration_incidents", "090x calls cut by the watchdog", registry=r)
        self.resyncs = PromCounter("svc_resyncs", "Re-syncs of live calls from Asterisk", ["why"], registry=r)
        self.event_lag = Histogram("svc_event_to_redis_seconds", "From an AMI event to the figures in Redis",
                                   buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0),
                                   registry=r)
        self._numbers: set[str] = set()

    def show(self, figures: Figures) -> None:
        self._numbers |= set(figures.in_progress_by_number)
        for number in self._numbers:  # numbers back to 0 must show 0, not their last value
            self.in_progress.labels(number).set(figures.in_progress_by_number.get(number, 0))
        self.in_progress_total.set(sum(figures.in_progress_by_number.values()))
