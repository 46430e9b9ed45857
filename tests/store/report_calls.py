"""A generated set of calls with known answers for the report tests (tests/store/test_reports.py):
both DST change days, a month boundary, a caller who calls 7 times, calls abandoned in the queue
at 3 s and 30 s, 090x calls under two tariffs, menu paths, overlapping calls. Stored through the
live controller's own write path (live/records.store_batch: hashes, origins, tariffs, rollups)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session

from orchestrator.domain.plan import AMSTERDAM, parse_plan
from orchestrator.live.calls import FinishedCall, Outcome
from orchestrator.live.records import store_batch
from orchestrator.store import call_records
from orchestrator.store import plans as plan_store

N8, N9, BETA = "+318001234567", "+319001234567", "+318009999999"
REPEAT = "+31201110007"  # calls 7 times on 10 November
KEY = "test-caller-hash-key"


def acme_plan(per_call: str) -> dict[str, Any]:
    return {"tenant": "acme", "agents": {"ann": {"number": "+31201110001"}, "bob": {"number": "+31201110002"}},
            "queues": {"sales": {"agents": ["ann", "bob"], "service_level": 20}},
            "numbers": [{"number": "0800 1234567", "routings": {"main": [{"number": "queue:sales"}]}, "active": "main"},
                        {"number": "0900 1234567", "routings": {"main": [{"number": "020 555 0001"}]}, "active": "main",
                         "tariff": {"per_call": per_call, "per_minute": "0.10"}}]}


def beta_plan() -> dict[str, Any]:
    return {"tenant": "beta", "numbers": [{"number": "0800 9999999", "routings": {"main": [{"number": "020 555 0002"}]},
                                           "active": "main"}]}


def save_plan(engine: Any, doc: dict[str, Any]) -> None:
    with Session(engine) as s:
        plan_store.save_plan(s, parse_plan(doc))
        s.commit()


_seq = iter(range(1, 10_000))


def call(at: datetime | str, outcome: str, *, number: str = N8, caller: str | None = None, wait: float = 5.0,
         talk: float = 0.0, tenant: str = "acme", **extra: Any) -> FinishedCall:
    start = at if isinstance(at, datetime) else datetime.fromisoformat(at).replace(tzinfo=AMSTERDAM)
    n = next(_seq)
    answered = start + timedelta(seconds=wait) if talk else None
    return FinishedCall(
        call_id=f"call-{n}", number=number, tenant=tenant,
        caller=f"+313012{n:05d}" if caller is None else caller, started_at=start, answered_at=answered,
        ended_at=start + timedelta(seconds=wait + talk), routing="main", destination=None,
        outcome=Outcome(outcome), reason=extra.pop("reason", None), wait_s=wait, talk_s=talk, dial_status="",
        end_observed=True, **extra)


def first_batch() -> list[FinishedCall]:
    autumn = [call(datetime(2026, 10, 25, 2, 30, fold=0, tzinfo=AMSTERDAM), "answered", caller="+31101234567",
                   talk=60),
              call(datetime(2026, 10, 25, 2, 30, fold=1, tzinfo=AMSTERDAM), "answered", caller="+31201234567",
                   talk=60)]
    spring = [call("2026-03-29T01:30", "busy", caller="+31612345678", reason="destination"),
              call("2026-03-29T03:30", "no_answer", caller="+31612345678")]
    boundary = [call("2026-10-31T23:59:30", "answered", caller="+3221234567", wait=2, talk=30),
                call("2026-11-01T00:00:00", "unreachable", caller="+31101234567")]
    repeat = [call(f"2026-11-10T{9 + m // 60:02d}:{m % 60:02d}", "answered", caller=REPEAT, wait=3, talk=20)
              for m in range(0, 70, 10)]
    queue = [call("2026-11-10T11:00", "answered", wait=12, talk=100, queue="sales", queue_result="answered",
                  queue_wait_s=10.0, agent="ann", agent_wrapup_s=15.0),
             call("2026-11-10T11:05", "answered", wait=27, talk=50, queue="sales", queue_result="answered",
                  queue_wait_s=25.0, agent="bob"),
             call("2026-11-10T11:10", "abandoned", wait=3, queue="sales", queue_result="abandoned", queue_wait_s=3.0),
             call("2026-11-10T11:15", "abandoned", wait=30, queue="sales", queue_result="abandoned",
                  queue_wait_s=30.0),
             call("2026-11-10T11:20", "no_answer", wait=1, queue="sales", queue_result="full", queue_wait_s=0.0)]
    blocked = [call("2026-11-10T12:00", "blocked", caller="", wait=0, reason="anonymous"),
               call("2026-11-10T12:01", "blocked", caller="+31612345679", wait=0, reason="blacklist")]
    money = [call("2026-11-10T13:00", "answered", number=N9, caller="+31101234568", wait=4, talk=90),
             call("2026-11-10T13:10", "max_duration", number=N9, caller="+31101234569", talk=600,
                  reason="limit"),
             call("2026-11-10T13:20", "no_answer", number=N9, caller="+31101234570")]
    menu = [call("2026-11-10T15:00", "answered", talk=30, flow="ivr",
                 path=(("menu", "1"), ("dial +31205550001", "answer"))),
            call("2026-11-10T15:01", "abandoned", flow="ivr", path=(("menu", "1"),)),
            call("2026-11-10T15:02", "answered", talk=30, flow="ivr", path=(("menu", "timeout"), ("menu", "2")))]
    overlap = [call(f"2026-11-10T16:0{m // 60}:{m % 60:02d}", "answered", wait=0, talk=60) for m in (0, 10, 20, 60)]
    beta = [call("2026-11-10T12:00", "answered", number=BETA, tenant="beta", caller=REPEAT, talk=10)]
    return [*autumn, *spring, *boundary, *repeat, *queue, *blocked, *money, *menu, *overlap, *beta]


def second_batch() -> list[FinishedCall]:
    """After the 0900 number's per-call tariff went from 0.50 to 1.00."""
    return [call("2026-11-10T14:00", "answered", number=N9, caller="+31101234571", talk=60)]


def local(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=AMSTERDAM)


def load(engine: Any) -> None:
    save_plan(engine, acme_plan("0.50"))
    save_plan(engine, beta_plan())
    store_batch(engine, first_batch(), KEY)
    save_plan(engine, acme_plan("1.00"))
    store_batch(engine, second_batch(), KEY)
    # Agents' pauses: ann 10 minutes on the 10th; bob's crosses midnight (10 minutes on the 10th).
    call_records.save_pause(engine, "acme", "ann", local("2026-11-10T11:30"), local("2026-11-10T11:40"), "lunch")
    call_records.save_pause(engine, "acme", "bob", local("2026-11-09T23:50"), local("2026-11-10T00:10"), "")
    call_records.save_pause(engine, "beta", "ann", local("2026-11-10T11:00"), local("2026-11-10T12:00"), "")
