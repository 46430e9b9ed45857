"""Call centres in the plan: tier limits, references, loops, and what is generated from them."""

from __future__ import annotations

from typing import Any

import pytest

from orchestrator.domain.compile import compile_plan
from orchestrator.domain.compile_queues import compile_call_centre
from orchestrator.domain.plan import parse_plan
from orchestrator.domain.queue_rules import TIER_MAX_WAITING
from orchestrator.domain.queues import Tier
from orchestrator.domain.rules import check_plan
from orchestrator.domain.simulate import CallScenario, simulate
from orchestrator.errors import PlanInvalid
from orchestrator.generate.render import render_call_centres, render_dialplan
from tests.plans import NOW


def plan(**extra: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "tenant": "acme",
        "agents": {"ann": {"number": "020 111 0001", "skills": {"billing": 3}},
                   "bob": {"number": "020 111 0002", "wrapup": 10},
                   "cat": {"endpoint": "cat-desk", "skills": {"billing": 9}}},
        "queues": {"support": {"agents": ["ann", "bob", "cat"], "strategy": "fixed"}},
        "numbers": [{"number": "0800 1234567", "routings": {"main": [{"number": "queue:support/billing"},
                                                                     {"number": "020 555 0001"}]},
                     "active": "main"}],
    }
    base.update(extra)
    return base


def errors(data: dict[str, Any]) -> dict[str, str]:
    return {v.field: v.rule for v in check_plan(parse_plan(data), NOW)}


def test_valid_plan_has_no_violations() -> None:
    assert errors(plan()) == {}


def test_tier_maxima_are_25_50_525() -> None:
    assert TIER_MAX_WAITING == {Tier.BASIC: 25, Tier.STANDARD: 50, Tier.PREMIUM: 525}
    for tier, limit in TIER_MAX_WAITING.items():
        ok = plan(queues={"q": {"agents": ["ann"], "tier": tier.value, "max_waiting": limit}}, numbers=[])
        assert errors(ok) == {}
        too_many = plan(queues={"q": {"agents": ["ann"], "tier": tier.value, "max_waiting": limit + 1}},
                        numbers=[])
        assert errors(too_many) == {
            "queues.q.max_waiting": f"the {tier.value} tier allows at most {limit} waiting callers, "
                                    f"this asks for {limit + 1}"}


def test_default_max_waiting_is_the_tier_maximum() -> None:
    cc = compile_call_centre(parse_plan(plan(queues={"q": {"agents": ["ann"], "tier": "standard"}})), {})
    assert cc.queues[0].max_waiting == 50
    assert "maxlen = 50" in render_call_centres([cc])[1]["queues.inc"]


def test_references_and_loops_are_reported() -> None:
    bad = plan(queues={
        "a": {"agents": ["ann", "zed"], "full": "queue:b", "timeout": "hunt:nope"},
        "b": {"agents": ["bob"], "timeout": "queue:a"},
    }, numbers=[{"number": "0800 1234567", "routings": {"main": [{"number": "queue:a/cooking"}]},
                 "active": "main"}])
    e = errors(bad)
    assert e["queues.a.agents[1]"] == "agent 'zed' is not defined in this plan"
    assert e["queues.a.timeout"] == "hunt 'nope' is not defined in this plan"
    assert "skill 'cooking'" in e["numbers[0].routings.main[0].number"]
    assert e["queues.a"] == e["queues.b"] == "its exits lead back to itself (a caller would loop)"


def test_night_service_on_a_queue_needs_premium() -> None:
    night = {"to": "020 555 0009", "week": {"mon": [{"start": "18:00", "end": "08:00"}]}}
    e = errors(plan(queues={"q": {"agents": ["ann"], "night": night}}, numbers=[]))
    assert e["queues.q.night"] == "night service on a queue is in the premium tier, not basic"
    assert e["queues.q.night.week.mon[0]"] == "starts at 18:00, not before its end 08:00"
    hunt = plan(hunt_groups={"h": {"agents": ["ann"], "night": {"to": "020 555 0009"}}}, numbers=[])
    assert errors(hunt) == {}  # hunt groups have night service in every package


def test_agent_needs_number_or_endpoint_and_sane_skills() -> None:
    e = errors(plan(agents={"ann": {"skills": {"billing": 11}}}, queues={}, numbers=[]))
    assert e == {"agents.ann": "give exactly one of 'number' or 'endpoint'",
                 "agents.ann.skills.billing": "levels run from 1 to 10, not 11"}
    with pytest.raises(PlanInvalid):
        parse_plan(plan(numbers=[{"number": "0800 1234567", "routings": {"main": [{"number": "hunt:h/x"}]},
                                  "active": "main"}]))


def test_generated_queues_strategies_skills_and_wrapup() -> None:
    p = parse_plan(plan(queues={s: {"agents": ["ann", "bob", "cat"], "strategy": s}
                                for s in ("ringall", "fixed", "circular", "uniform")}))
    text = render_call_centres([compile_call_centre(p, {})])[1]["queues.inc"]
    for name, strategy in (("ringall", "ringall"), ("fixed", "linear"), ("circular", "rrmemory"),
                           ("uniform", "fewestcalls")):
        section = text.split(f"[acme.{name}]")[1].split("\n[")[0]
        assert f"strategy = {strategy}" in section
    skill = text.split("[acme.fixed.billing]")[1].split("\n[")[0]
    members = [line for line in skill.splitlines() if line.startswith("member")]
    # Only skilled agents, the best first (penalty 10 - level); bob's wrap-up is per member.
    assert members == ["member => Local/cat@svca-acme,1,cat,PJSIP/acme.cat-desk,no,0",
                       "member => Local/ann@svca-acme,7,ann,,no,0"]
    assert "member => Local/bob@svca-acme,0,bob,,no,10" in text


def test_routing_to_a_queue_in_dialplan_and_simulator() -> None:
    p = parse_plan(plan())
    flow = compile_plan(p, {})[0]
    text = render_dialplan([flow])["n-318001234567.conf"]
    assert "Gosub(svcq-acme,support,1(billing))" in text
    result = simulate(flow, CallScenario(caller="0201234567", at=NOW))
    assert (result.outcome, result.reason) == ("queue", "support")
    dialplan, _config = render_call_centres([compile_call_centre(p, {})])
    assert set(dialplan) == {"cc-acme.conf", "agentcodes.conf"}
    assert "SVC_CALLER" not in dialplan["agentcodes.conf"]  # no agent code trusts a caller ID


def test_tenant_without_call_centres_generates_nothing_new() -> None:
    p = parse_plan(plan(agents={}, queues={}, numbers=[]))
    dialplan, config = render_call_centres([compile_call_centre(p, {})])
    assert dialplan == {}
    assert "[" not in config["queues.inc"]


def test_plan_diff_names_call_centre_changes() -> None:
    from orchestrator.domain.diff import diff_plans, render_changes

    changed = plan()
    changed["queues"]["support"]["strategy"] = "circular"
    changed["agents"]["dan"] = {"number": "020 111 0009"}
    del changed["agents"]["bob"]
    changed["queues"]["support"]["agents"] = ["ann", "cat"]
    text = render_changes(diff_plans(parse_plan(plan()), parse_plan(changed)))
    assert text.splitlines() == ["agent dan added", "agent bob removed", "queue support changed"]


def test_waiting_announcements_and_music_generated() -> None:
    p = parse_plan(plan(announcements={"hold": {"sound": "queue-periodic-announce"},
                                       "tune": {"file": "tune.wav"}},
                        queues={"q": {"agents": ["ann"], "announce_position": True, "announce_every": 45,
                                      "comfort": "hold", "comfort_every": 20, "music": "tune",
                                      "welcome": "hold", "max_wait": 120}}, numbers=[]))
    cc = compile_call_centre(p, {"hold": "queue-periodic-announce", "tune": "/srv/sounds/acme/tune"})
    dialplan, config = render_call_centres([cc])
    section = config["queues.inc"].split("[acme.q]")[1]
    for line in ("announce-position = yes", "announce-holdtime = no", "announce-frequency = 45",
                 "periodic-announce = queue-periodic-announce", "periodic-announce-frequency = 20",
                 "musicclass = svc-acme-tune"):
        assert line in section
    assert "[svc-acme-tune]\nmode = playlist\nentry = /srv/sounds/acme/tune\n" in config["moh.inc"]
    flow = dialplan["cc-acme.conf"]
    assert flow.index("Answer()") < flow.index("Playback(queue-periodic-announce)") < flow.index(",120)")


def test_move_target_is_checked_against_the_plan() -> None:
    from orchestrator.errors import NotFound
    from orchestrator.services.callcentre.supervisor import move_target

    p = parse_plan(plan())
    assert move_target(p, "support") == ("support", "")
    assert move_target(p, "support/billing") == ("support", "billing")
    with pytest.raises(NotFound, match="no queue 'sales'"):
        move_target(p, "sales/billing")
    with pytest.raises(NotFound, match="no agent with skill 'french'"):
        move_target(p, "support/french")
    with pytest.raises(NotFound, match="no agent with skill"):
        move_target(p, "support/billing,1")  # caller-style junk never reaches the Redirect


def test_supervisor_rings_a_number_or_the_tenants_own_phone() -> None:
    from orchestrator.errors import NumberInvalid
    from orchestrator.services.callcentre.supervisor import supervisor_channel

    p = parse_plan(plan())
    assert supervisor_channel(p, "cat-desk") == "PJSIP/acme.cat-desk"  # the agent phone of this tenant
    assert supervisor_channel(p, "020 555 0001") == "PJSIP/+31205550001@carrier"
    for bad in ("0906 1234567", "112", "other.cat-desk", "PJSIP/carrier", "bob-desk"):
        with pytest.raises(NumberInvalid, match="agent phones"):
            supervisor_channel(p, bad)


def test_agent_pause_reason_is_checked() -> None:
    """A reason lands in AstDB and, after a restart, in PauseQueueMember's arguments."""
    from orchestrator.services.callcentre.control import check_reason

    assert check_reason("lunch break_2") == "lunch break_2"
    for bad in ("lunch,break", "a" * 41, "x)", "${EXTEN}"):
        with pytest.raises(PlanInvalid, match="reason"):
            check_reason(bad)
