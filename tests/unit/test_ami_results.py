"""The typed AMI answers (parsed once, in the adapter), the one agent-state rule, and the one
owner of the live figures' Redis format (written and read back)."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

from orchestrator.asterisk.ami_results import QueueMember, channels, queue_status
from orchestrator.domain.agent_state import combined_state, member_state
from orchestrator.live.calls import DayCounters
from orchestrator.live.notifier import day_fields, parse_published
from orchestrator.live.queue_figures import QueueBook
from orchestrator.services.callcentre.control import states_of
from orchestrator.services.callcentre.supervisor import waiting_of

# As Asterisk 22 answers QueueStatus (fields trimmed to those we read, plus a few we do not).
STATUS = [
    {"Response": "Success", "Message": "Queue status will follow"},
    {"Event": "QueueParams", "Queue": "acme.desk", "Max": "0"},
    {"Event": "QueueMember", "Queue": "acme.desk", "Name": "ann", "Location": "Local/ann@svca-acme",
     "StateInterface": "PJSIP/acme.ann", "InCall": "0", "Status": "1", "Paused": "1", "PausedReason": "lunch",
     "LastCall": "0", "Wrapuptime": "0"},
    {"Event": "QueueMember", "Queue": "acme.desk.billing", "Name": "bob", "Location": "Local/bob@svca-acme",
     "InCall": "0", "Status": "6", "Paused": "0", "PausedReason": "", "LastCall": "1000", "Wrapuptime": "30"},
    {"Event": "QueueMember", "Queue": "acme.desk", "Name": "bob", "Location": "Local/bob@svca-acme",
     "InCall": "0", "Status": "1", "Paused": "0", "LastCall": "1000", "Wrapuptime": "30"},
    {"Event": "QueueMember", "Queue": "globex.sales", "Name": "cat", "InCall": "1", "Status": "2", "Paused": "0"},
    {"Event": "QueueEntry", "Queue": "acme.desk.billing", "Position": "1", "Channel": "PJSIP/carrier-01",
     "CallerIDNum": "+31201234567", "Wait": "12", "Priority": "3"},
    {"Event": "QueueStatusComplete", "EventList": "Complete"},
]


def test_queue_status_is_parsed_into_members_and_entries_per_tenant() -> None:
    status = queue_status(STATUS)
    assert [(m.queue, m.name) for m in status.members] == [
        ("acme.desk", "ann"), ("acme.desk.billing", "bob"), ("acme.desk", "bob"), ("globex.sales", "cat")]
    ann = status.members[0]
    assert (ann.paused, ann.reason, ann.interface, ann.status) == (True, "lunch", "PJSIP/acme.ann", 1)
    acme = status.of_tenant("acme")
    assert {m.name for m in acme.members} == {"ann", "bob"} and len(acme.entries) == 1
    [entry] = acme.entries
    assert (entry.channel, entry.caller, entry.position, entry.wait, entry.priority) == (
        "PJSIP/carrier-01", "+31201234567", 1, 12, 3)
    assert status.of_tenant("acm").members == ()  # a prefix of another tenant is not that tenant


def test_one_rule_for_an_agents_state() -> None:
    def member(**kw: object) -> QueueMember:
        base = {"Queue": "a.q", "Name": "x", "Paused": "0", "InCall": "0", "Status": "1"}
        return QueueMember.of({**base, **{k: str(v) for k, v in kw.items()}})

    assert member_state(member(Paused=1, PausedReason="logged-out"), 0) == "logged-out"
    assert member_state(member(Paused=1, PausedReason="training"), 0) == "unavailable"
    assert member_state(member(InCall=1), 0) == "busy"
    assert member_state(member(Status=6), 0) == "busy"  # ringing for a call: not free for the next
    assert member_state(member(LastCall=100, Wrapuptime=30), 129) == "wrap-up"
    assert member_state(member(LastCall=100, Wrapuptime=30), 130) == "available"
    assert member_state(member(LastCall=100, Wrapuptime=0), 101) == "available"
    assert combined_state(["available", "busy", "wrap-up"]) == "busy"
    assert combined_state(["busy", "unavailable"]) == "unavailable"
    assert combined_state([]) == "available"


def test_agent_list_and_live_figures_classify_alike() -> None:
    status = queue_status(STATUS)
    states = {s.agent: s for s in states_of(status.of_tenant("acme").members, now=1010)}
    assert (states["ann"].state, states["ann"].reason, states["ann"].queues) == ("unavailable", "lunch", ("desk",))
    assert (states["bob"].state, states["bob"].queues) == ("busy", ("desk",))  # ringing in the skill queue
    book = QueueBook().reseeded(status, now=1010)
    desk = book.snapshot(1010)["acme.desk"]
    assert (desk["agents_unavailable"], desk["agents_busy"], desk["waiting"]) == (1, 1, 1)
    assert desk["longest_wait_s"] == 12.0
    assert book.snapshot(1010)["globex.sales"]["agents_busy"] == 1


def test_waiting_callers_by_queue_and_skill() -> None:
    [w] = waiting_of(queue_status(STATUS).of_tenant("acme").entries)
    assert (w.queue, w.skill, w.channel, w.wait, w.priority) == ("desk", "billing", "PJSIP/carrier-01", 12, 3)


def test_core_show_channels_is_parsed() -> None:
    [c] = channels([{"Response": "Success"},
                    {"Event": "CoreShowChannel", "Channel": "PJSIP/carrier-0001", "Uniqueid": "17.1",
                     "Linkedid": "17.1", "Context": "svc-n-31800", "Exten": "s", "Duration": "01:02:03",
                     "BridgeId": "b1"},
                    {"Event": "CoreShowChannelsComplete"}])
    assert (c.uniqueid, c.name, c.context, c.bridged) == ("17.1", "PJSIP/carrier-0001", "svc-n-31800", True)
    assert c.up_for == timedelta(hours=1, minutes=2, seconds=3)


def test_live_figures_written_and_read_back_in_one_format() -> None:
    day = DayCounters(date(2026, 3, 2))
    day.total.update({"answered": 3, "busy": 1})
    day.by_number.update(Counter({("answered", "+31800000001"): 3, ("busy", "+31800000002"): 1}))
    day.by_tenant.update(Counter({("answered", "acme"): 3, ("busy", "globex"): 1}))
    raw = {"number": {"+31800000001": "2"}, "tenant": {"acme": "2"},
           "day": {k: str(v) for k, v in day_fields(day).items()}, "meta": {"updated_at": "1767225600.5"},
           "queue:acme.desk": {"waiting": "1"}}
    f = parse_published(raw)
    assert f.today == {"answered": 3, "busy": 1}
    assert f.today_by_number == {"+31800000001": {"answered": 3}, "+31800000002": {"busy": 1}}
    assert f.today_by_tenant == {"acme": {"answered": 3}, "globex": {"busy": 1}}
    assert (f.in_progress_by_number, f.in_progress_by_tenant) == ({"+31800000001": 2}, {"acme": 2})
    assert f.queues == {"acme.desk": {"waiting": "1"}} and f.updated_at == 1767225600.5
    assert parse_published({"meta": {"updated_at": ""}}).updated_at is None
