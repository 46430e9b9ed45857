"""Calls rebuilt from what Asterisk writes by itself, for calls the live controller did not see
(it was down): CDR rows (cdr_csv's Master.csv, times in UTC: ``usegmtime``) and app_queue's
queue_log. Pure: lines in, calls out. docs/reports.md says what they can and cannot give back.

A call is the CDR rows of one caller-channel ``uniqueid`` (the controller's call id too, so a
rebuilt call never doubles a recorded one). Its service number comes from the context it ran in:
``svc-<digits>`` (a number's own), or a flow's context (``fl-<tenant>-<flow>`` or one of its versions
``fl-<tenant>-<flow>.<digest>``: the number when only one of the tenant's numbers runs that flow)."""

from __future__ import annotations

import csv
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from orchestrator.domain.callerid import normalize
from orchestrator.domain.flow_ir import is_context_of_flow

# Master.csv columns (cdr_csv with loguniqueid and loguserfield, as our cdr.conf sets them).
CDR_COLUMNS = ("accountcode", "src", "dst", "dcontext", "clid", "channel", "dstchannel", "lastapp", "lastdata",
               "start", "answer", "end", "duration", "billsec", "disposition", "amaflags", "uniqueid", "userfield")
_DISPOSITION = {"BUSY": "busy", "NO ANSWER": "no_answer", "FAILED": "unreachable", "CONGESTION": "unreachable"}
_QUEUE_EXITS = {"ABANDON": "abandoned", "EXITWITHTIMEOUT": "timeout", "EXITEMPTY": "leaveempty",
                "EXITWITHKEY": "key", "FULL": "full", "JOINEMPTY": "joinempty", "JOINUNAVAIL": "joinunavail"}


@dataclass(frozen=True)
class CdrRow:
    uniqueid: str
    src: str
    dst: str
    context: str
    channel: str
    dstchannel: str
    app: str
    start: datetime
    answer: datetime | None
    end: datetime
    disposition: str


@dataclass
class QueueVisit:
    queue: str
    result: str | None = None
    wait_s: float | None = None
    agent: str | None = None


@dataclass(frozen=True)
class RebuiltCall:
    call_id: str
    number: str
    flow: str | None
    caller: str  # E.164, "" withheld
    started_at: datetime
    answered_at: datetime | None
    ended_at: datetime
    outcome: str
    reason: str | None
    wait_s: float
    talk_s: float
    visit: QueueVisit | None


def _time(text: str) -> datetime | None:
    return datetime.fromisoformat(text).replace(tzinfo=UTC) if text else None


def parse_cdr(lines: Iterable[str]) -> list[CdrRow]:
    """The rows of calls into our dialplan (a caller channel, not a Local/ helper leg)."""
    out = []
    for fields in csv.reader(lines):
        if len(fields) < len(CDR_COLUMNS):
            continue
        r = dict(zip(CDR_COLUMNS, fields, strict=False))
        if r["channel"].startswith("Local/") or not r["dcontext"].startswith(("svc-", "fl-")):
            continue
        start, end = _time(r["start"]), _time(r["end"])
        if start is None or end is None:
            continue
        out.append(CdrRow(r["uniqueid"], r["src"], r["dst"], r["dcontext"], r["channel"], r["dstchannel"],
                          r["lastapp"], start, _time(r["answer"]), end, r["disposition"]))
    return out


def parse_queue_log(lines: Iterable[str]) -> dict[str, QueueVisit]:
    """Per caller uniqueid, its (last) queue visit: ENTERQUEUE, then CONNECT (hold time, agent)
    or one of the exits with its wait."""
    visits: dict[str, QueueVisit] = {}
    for line in lines:
        parts = line.rstrip("\n").split("|")
        if len(parts) < 5 or parts[1] in ("NONE", ""):
            continue
        _t, callid, queue, agent, event, *data = parts
        names = queue.split(".")
        if event == "ENTERQUEUE" and len(names) >= 2:
            visits[callid] = QueueVisit(names[1])
        visit = visits.get(callid)
        if visit is None:
            continue
        if event == "CONNECT":
            visit.result, visit.agent, visit.wait_s = "answered", agent, _float(data, 0)
        elif event in _QUEUE_EXITS and visit.result is None:
            visit.result, visit.wait_s = _QUEUE_EXITS[event], _float(data, 2)
    return visits


def _float(data: list[str], i: int) -> float | None:
    try:
        return float(data[i])
    except (IndexError, ValueError):
        return None


def rebuild(rows: Iterable[CdrRow], visits: Mapping[str, QueueVisit],
            flow_numbers: Mapping[tuple[str, str], list[str]]) -> tuple[list[RebuiltCall], list[str]]:
    """The calls of ``rows`` and the ids of those whose number cannot be told (a flow several of
    the tenant's numbers run). ``flow_numbers``: (tenant, flow) -> the numbers that run it."""
    by_call: dict[str, list[CdrRow]] = defaultdict(list)
    for r in rows:
        by_call[r.uniqueid].append(r)
    calls, unknown = [], []
    for call_id, mine in by_call.items():
        number, flow = _number(mine, flow_numbers)
        if number is None:
            unknown.append(call_id)
            continue
        calls.append(_call(call_id, number, flow, mine, visits.get(call_id)))
    return calls, unknown


def _number(rows: list[CdrRow], flow_numbers: Mapping[tuple[str, str], list[str]]) -> tuple[str | None, str | None]:
    number = next((r.context[4:] for r in rows if r.context.startswith("svc-")), None)
    flow_context = next((r.context for r in rows if r.context.startswith("fl-")), None)
    flow = None
    if flow_context is not None:
        for (tenant, name), numbers in flow_numbers.items():
            if is_context_of_flow(flow_context, tenant, name):
                flow = name
                if number is None and len(numbers) == 1:
                    return numbers[0], flow
    return (f"+{number}" if number else None), flow


def _call(call_id: str, number: str, flow: str | None, rows: list[CdrRow], visit: QueueVisit | None) -> RebuiltCall:
    rows = sorted(rows, key=lambda r: r.start)
    start, end = rows[0].start, max(r.end for r in rows)
    # Answered by a destination: a Dial or Queue bridged to another channel (an agent is a Local
    # channel; a flow or a queue answering the caller itself is no answer).
    bridged = [r for r in rows if r.disposition == "ANSWERED" and r.dstchannel and r.answer is not None
               and r.app in ("Dial", "Queue")]
    answered = bridged[0].answer if bridged else None
    if answered is not None:
        outcome, reason = "answered", None
    elif any(r.dst == "rejected" for r in rows):
        outcome, reason = "blocked", None  # the reason is only in the controller's events
    elif visit is not None and visit.result is not None and visit.result != "answered":
        outcome, reason = ("abandoned" if visit.result == "abandoned" else "no_answer"), None
    else:
        dials = [r for r in rows if r.app == "Dial"]
        outcome = _DISPOSITION.get(dials[-1].disposition, "abandoned") if dials else "abandoned"
        reason = "destination" if outcome == "busy" else None
    return RebuiltCall(call_id, number, flow, normalize(rows[0].src) if rows[0].src else "", start, answered, end,
                       outcome, reason, round(((answered or end) - start).total_seconds(), 3),
                       round((end - answered).total_seconds(), 3) if answered else 0.0, visit)
