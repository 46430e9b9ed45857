"""Plan → IR. Pure: sounds are resolved by a mapping the caller passes in."""

from __future__ import annotations

from collections.abc import Mapping

from orchestrator.domain.ir import (
    BlockCheck,
    BlockReason,
    Busy,
    ConcurrencyLimit,
    Dial,
    Hangup,
    Node,
    NumberFlow,
    Play,
    Reject,
    Switch,
)
from orchestrator.domain.numbers import dutch_mobile_prefixes, parse_service_number
from orchestrator.domain.plan import ServiceNumberPlan, TenantPlan

# Built-in announcements: Asterisk core sounds until Dutch prompts are generated.
BUILTIN_SOUNDS: dict[str, str] = {
    "default-rejection": "ss-noservice",
    "default-final": "vm-goodbye",
    "default-whisper": "beep",
}


def blacklist_family(e164: str) -> str:
    return f"svc-bl/{e164.lstrip('+')}"


def compile_number(n: ServiceNumberPlan, tenant: str, sounds: Mapping[str, str]) -> NumberFlow:
    """Build the step graph. ``sounds`` maps announcement names to what Playback takes."""

    def sound(name: str) -> str:
        return sounds.get(name) or BUILTIN_SOUNDS[name]

    nodes: list[Node] = []
    chain: list[str] = []  # ids of the steps every call passes, in order

    checks = [
        (BlockReason.ANONYMOUS, n.blocking.anonymous),
        (BlockReason.BLACKLIST, True),  # live list in AstDB; empty list = nobody blocked
        (BlockReason.FOREIGN, n.blocking.foreign),
        (BlockReason.MOBILE, n.blocking.mobile),
    ]
    active_checks = [reason for reason, on in checks if on]
    if n.max_concurrent_calls is not None:
        chain.append("limit")
    if n.announcements.welcome:
        chain.append("welcome")
    chain.append("schedule")

    block_ids = [f"blk{reason.value}" for reason in active_checks]
    full_chain = block_ids + chain
    reject_sound = sound(n.blocking.message or "default-rejection")
    for i, reason in enumerate(active_checks):
        nodes.append(BlockCheck(block_ids[i], reason, blocked="rejected", next=full_chain[i + 1]))
    nodes.append(Reject("rejected", reject_sound))

    if n.max_concurrent_calls is not None:
        after = full_chain[full_chain.index("limit") + 1]
        nodes.append(ConcurrencyLimit("limit", n.max_concurrent_calls, next=after, over="busy"))
        nodes.append(Busy("busy"))
    if n.announcements.welcome:
        after = full_chain[full_chain.index("welcome") + 1]
        nodes.append(Play("welcome", sound(n.announcements.welcome), "welcome", next=after))

    routing_index = {name: i + 1 for i, name in enumerate(n.routings)}
    first_of = {name: f"r{routing_index[name]}d1" for name in n.routings}
    moments = tuple(sorted((s.epoch, first_of[s.routing]) for s in n.switches))
    nodes.append(Switch(
        "schedule",
        default=first_of[n.active],
        moments=moments,
        routing_names={first_of[name]: name for name in n.routings},
    ))

    end = "final" if n.announcements.final else "end"
    whisper = sound(n.announcements.whisper) if n.announcements.whisper else None
    for name, dests in n.routings.items():
        r = routing_index[name]
        for j, d in enumerate(dests, start=1):
            failed = f"r{r}d{j + 1}" if j < len(dests) else end
            nodes.append(Dial(f"r{r}d{j}", name, d.number, d.ring_time, whisper, failed))
    if n.announcements.final:
        nodes.append(Play("final", sound(n.announcements.final), "final", next="end"))
    nodes.append(Hangup("end", "unanswered"))

    number = parse_service_number(n.number)
    return NumberFlow(
        number=number,
        tenant=tenant,
        package=n.package,
        entry=full_chain[0],
        nodes={node.id: node for node in nodes},
        blacklist_family=blacklist_family(number.e164),
        mobile_prefixes=dutch_mobile_prefixes(),
    )


def compile_plan(plan: TenantPlan, sounds: Mapping[str, str]) -> list[NumberFlow]:
    return [compile_number(n, plan.tenant, sounds) for n in plan.numbers]
