"""Live figures in Redis: calls in progress per service number and per tenant, today's finished
calls by outcome.

Every write replaces whole hashes with absolute values (never INCR), so catching up after Redis
was down is just writing the current figures again: the controller's own view (kept exact by AMI
events and re-syncs with Asterisk) is the truth, Redis is its published copy.

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
from redis.exceptions import RedisError

from orchestrator.errors import RedisUnavailable
from orchestrator.live.calls import DayCounters

log = logging.getLogger(__name__)

PREFIX = "svc:live"
DAY_TTL_S = 8 * 24 * 3600  # a week of daily figures, for the reports' sanity checks


@dataclass(frozen=True)
class Figures:
    in_progress_by_number: Counter[str]
    in_progress_by_tenant: Counter[str]
    day: DayCounters
    queues: dict[str, dict[str, int | float]] = field(default_factory=dict)  # see queue_figures.py


def _hash_ops(pipe: Any, key: str, values: dict[str, int]) -> None:
    pipe.delete(key)
    if values:
        pipe.hset(key, mapping=values)


class RedisFigures:
    """Publishes figures to Redis; the ``run`` task writes whenever they changed."""

    def __init__(self, url: str, *, retry_s: float = 1.0,
                 observe: Callable[[float], None] = lambda _s: None) -> None:
        # Short timeouts: a hung Redis must not stall publishing for long; we retry anyway.
        self._client = aioredis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2,
                                               decode_responses=True)
        self.retry_s = retry_s
        self._observe = observe  # change-to-written latency, seconds (a metric)
        self.up = False
        self.last_write_s: float | None = None  # duration of the last successful write
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
                _hash_ops(pipe, day_key, figures.day.fields())
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


def _text(value: str | bytes) -> str:
    return value.decode() if isinstance(value, bytes) else value


async def read_figures(url: str, day: str) -> dict[str, dict[str, str]]:
    """The published figures, for ``orchestrator status``."""
    client = aioredis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2, decode_responses=True)
    try:
        def text(h: dict[Any, Any]) -> dict[str, str]:
            return {str(k): str(v) for k, v in h.items()}
        return {
            "number": text(await client.hgetall(f"{PREFIX}:in_progress:number")),
            "tenant": text(await client.hgetall(f"{PREFIX}:in_progress:tenant")),
            "day": text(await client.hgetall(f"{PREFIX}:day:{day}")),
            "meta": {"updated_at": str(await client.get(f"{PREFIX}:updated_at") or "")},
            **{f"queue:{q}": text(await client.hgetall(f"{PREFIX}:queue:{q}"))
               for q in sorted(_text(x) for x in await client.smembers(f"{PREFIX}:queues"))},
        }
    except (RedisError, OSError) as exc:
        raise RedisUnavailable(f"cannot read live figures from Redis at {url}: {exc}") from exc
    finally:
        await client.aclose()
