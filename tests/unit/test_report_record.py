"""What the live controller puts in a call record for reports: the queue (wait, agent, result),
the flow path, the caller's hash and origin, the 090x revenue at the tariff given. Pure parts."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from orchestrator.domain.callers import caller_hash, origin_of, tenant_key
from orchestrator.domain.tariffs import call_revenue_cents
from orchestrator.live import events as ev
from orchestrator.live.agent_pauses import PauseBook
from orchestrator.live.calls import CallBook, Outcome
from orchestrator.live.records import to_row
from tests.unit.test_live_calls import end, svc

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def run(book: CallBook, *messages: tuple[dict[str, Any], float]) -> list[Any]:
    done = []
    for msg, seconds in messages:
        event = ev.parse(msg, T0 + timedelta(seconds=seconds))
        assert event is not None, msg
        finished = book.apply(event)
        if finished is not None:
            done.append(finished)
    return done


def flow(block: str, exit_: str) -> dict[str, Any]:
    return {"Event": "UserEvent", "UserEvent": "SvcFlow", "Uniqueid": "1.1", "Channel": "c", "Number": "+318000000101",
            "Flow": "ivr", "Block": block, "Exit": exit_}


def test_queue_answer_flow_path_and_record() -> None:
    book = CallBook()
    [done] = run(book, (svc("start"), 0), (svc("flow", Flow="ivr"), 0), (flow("menu", "2"), 3),
                 (svc("queue", Queue="sales", Skill=""), 4),
                 ({"Event": "AgentConnect", "Uniqueid": "1.1", "Channel": "c", "Queue": "acme.sales.billing",
                   "MemberName": "ann", "HoldTime": "11"}, 15),
                 ({"Event": "DialEnd", "Uniqueid": "1.1", "Channel": "c", "DialStatus": "ANSWER",
                   "DestChannel": "PJSIP/x"}, 15), (end(status="ANSWER"), 75))
    assert (done.queue, done.queue_result, done.queue_wait_s, done.agent, done.flow) == ("sales", "answered", 11.0,
                                                                                         "ann", "ivr")
    assert done.path == (("menu", "2"),)
    row = to_row(done, "k", {})
    assert json.loads(row.path) == [["menu", "2"]] and row.origin == "020"
    assert row.caller_hash == caller_hash(tenant_key("k", "acme"), "+31201234567") and row.revenue_cents == 0


def test_queue_abandon_timeout_and_full() -> None:
    book = CallBook()
    [abandoned] = run(book, (svc("start"), 0), (svc("queue", Queue="sales"), 1),
                      ({"Event": "QueueCallerAbandon", "Uniqueid": "1.1", "Channel": "c", "Queue": "acme.sales",
                        "HoldTime": "3"}, 4), (end(), 4))
    assert (abandoned.outcome, abandoned.queue_result, abandoned.queue_wait_s) == (Outcome.ABANDONED, "abandoned", 3.0)
    [timeout] = run(book, (svc("start", uid="2.1"), 0), (svc("queue", uid="2.1", Queue="sales"), 1),
                    (svc("queued", uid="2.1", Queue="sales", Status="TIMEOUT"), 31),
                    (svc("queue-timeout", uid="2.1", Queue="sales"), 31), (end(uid="2.1"), 40))
    assert (timeout.queue_result, timeout.queue_wait_s) == ("timeout", 30.0)
    [full] = run(book, (svc("start", uid="3.1"), 0), (svc("queue", uid="3.1", Queue="sales"), 1),
                 (svc("queue-full", uid="3.1", Queue="sales"), 1), (end(uid="3.1"), 2))
    assert full.queue_result == "full"


def test_routing_steps_and_dial_results_are_on_the_path() -> None:
    book = CallBook()
    [done] = run(book, (svc("start"), 0), (svc("region", Exit="amsterdam"), 0),
                 (svc("roster", Roster="office", Exit="open"), 0), (svc("split", Split="ab", Exit="a"), 0),
                 (svc("dial", Routing="a", Destination="+31205550001"), 0),
                 (svc("dialed", Destination="+31205550001", Status="NOANSWER"), 20), (end(status="NOANSWER"), 20))
    assert done.path == (("region", "amsterdam"), ("roster office", "open"), ("split ab", "a"),
                         ("dial +31205550001", "noanswer"))


def test_revenue_and_origins() -> None:
    assert call_revenue_cents(Decimal("0.50"), Decimal("0.10"), 90.0) == 65
    assert call_revenue_cents(Decimal("1.00"), Decimal("0.80"), 61.0) == 181  # 100 + 81.33, half-up per call
    assert call_revenue_cents(None, Decimal("0.35"), 1.0) == 1  # 0.58 cent rounds up
    assert [origin_of(c) for c in ("", "+31612345678", "+31101234567", "+3221234567", "+31881234567")] == [
        "withheld", "mobile", "010", "BE", "NL"]
    assert caller_hash(tenant_key("k", "acme"), "") == ""
    assert caller_hash(tenant_key("k", "acme"), "+31201234567") != caller_hash(tenant_key("k", "beta"), "+31201234567")


def test_pause_book_one_pause_per_agent_across_its_queues() -> None:
    book = PauseBook()
    pause = {"Event": "QueueMemberPause", "MemberName": "ann", "Paused": "1", "PausedReason": "lunch"}
    assert book.handle({**pause, "Queue": "acme.sales"}, T0) is None
    assert book.handle({**pause, "Queue": "acme.sales.billing"}, T0 + timedelta(seconds=1)) is None  # same pause
    done = book.handle({**pause, "Queue": "acme.sales", "Paused": "0"}, T0 + timedelta(seconds=90))
    assert done is not None and (done.tenant, done.agent, done.reason) == ("acme", "ann", "lunch")
    assert (done.ended_at - done.started_at).total_seconds() == 90
    assert book.handle({**pause, "Queue": "acme.sales.billing", "Paused": "0"}, T0 + timedelta(seconds=91)) is None
    assert book.handle({**pause, "Queue": "nodot"}, T0) is None
