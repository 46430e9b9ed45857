"""Plan → call-centre IR (pure). Skills: app_queue has no skill routing, so every skill that a
queue's agents have gets its own Asterisk queue ``<tenant>.<queue>.<skill>`` holding only the
agents with that skill, the highest level first (penalty = 10 - level). A call that needs a
skill waits in that queue; other calls wait in the queue itself, where every agent is a member."""

from __future__ import annotations

from collections.abc import Mapping

from orchestrator.domain.fields import WEEKDAYS, minutes, queue_ref
from orchestrator.domain.ir_queues import (
    APP_QUEUE_STRATEGY,
    AgentLine,
    AsteriskQueue,
    CallCentre,
    Exit,
    HuntFlow,
    Member,
    MohClass,
    NightService,
    QueueFlow,
    agent_interface,
)
from orchestrator.domain.naming import agent_endpoint, asterisk_queue_name, night_family
from orchestrator.domain.plan import TenantPlan
from orchestrator.domain.queue_rules import MAX_SKILL_LEVEL, max_waiting
from orchestrator.domain.queues import Night, Queue


def to_exit(target: str | None) -> Exit:
    if target is None:
        return Exit("return")
    ref = queue_ref(target)
    if ref is None:
        return Exit("number", target)
    return Exit(ref[0], ref[1], ref[2] or "")


def _night(night: Night | None, key: str, tenant: str) -> NightService | None:
    if night is None:
        return None
    spans = tuple(sorted((WEEKDAYS.index(day) + 1, minutes(s.start), minutes(s.end))
                         for day, items in night.week.items() for s in items))
    return NightService(night_family(tenant), key, to_exit(night.to), spans)


def moh_class(tenant: str, announcement: str) -> str:
    return f"svc-{tenant}-{announcement}"


def compile_call_centre(plan: TenantPlan, sounds: Mapping[str, str], trunk: str = "carrier") -> CallCentre:
    """``sounds`` maps announcement names to what Playback takes (as for the numbers)."""
    t = plan.tenant
    phones = {name: agent_endpoint(t, a.endpoint) for name, a in plan.agents.items() if a.endpoint}
    agents = tuple(
        AgentLine(name, f"PJSIP/{a.number}@{trunk}" if a.number else f"PJSIP/{phones[name]}", a.number,
                  agent_interface(t, name), phones.get(name))
        for name, a in plan.agents.items())

    def member(name: str, penalty: int) -> Member:
        # A phone's device state (unregistered, busy) keeps app_queue from ringing it in vain.
        state = f"PJSIP/{phones[name]}" if name in phones else ""
        return Member(name, agent_interface(t, name), state, penalty, plan.agents[name].wrapup)

    queues: list[QueueFlow] = []
    moh: dict[str, MohClass] = {}
    for name, q in plan.queues.items():
        limit = max_waiting(q.tier, q.max_waiting)
        music = "default"
        if q.music is not None:
            music = moh_class(t, q.music)
            moh[music] = MohClass(music, (sounds[q.music],))

        def section(qname: str, members: tuple[Member, ...], q: Queue = q, limit: int = limit,
                    music: str = music) -> AsteriskQueue:
            return AsteriskQueue(
                qname, APP_QUEUE_STRATEGY[q.strategy.value], members, q.ring_time, limit, music,
                sounds[q.comfort] if q.comfort else None, q.comfort_every, q.announce_position,
                q.announce_holdtime, q.announce_every, q.service_level)

        sections = {"": section(asterisk_queue_name(t, name), tuple(member(a, 0) for a in q.agents))}
        skills = sorted({s for a in q.agents for s in plan.agents[a].skills})
        for skill in skills:
            # Highest level first; sorted() is stable, so the listed order breaks ties.
            skilled = sorted((a for a in q.agents if skill in plan.agents[a].skills),
                             key=lambda a, s=skill: -plan.agents[a].skills[s])  # type: ignore[misc]
            sections[skill] = section(asterisk_queue_name(t, name, skill),
                                      tuple(member(a, MAX_SKILL_LEVEL - plan.agents[a].skills[skill])
                                            for a in skilled))
        queues.append(QueueFlow(name, sections, q.max_wait, limit, sounds[q.welcome] if q.welcome else None,
                                to_exit(q.full), to_exit(q.timeout), _night(q.night, f"queue-{name}", t)))

    hunts = tuple(
        HuntFlow(name, h.strategy.value, tuple(h.agents), h.ring_time, to_exit(h.no_answer),
                 f"svc-hunt/{t}/{name}", _night(h.night, f"hunt-{name}", t))
        for name, h in plan.hunt_groups.items())
    return CallCentre(t, agents, tuple(queues), hunts, tuple(moh.values()))
