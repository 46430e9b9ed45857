"""The live controller's pure parts: AMI messages to call events, the call book, outcomes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from orchestrator.cli.live import format_status
from orchestrator.live import events as ev
from orchestrator.live.calls import CallBook, DayCounters, LiveCall, Outcome, counted
from orchestrator.live.notifier import day_fields, parse_published

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
NUM = "+318000000101"


def svc(step: str, uid: str = "1.1", **fields: Any) -> dict[str, Any]:
    return {"Event": "UserEvent", "UserEvent": "SvcCall", "Uniqueid": uid, "Linkedid": uid,
            "Channel": f"PJSIP/carrier-{uid}", "Number": NUM, "Tenant": "acme", "Caller": "+31201234567",
            "Step": step, **fields}


def run(book: CallBook, *messages: tuple[dict[str, Any], float]) -> list[Any]:
    out = []
    for msg, seconds in messages:
        event = ev.parse(msg, T0 + timedelta(seconds=seconds))
        assert event is not None, msg
        out.append(book.apply(event))
    return [f for f in out if f is not None]


def end(uid: str = "1.1", status: str = "") -> dict[str, Any]:
    return {"Event": "UserEvent", "UserEvent": "SvcEnd", "Uniqueid": uid, "Channel": "x", "Number": NUM,
            "DialStatus": status, "Node": "n1"}


def test_parse_ignores_other_events_and_unknown_numbers() -> None:
    assert ev.parse({"Event": "Newexten", "Uniqueid": "1"}, T0) is None
    assert ev.parse(svc("start", Number="unknown"), T0) is None
    assert ev.parse({"Event": "DialEnd", "Uniqueid": "1", "DialStatus": "BUSY"}, T0) is None
    # a destination leg's hangup is not the end of the call
    assert ev.parse({"Event": "Hangup", "Uniqueid": "2", "Linkedid": "1", "Cause": "16"}, T0) is None
    started = ev.parse(svc("start", Withheld="0"), T0)
    assert isinstance(started, ev.CallStarted) and started.tenant == "acme" and not started.withheld


def test_answered_call_record() -> None:
    book = CallBook()
    [done] = run(book, (svc("start"), 0), (svc("dial", Routing="main", Destination="+31205550011"), 1),
                 ({"Event": "DialEnd", "Uniqueid": "1.1", "Channel": "c", "DialStatus": "ANSWER",
                   "DestChannel": "PJSIP/carrier-2"}, 4), (end(status="ANSWER"), 34))
    assert done.outcome is Outcome.ANSWERED and done.destination == "+31205550011"
    assert done.wait_s == 4 and done.talk_s == 30 and done.answered_at == T0 + timedelta(seconds=4)
    assert book.calls == {}
    # the Hangup after SvcEnd does not bring the call back, nor a second record
    assert run(book, ({"Event": "Hangup", "Uniqueid": "1.1", "Linkedid": "1.1", "Channel": "c"}, 35)) == []


def test_waits_and_talk_times_follow_asterisks_clock_not_the_controllers_lag() -> None:
    # Asterisk stamps its events (Timestamp); its clock runs 3 days ahead here (as a faked clock in a
    # test would), and the controller reads the answer 0.5 s late and the end 6 s late (a slow
    # database): the times between events are Asterisk's, the anchor is the controller's clock.
    ast0 = (T0 + timedelta(days=3)).timestamp()
    book = CallBook()
    [done] = run(book, (svc("start", Timestamp=f"{ast0:.6f}"), 0),
                 ({"Event": "DialEnd", "Uniqueid": "1.1", "Channel": "c", "DialStatus": "ANSWER",
                   "DestChannel": "PJSIP/carrier-2", "Timestamp": f"{ast0 + 4:.6f}"}, 4.5),
                 (end(status="ANSWER") | {"Timestamp": f"{ast0 + 34.25:.6f}"}, 40.25))
    assert done.started_at == T0 and done.answered_at == T0 + timedelta(seconds=4)
    assert done.wait_s == 4 and done.talk_s == 30.25 and done.ended_at == T0 + timedelta(seconds=34.25)
    # no or a nonsensical stamp (before the start): the time received
    [late] = run(book, (svc("start", uid="2.2", Timestamp=f"{ast0:.6f}"), 50),
                 (end(uid="2.2") | {"Timestamp": "garbage"}, 53))
    assert late.wait_s == 3 and late.ended_at == T0 + timedelta(seconds=53)


def test_unanswered_outcomes_follow_the_last_dial_status() -> None:
    for status, outcome, reason in [("BUSY", Outcome.BUSY, "destination"), ("NOANSWER", Outcome.NO_ANSWER, None),
                                    ("CHANUNAVAIL", Outcome.UNREACHABLE, None), ("CANCEL", Outcome.ABANDONED, None)]:
        book = CallBook()
        [done] = run(book, (svc("start"), 0), (svc("dial", Routing="r", Destination="+31205550002"), 0),
                     (svc("dialed", Destination="+31205550002", Status=status), 5), (end(status=status), 6))
        assert (done.outcome, done.reason, done.wait_s) == (outcome, reason, 6)


def test_blocked_busy_and_abandoned_before_dialling() -> None:
    book = CallBook()
    [blocked] = run(book, (svc("start", "a"), 0), (svc("blocked", "a", Reason="anonymous"), 0), (end("a"), 3))
    [limit] = run(book, (svc("start", "b"), 0), (svc("busy", "b", Reason="limit"), 0), (end("b"), 0.1))
    [gone] = run(book, (svc("start", "c"), 0), (svc("play", "c", Purpose="welcome"), 0), (end("c"), 2))
    assert (blocked.outcome, blocked.reason) == (Outcome.BLOCKED, "anonymous")
    assert (limit.outcome, limit.reason) == (Outcome.BUSY, "limit")
    assert gone.outcome is Outcome.ABANDONED and gone.destination is None


def test_max_duration_by_the_dialplan_or_the_watchdog() -> None:
    book = CallBook()
    run(book, (svc("start"), 0), ({"Event": "DialEnd", "Uniqueid": "1.1", "Channel": "c", "DialStatus": "ANSWER"}, 10))
    book.calls["1.1"].max_duration = 60
    assert book.overdue(T0 + timedelta(seconds=71), 2.0) == []
    [late] = book.overdue(T0 + timedelta(seconds=72.5), 2.0)
    [done] = run(book, (end(status="ANSWER"), 70))
    assert (done.outcome, done.reason) == (Outcome.MAX_DURATION, "limit")
    late.cut_by_watchdog = True  # the same object: cut once
    assert book.overdue(T0 + timedelta(seconds=100), 2.0) == []


def test_vanished_and_adopted_calls() -> None:
    book = CallBook()
    run(book, (svc("start", "a"), 0), (svc("start", "b"), 0))
    [gone] = book.vanish(["a"], T0 + timedelta(seconds=9))
    assert not gone.end_observed and gone.outcome is Outcome.ABANDONED and set(book.calls) == {"b"}
    # a re-sync must not resurrect a call that just ended, nor adopt one twice
    assert not book.adopt(LiveCall("a", "c", NUM, "acme", "", T0))
    assert book.adopt(LiveCall("z", "c", NUM, "acme", "", T0)) and not book.adopt(LiveCall("z", "c", NUM, "", "", T0))
    # its start event arriving after the adoption merges instead of duplicating
    run(book, (svc("start", "z"), 1))
    by_number, by_tenant = book.in_progress()
    assert by_number == {NUM: 2} and by_tenant == {"acme": 2}


def test_a_call_counts_on_the_amsterdam_day_it_ended() -> None:
    """Across midnight (Amsterdam, not UTC) and a DST night: the day a call ended decides, as in
    the rebuild from the records, whatever the clock says when the end is handled."""
    def ended(at: datetime, uid: str) -> Any:
        start = at - timedelta(seconds=20)
        book = CallBook()
        [f] = [x for x in (book.apply(e) for e in (ev.parse(svc("start", uid), start), ev.parse(end(uid), at)))
               if x is not None]
        return f
    eve = datetime(2026, 12, 31, 22, 59, 59, tzinfo=UTC)  # 23:59:59 in Amsterdam
    day = counted(DayCounters(eve.date()), ended(eve, "a"))
    assert day.day.isoformat() == "2026-12-31" and sum(day.total.values()) == 1
    new_year = counted(day, ended(eve + timedelta(seconds=2), "b"))  # 00:00:01 on 1 January, still 2026 in UTC
    assert new_year.day.isoformat() == "2027-01-01" and sum(new_year.total.values()) == 1
    late = counted(new_year, ended(eve, "c"))  # an end from before midnight handled after it: not today's
    assert late is new_year and sum(late.total.values()) == 1
    # 25 October 2026: 00:30 Amsterdam is still 24 October 22:30 UTC (summer time)
    autumn = counted(DayCounters(datetime(2026, 10, 24).date()), ended(datetime(2026, 10, 24, 22, 30, tzinfo=UTC), "d"))
    assert autumn.day.isoformat() == "2026-10-25"


def test_day_counters_and_status_table() -> None:
    book, day = CallBook(), DayCounters(T0.date())
    for f in run(book, (svc("start", "a"), 0), (svc("blocked", "a", Reason="blacklist"), 0), (end("a"), 1)):
        day.add(f)
    assert day_fields(day) == {"blocked": 1, f"blocked:number:{NUM}": 1, "blocked:tenant:acme": 1}
    table = format_status(parse_published({"number": {NUM: "3"}, "tenant": {"acme": "3"},
                                           "day": {k: str(v) for k, v in day_fields(day).items()}, "meta": {}}),
                          "2026-03-02")
    row = next(line for line in table.splitlines() if line.startswith(NUM))
    assert row.split()[1:] == ["3", "0", "0", "0", "0", "1", "0", "0"]
