"""Plan → IR. Pure: sounds are resolved by a mapping the caller passes in."""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable, Mapping
from datetime import date

from orchestrator.domain.fields import queue_ref
from orchestrator.domain.flow_ir import flow_context
from orchestrator.domain.ir import (
    BlockCheck,
    BlockReason,
    Busy,
    CallCentreStep,
    ConcurrencyLimit,
    Dial,
    FlowEntry,
    Hangup,
    Node,
    NumberFlow,
    Play,
    RegionSwitch,
    Reject,
    Split,
    Switch,
    TimeSlot,
    WeekRoster,
)
from orchestrator.domain.naming import blacklist_family, split_family
from orchestrator.domain.numbers import ServiceNumberId, dutch_mobile_prefixes, parse_service_number
from orchestrator.domain.plan import WEEKDAYS, RecordingPolicy, ServiceNumberPlan, TenantPlan, minutes
from orchestrator.domain.regions import region_prefixes
from orchestrator.domain.rules import ACTIVE, REGIONS, call_limit

# Built-in announcements: Asterisk core sounds until Dutch prompts are generated.
BUILTIN_SOUNDS: dict[str, str] = {
    "default-rejection": "ss-noservice",
    "default-final": "vm-goodbye",
    "default-whisper": "beep",
}


def holiday_dates(around: date, years_back: int = 2, years_ahead: int = 10) -> frozenset[str]:
    """Public holidays (YYYYMMDD) from a few years back to a decade ahead of ``around``."""
    return _holidays(around.year - years_back, around.year + years_ahead)


@functools.lru_cache(maxsize=8)
def _holidays(first: int, last: int) -> frozenset[str]:
    """The calendar is the same all year (~5 ms each apply otherwise)."""
    from orchestrator.domain.calendar_nl import dutch_holidays

    days = dutch_holidays(first, last)
    return frozenset(d.strftime("%Y%m%d") for d in days)


# 112 (emergency) and 113 (suicide prevention, also 0800-0113) are never recorded (seed 2.3.7.4).
# Destinations are checked here; callers in the dialplan (number.conf.j2, the Dial node).
NEVER_RECORDED = frozenset({"+112", "+113", "+31112", "+31113", "+318000113"})


def tariff_sound_key(e164: str) -> str:
    """Key under which the apply passes a number's generated tariff prompt in ``sounds``."""
    return f"@tariff/{e164}"


class _Targets:
    """Node ids of a number's named parts: routings ``r<i>d1``, rosters ``ro<i>``, splits ``sp<i>``."""

    def __init__(self, n: ServiceNumberPlan) -> None:
        self.routing = {name: i + 1 for i, name in enumerate(n.routings)}
        self.roster = {name: i + 1 for i, name in enumerate(n.rosters)}
        self.split = {name: i + 1 for i, name in enumerate(n.splits)}

    def node_of(self, target: str) -> str:
        """A plan target name → the id of its first node."""
        if target == ACTIVE:
            return "schedule"
        if target == REGIONS:
            return "regions"
        if target in self.roster:
            return f"ro{self.roster[target]}"
        if target in self.split:
            return f"sp{self.split[target]}"
        return f"r{self.routing[target]}d1"


def _active_checks(n: ServiceNumberPlan, premium_rate: bool) -> list[BlockReason]:
    """The caller checks this number runs, in order."""
    # 090x: foreign callers are blocked unless the number opts in (no tariff is paid from abroad).
    block_foreign = n.blocking.foreign or (premium_rate and not n.allow_foreign)
    checks = [
        (BlockReason.ANONYMOUS, n.blocking.anonymous),
        (BlockReason.BLACKLIST, True),  # live list in AstDB; empty list = nobody blocked
        (BlockReason.FOREIGN, block_foreign),
        (BlockReason.MOBILE, n.blocking.mobile),
    ]
    return [reason for reason, on in checks if on]


def _entry_chain(n: ServiceNumberPlan, targets: _Targets) -> list[str]:
    """Ids of the steps every call passes after the caller checks, in order."""
    chain: list[str] = []
    if n.max_concurrent_calls is not None:
        chain.append("limit")
    if n.tariff is not None:
        chain.append("tariff")  # the law wants the tariff heard before anything else is charged
    if n.announcements.welcome:
        chain.append("welcome")
    if n.flow is not None:
        chain.append("flow")
    else:
        chain.append(targets.node_of(n.start or (REGIONS if n.regions is not None else ACTIVE)))
    return chain


def _entry_nodes(n: ServiceNumberPlan, number: ServiceNumberId, full_chain: list[str],
                 active_checks: list[BlockReason], sounds: Mapping[str, str],
                 sound: Callable[[str], str]) -> list[Node]:
    """Caller checks, rejection, concurrency limit, tariff and welcome announcements."""
    nodes: list[Node] = []
    block_ids = full_chain[:len(active_checks)]
    reject_sound = sound(n.blocking.message or "default-rejection")
    for i, reason in enumerate(active_checks):
        nodes.append(BlockCheck(block_ids[i], reason, blocked="rejected", next=full_chain[i + 1]))
    nodes.append(Reject("rejected", reject_sound))

    if n.max_concurrent_calls is not None:
        after = full_chain[full_chain.index("limit") + 1]
        nodes.append(ConcurrencyLimit("limit", n.max_concurrent_calls, next=after, over="busy"))
        nodes.append(Busy("busy"))
    if n.tariff is not None:
        after = full_chain[full_chain.index("tariff") + 1]
        own = n.tariff.announcement
        prompt = sound(own) if own else sounds.get(tariff_sound_key(number.e164), f"tariff-{number.digits}")
        nodes.append(Play("tariff", prompt, "tariff", next=after))
    if n.announcements.welcome:
        after = full_chain[full_chain.index("welcome") + 1]
        nodes.append(Play("welcome", sound(n.announcements.welcome), "welcome", next=after))
    return nodes


def _region_and_roster_nodes(n: ServiceNumberPlan, targets: _Targets) -> list[Node]:
    """The region switch (if any) and one week roster per roster."""
    node_of = targets.node_of
    nodes: list[Node] = []
    if n.regions is not None:
        nodes.append(RegionSwitch(
            "regions",
            exits=tuple((e.name, tuple(p for a in e.areas for p in region_prefixes(a)), node_of(e.to))
                        for e in n.regions.exits),
            other=node_of(n.regions.other),
        ))
    for name, roster in n.rosters.items():
        slots = tuple(
            TimeSlot(WEEKDAYS.index(day) + 1, minutes(tr.start), minutes(tr.end), tr.exit,
                     node_of(roster.exits[tr.exit]))
            for day, ranges in sorted(roster.week.items(), key=lambda kv: WEEKDAYS.index(kv[0]))
            for tr in sorted(ranges, key=lambda tr: minutes(tr.start))
        )
        nodes.append(WeekRoster(
            f"ro{targets.roster[name]}", name, slots, roster.outside, node_of(roster.exits[roster.outside]),
            node_of(roster.holiday), roster.public_holidays,
            tuple(sorted(d.strftime("%Y%m%d") for d in roster.closed_dates)),
        ))
    return nodes


def _split_nodes(n: ServiceNumberPlan, number: ServiceNumberId, targets: _Targets) -> list[Node]:
    nodes: list[Node] = []
    for name, shares in n.splits.items():
        sid = f"sp{targets.split[name]}"
        weights = ",".join(str(sh.percent) for sh in shares)
        tag = hashlib.sha1(weights.encode()).hexdigest()[:8]  # new weights → fresh counters
        nodes.append(Split(sid, name, tuple((sh.percent, targets.node_of(sh.to)) for sh in shares),
                           split_family(number.digits, f"{sid}-{tag}")))
    return nodes


def _schedule_node(n: ServiceNumberPlan, targets: _Targets) -> Switch:
    """The switch between routings: the active one, then the scheduled switch moments."""
    first_of = {name: f"r{targets.routing[name]}d1" for name in n.routings}
    assert n.active is not None  # the rules require it for numbers without a flow
    moments = tuple(sorted((s.epoch, first_of[s.routing]) for s in n.switches))
    return Switch(
        "schedule",
        default=first_of[n.active],
        moments=moments,
        routing_names={first_of[name]: name for name in n.routings},
    )


def _routing_nodes(n: ServiceNumberPlan, targets: _Targets, sound: Callable[[str], str],
                   limit: int | None, warning: int | None) -> list[Node]:
    """Each routing's destinations in turn, then the final announcement and the end."""
    nodes: list[Node] = []
    end = "final" if n.announcements.final else "end"
    whisper = sound(n.announcements.whisper) if n.announcements.whisper else None
    policy = n.recording.policy
    recording = None if policy is RecordingPolicy.NEVER else policy.value
    announce = sound(n.recording.announce) if n.recording.announce and recording else None
    for name, dests in n.routings.items():
        r = targets.routing[name]
        for j, d in enumerate(dests, start=1):
            failed = f"r{r}d{j + 1}" if j < len(dests) else end
            ref = queue_ref(d.number)
            if ref is not None:
                nodes.append(CallCentreStep(f"r{r}d{j}", name, ref[0], ref[1], ref[2] or "", failed))
                continue
            rec = None if d.number in NEVER_RECORDED else recording
            nodes.append(Dial(f"r{r}d{j}", name, d.number, d.ring_time, whisper, failed, limit, warning,
                              rec, announce if rec else None))
    if n.announcements.final:
        nodes.append(Play("final", sound(n.announcements.final), "final", next="end"))
    nodes.append(Hangup("end", "unanswered"))
    return nodes


def compile_number(n: ServiceNumberPlan, tenant: str, sounds: Mapping[str, str],
                   holidays: frozenset[str] = frozenset()) -> NumberFlow:
    """Build the step graph. ``sounds`` maps announcement names to what Playback takes;
    ``holidays`` are the public holiday dates rosters use (see ``holiday_dates``)."""

    def sound(name: str) -> str:
        return sounds.get(name) or BUILTIN_SOUNDS[name]

    number = parse_service_number(n.number)
    targets = _Targets(n)
    active_checks = _active_checks(n, number.kind.is_premium_rate)
    full_chain = [f"blk{reason.value}" for reason in active_checks] + _entry_chain(n, targets)
    nodes = _entry_nodes(n, number, full_chain, active_checks, sounds, sound)

    limit = call_limit(n)
    warning = n.tariff.warning_before if (n.tariff and limit) else None
    if n.flow is not None:
        nodes.append(FlowEntry("flow", n.flow, flow_context(tenant, n.flow), "start", limit, warning))
        return NumberFlow(number=number, tenant=tenant, package=n.package, entry=full_chain[0],
                          nodes={node.id: node for node in nodes}, blacklist_family=blacklist_family(number.e164),
                          mobile_prefixes=dutch_mobile_prefixes())
    nodes += _region_and_roster_nodes(n, targets)
    nodes += _split_nodes(n, number, targets)
    nodes.append(_schedule_node(n, targets))
    nodes += _routing_nodes(n, targets, sound, limit, warning)

    return NumberFlow(
        number=number,
        tenant=tenant,
        package=n.package,
        entry=full_chain[0],
        nodes={node.id: node for node in nodes},
        blacklist_family=blacklist_family(number.e164),
        mobile_prefixes=dutch_mobile_prefixes(),
        holidays=holidays if n.rosters else frozenset(),
    )


def compile_plan(plan: TenantPlan, sounds: Mapping[str, str],
                 holidays: frozenset[str] = frozenset()) -> list[NumberFlow]:
    return [compile_number(n, plan.tenant, sounds, holidays) for n in plan.numbers]
