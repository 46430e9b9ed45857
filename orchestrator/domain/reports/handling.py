"""Report kinds about how calls were handled: queues (with agents), routing, finance. Pure.
Definitions are in docs/reports.md."""

from __future__ import annotations

import json
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from decimal import Decimal

from orchestrator.domain.numbers import parse_service_number
from orchestrator.domain.reports.intervals import Locator, Period
from orchestrator.domain.reports.model import Call, Pause, Query, Rollup, Table
from orchestrator.domain.reports.traffic import by_period
from orchestrator.errors import NumberInvalid

ANSWERED = ("answered", "max_duration")
EMPTY = ("joinempty", "leaveempty", "joinunavail", "leaveunavail")
QUEUE_COLUMNS = ("interval", "queue", "offered", "answered", "abandoned", "abandoned_within_s", "full",
                 "timed_out", "joined_empty", "other", "answered_within_t", "service_level_pct", "asa_s",
                 "aht_s")


def queues(q: Query, spans: Sequence[Period], calls: Sequence[Call],
           pauses: Sequence[Pause] = ()) -> tuple[Table, Table]:
    """Per interval and queue: what happened to the calls that reached it, the service level, the
    average speed of answer and handling time; per agent over the range: calls answered, talk
    time, wrap-up after them (the agent's wrap-up setting when each call ended) and time paused
    (pauses clipped to the range)."""
    rows: list[list[object]] = []
    for p, group in zip(spans, by_period(spans, calls), strict=True):
        per: dict[str, list[Call]] = defaultdict(list)
        for c in group:
            if c.queue:
                per[c.queue].append(c)
        rows.extend([p.label, name, *_queue_figures(q, name, per[name])] for name in sorted(per))
    return Table("queues", QUEUE_COLUMNS, rows), _agents(q, spans, calls, pauses)


def _agents(q: Query, spans: Sequence[Period], calls: Sequence[Call], pauses: Sequence[Pause]) -> Table:
    answered: dict[str, list[Call]] = defaultdict(list)
    for c in calls:
        if c.queue and c.agent and c.queue_result == "answered":
            answered[c.agent].append(c)
    start, end = (spans[0].start, spans[-1].end) if spans else (None, None)
    paused: dict[str, float] = defaultdict(float)
    for p in pauses:
        if start is not None and end is not None and (q.queue_agents is None or p.agent in q.queue_agents):
            paused[p.agent] += max(0.0, (min(p.ended_at, end) - max(p.started_at, start)).total_seconds())
    rows: list[list[object]] = []
    for agent in sorted({*answered, *paused}):
        mine = answered.get(agent, [])
        talk = [c.talk_s for c in mine]
        rows.append([agent, ",".join(sorted({c.queue or "" for c in mine})), len(mine), round(sum(talk), 1),
                     round(statistics.fmean(talk), 1) if talk else "", round(sum(c.agent_wrapup_s for c in mine), 1),
                     round(paused.get(agent, 0.0), 1)])
    return Table("agents", ("agent", "queues", "calls", "talk_s", "mean_talk_s", "wrapup_s", "pause_s"), rows)


def _queue_figures(q: Query, name: str, calls: list[Call]) -> list[object]:
    t = q.service_level_s.get(name, q.default_service_level_s)
    answered = [c for c in calls if c.queue_result == "answered"]
    abandoned = [c for c in calls if c.queue_result == "abandoned"]
    short = sum((c.queue_wait_s or 0.0) <= q.abandon_grace_s for c in abandoned)
    within = sum((c.queue_wait_s or 0.0) <= t for c in answered)
    counted = len(answered) + len(abandoned) - short
    known = {"answered", "abandoned", "full", "timeout", *EMPTY}
    waits = [c.queue_wait_s or 0.0 for c in answered]
    return [len(calls), len(answered), len(abandoned), short,
            sum(c.queue_result == "full" for c in calls), sum(c.queue_result == "timeout" for c in calls),
            sum(c.queue_result in EMPTY for c in calls), sum(c.queue_result not in known for c in calls), within,
            round(100.0 * within / counted, 1) if counted else "",
            round(statistics.fmean(waits), 1) if waits else "",
            round(statistics.fmean(c.talk_s for c in answered), 1) if answered else ""]


def routing(spans: Sequence[Period], calls: Iterable[Call]) -> Table:
    """Per interval, number and flow: how many calls took each exit of each block or routing step
    (menu keys, roster exits, split shares, each dialled destination's result), and that exit's
    share of the calls that passed the block. A call that passes a block twice counts once per exit."""
    rows: list[list[object]] = []
    for p, group in zip(spans, by_period(spans, calls), strict=True):
        exits: Counter[tuple[str, str, str, str]] = Counter()
        blocks: Counter[tuple[str, str, str]] = Counter()
        for c in group:
            steps = {(str(b), str(e)) for b, e in json.loads(c.path)} if c.path else set()
            for b, e in steps:
                exits[(c.number, c.flow or "", b, e)] += 1
            for b in {b for b, _ in steps}:
                blocks[(c.number, c.flow or "", b)] += 1
        for (number, flow, block, exit_), n in sorted(exits.items()):
            share = 100.0 * n / blocks[(number, flow, block)]
            rows.append([p.label, number, flow, block, exit_, n, round(share, 1)])
    return Table("routing", ("interval", "number", "flow", "block", "exit", "calls", "share_pct"), rows)


def _kind(number: str) -> str:
    try:
        return parse_service_number(number).kind.value
    except NumberInvalid:
        return "?"


def _euros(cents: int) -> str:
    return f"{Decimal(cents) / 100:.2f}"


def finance(spans: Sequence[Period], rollups: Iterable[Rollup]) -> Table:
    """Per interval and number: answered calls, talk minutes, 090x revenue at the tariff in force
    when each call was made (per-call and per-minute parts), calls cut at the maximum duration;
    for 0800 numbers the talk minutes are the minutes the tenant pays."""
    loc = Locator(spans)
    acc: dict[tuple[int, str], list[float]] = defaultdict(lambda: [0, 0, 0, 0.0, 0, 0])
    for r in rollups:
        i = loc.index(r.bucket)
        if i is None:
            continue
        a = acc[(i, r.number)]
        a[0] += r.calls
        if r.outcome in ANSWERED:
            a[1] += r.calls
            a[3] += r.talk_s
        a[2] += r.calls if r.outcome == "max_duration" else 0
        a[4] += r.revenue_cents
        a[5] += r.revenue_call_cents
    rows: list[list[object]] = []
    totals = [0, 0, 0, 0.0, 0, 0]
    free_talk = 0.0
    for (i, number), a in sorted(acc.items()):
        kind = _kind(number)
        free = a[3] if kind == "0800" else 0.0
        rows.append([spans[i].label, number, kind, *_money(a, free)])
        totals = [x + y for x, y in zip(totals, a, strict=True)]
        free_talk += free
    rows.append(["total", "", "", *_money(totals, free_talk)])
    return Table("finance", ("interval", "number", "kind", "calls", "answered", "max_duration", "talk_minutes",
                             "tenant_pays_minutes", "revenue_per_call_eur", "revenue_per_minute_eur",
                             "revenue_eur"), rows)


def _money(a: Sequence[float], freephone_talk_s: float) -> list[object]:
    return [int(a[0]), int(a[1]), int(a[2]), round(a[3] / 60, 2), round(freephone_talk_s / 60, 2),
            _euros(int(a[5])), _euros(int(a[4] - a[5])), _euros(int(a[4]))]
