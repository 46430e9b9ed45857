"""Report kinds about traffic: volume, waiting, origins, peaks, callers. Pure: periods and rows in,
tables out. Definitions are in docs/reports.md."""

from __future__ import annotations

import math
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime

from orchestrator.domain.reports.intervals import AMSTERDAM, Locator, Period
from orchestrator.domain.reports.model import Call, Rollup, Table

OUTCOMES = ("answered", "busy", "no_answer", "unreachable", "blocked")
BLOCK_REASONS = ("anonymous", "blacklist", "foreign", "mobile")
VOLUME_COLUMNS = ("interval", "offered", *OUTCOMES, *(f"blocked_{r}" for r in BLOCK_REASONS), "abandoned",
                  "max_duration")


def by_period(spans: Sequence[Period], calls: Iterable[Call]) -> list[list[Call]]:
    loc = Locator(spans)
    out: list[list[Call]] = [[] for _ in spans]
    for c in calls:
        i = loc.index(c.started_at)
        if i is not None:
            out[i].append(c)
    return out


def _with_total(rows: list[list[object]], first: int = 1) -> list[list[object]]:
    """``rows`` and a total row (sums of the numeric columns from ``first`` on)."""
    if not rows:
        return [["total"]]
    total: list[object] = ["total", *[""] * (first - 1)]
    for i in range(first, len(rows[0])):
        total.append(sum(r[i] for r in rows if isinstance(r[i], int | float)))  # type: ignore[misc]
    return [*rows, total]


def volume(spans: Sequence[Period], rollups: Iterable[Rollup]) -> Table:
    """Offered calls per interval by outcome; blocked also by reason (a blocked call counts once
    in ``blocked`` and once in its reason's column)."""
    loc = Locator(spans)
    counts = [Counter[str]() for _ in spans]
    for r in rollups:
        i = loc.index(r.bucket)
        if i is None:
            continue
        c = counts[i]
        c["offered"] += r.calls
        c[r.outcome] += r.calls
        if r.outcome == "blocked" and r.reason:
            c[f"blocked_{r.reason}"] += r.calls
    rows = [[p.label, *(c[k] for k in VOLUME_COLUMNS[1:])] for p, c in zip(spans, counts, strict=True)]
    return Table("volume", VOLUME_COLUMNS, _with_total(rows))


def p90(values: Sequence[float]) -> float:
    """The nearest-rank 90th percentile: the smallest value at least 90 % of the values are <= to."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.9 * len(ordered)) - 1)]


def waiting(spans: Sequence[Period], calls: Iterable[Call]) -> Table:
    """Queue wait of the calls that waited in a queue (until an agent answered, or until they
    hung up or left the queue), per interval."""
    rows: list[list[object]] = []
    every: list[float] = []
    for p, group in zip(spans, by_period(spans, calls), strict=True):
        waits = [c.queue_wait_s for c in group if c.queue is not None and c.queue_wait_s is not None]
        every.extend(waits)
        rows.append([p.label, *_wait_figures(waits)])
    rows.append(["total", *_wait_figures(every)])
    return Table("waiting", ("interval", "queued", "mean_s", "median_s", "p90_s", "longest_s"), rows)


def _wait_figures(waits: list[float]) -> list[object]:
    if not waits:
        return [0, "", "", "", ""]
    return [len(waits), round(statistics.fmean(waits), 1), round(statistics.median(waits), 1),
            round(p90(waits), 1), round(max(waits), 1)]


def origins(spans: Sequence[Period], calls: Iterable[Call]) -> Table:
    """Calls per interval and origin (Dutch area code, mobile, NL, country, withheld)."""
    rows: list[list[object]] = []
    for p, group in zip(spans, by_period(spans, calls), strict=True):
        per: dict[str, list[Call]] = defaultdict(list)
        for c in group:
            per[c.origin or "unknown"].append(c)
        for origin in sorted(per):
            mine = per[origin]
            rows.append([p.label, origin, len(mine), sum(c.outcome in ("answered", "max_duration") for c in mine),
                         len({c.caller_hash for c in mine if c.caller_hash})])
    return Table("origins", ("interval", "origin", "calls", "answered", "unique_callers"), rows)


def peaks(spans: Sequence[Period], calls: Sequence[Call], top: int = 10) -> tuple[Table, Table]:
    """The busiest intervals (most calls started), and per interval the most calls in progress at
    once with the first moment it was reached. Only calls that started in the range count."""
    groups = by_period(spans, calls)
    busiest = sorted(range(len(spans)), key=lambda i: (-len(groups[i]), spans[i].start))[:top]
    t1 = Table("busiest", ("rank", "interval", "offered", "answered"),
               [[n + 1, spans[i].label, len(groups[i]), sum(c.outcome in ("answered", "max_duration")
                                                               for c in groups[i])]
                for n, i in enumerate(busiest) if groups[i]])
    level, best, when = 0, [0] * len(spans), [""] * len(spans)
    # An end at the same moment as a start comes first: the two calls were not in progress together.
    events = sorted([(c.started_at, 1) for c in calls] + [(c.ended_at, -1) for c in calls])
    k = 0
    for t, step in events:
        while k < len(spans) and spans[k].end <= t:
            k += 1
            if k < len(spans) and level > best[k]:
                best[k], when[k] = level, _local(spans[k].start)
        level += step
        if k < len(spans) and t >= spans[k].start and level > best[k]:
            best[k], when[k] = level, _local(t)
    t2 = Table("in_progress", ("interval", "most_at_once", "first_reached_at"),
               [[p.label, best[i], when[i]] for i, p in enumerate(spans)])
    return t1, t2


def _local(t: datetime) -> str:
    return t.astimezone(AMSTERDAM).isoformat(timespec="seconds")


def callers(spans: Sequence[Period], counts: Mapping[int, tuple[int, int, int]],
            repeat: Iterable[tuple[int, str, int]], more_than: int) -> tuple[Table, Table]:
    """Unique callers per interval (exact: distinct caller hashes; withheld callers have none and
    are counted apart), and the callers with more than ``more_than`` calls in an interval.
    ``counts``: interval index -> (calls, withheld, unique); ``repeat``: (index, hash, calls)."""
    many: dict[int, list[tuple[int, str]]] = defaultdict(list)
    for i, h, n in repeat:
        many[i].append((n, h))
    rows: list[list[object]] = []
    listed: list[list[object]] = []
    for i, p in enumerate(spans):
        calls, withheld, unique = counts.get(i, (0, 0, 0))
        mine = sorted(many.get(i, []), key=lambda x: (-x[0], x[1]))
        rows.append([p.label, calls, withheld, unique, len(mine), sum(n for n, _ in mine)])
        listed.extend([p.label, h[:16], n] for n, h in mine)
    t1 = Table("callers", ("interval", "calls", "withheld", "unique_callers", "repeat_callers", "repeat_calls"),
               rows)
    return t1, Table("repeat_callers", ("interval", "caller", "calls"), listed)
