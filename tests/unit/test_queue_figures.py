"""Live queue figures from app_queue's AMI events (field names as Asterisk 22 sends them)."""

from __future__ import annotations

from orchestrator.live.queue_figures import QueueBook


def test_waiting_answered_abandoned_service_level_and_agent_states() -> None:
    book = QueueBook({"cc.support": 20})
    ev = [
        ({"Event": "QueueMemberStatus", "Queue": "cc.support", "MemberName": "ann", "InCall": "0", "Paused": "0",
          "Wrapuptime": "30", "LastCall": "0"}, 0),
        ({"Event": "QueueMemberStatus", "Queue": "cc.support.billing", "MemberName": "bob", "InCall": "0",
          "Paused": "1", "PausedReason": "lunch"}, 0),
        ({"Event": "QueueMemberStatus", "Queue": "cc.support", "MemberName": "cat", "Paused": "1",
          "PausedReason": "logged-out"}, 0),
        ({"Event": "QueueCallerJoin", "Queue": "cc.support", "Channel": "PJSIP/a"}, 100),
        ({"Event": "QueueCallerJoin", "Queue": "cc.support.billing", "Channel": "PJSIP/b"}, 105),
        ({"Event": "QueueCallerJoin", "Queue": "cc.support", "Channel": "PJSIP/c"}, 106),
        ({"Event": "AgentConnect", "Queue": "cc.support", "Channel": "PJSIP/a", "MemberName": "ann",
          "HoldTime": "12"}, 112),
        ({"Event": "QueueCallerAbandon", "Queue": "cc.support", "Channel": "PJSIP/c", "HoldTime": "9"}, 115),
        ({"Event": "QueueMemberStatus", "Queue": "cc.support", "MemberName": "ann", "InCall": "1"}, 112),
    ]
    for e, at in ev:
        assert book.handle(e, at)
    assert not book.handle({"Event": "Newexten", "Queue": "x"}, 0)
    s = book.snapshot(120)["cc.support"]
    assert s["waiting"] == 1 and s["longest_wait_s"] == 15.0  # PJSIP/b since 105
    assert (s["answered"], s["abandoned"], s["service_level_pct"]) == (1, 1, 100.0)
    assert (s["agents_busy"], s["agents_unavailable"], s["agents_logged_out"]) == (1, 1, 1)
    # After the call: ann in wrap-up for 30 s from her last call, then available.
    book.handle({"Event": "QueueMemberStatus", "Queue": "cc.support", "MemberName": "ann", "InCall": "0",
                 "LastCall": "130"}, 130)
    assert book.snapshot(140)["cc.support"]["agents_wrap_up"] == 1
    assert book.snapshot(161)["cc.support"]["agents_available"] == 1
    book.handle({"Event": "AgentConnect", "Queue": "cc.support.billing", "Channel": "PJSIP/b",
                 "MemberName": "bob", "HoldTime": "40"}, 145)
    s = book.snapshot(150)["cc.support"]
    assert s["answered"] == 2 and s["service_level_pct"] == 50.0 and s["waiting"] == 0
