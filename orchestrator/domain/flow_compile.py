"""Flow (plan) -> CompiledFlow (IR). Pure: prompts are resolved by the ``sounds`` mapping the
caller passes in (announcement names, and ``text_sound_key(text)`` for generated speech).

The Standaard steps are reused as blocks: a region block compiles to the same RegionSwitch, a
split to the same Split (tickets from one AstDB counter, a precomputed share sequence), a time block's roster to
the same WeekRoster the numbers use.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping

from pydantic import BaseModel

from orchestrator.domain.fields import WEEKDAYS, minutes
from orchestrator.domain.flow import (
    HANGUP,
    DialParams,
    Flow,
    GotoParams,
    HuntParams,
    InputParams,
    MenuParams,
    PlayParams,
    Prompt,
    QueueParams,
    RegionParams,
    SetParams,
    SplitParams,
    TimeParams,
    parse_params,
)
from orchestrator.domain.flow_ir import (
    HANGUP_EXT,
    CompiledFlow,
    FCallCentre,
    FDial,
    FGoto,
    FHangup,
    FInput,
    FMenu,
    FNode,
    FPlay,
    FSet,
    FTime,
    ext,
    flow_context,
)
from orchestrator.domain.flow_rules import menu_parents
from orchestrator.domain.ir import RegionSwitch, Split, TimeSlot, WeekRoster
from orchestrator.domain.naming import split_family
from orchestrator.domain.regions import region_prefixes

BUILTIN_PROMPTS = {
    "default-rejection": "ss-noservice", "default-final": "vm-goodbye", "default-whisper": "beep",
    "default-invalid": "option-is-invalid",
}


def text_sound_key(text: str) -> str:
    """Key under which the apply passes the generated (espeak-ng) prompt of ``text``."""
    return f"@tts/{text}"


def list_family(tenant: str, name: str) -> str:
    """AstDB family of a tenant's digit list (one writer: services/flow_lists.py)."""
    return f"svc-list/{tenant}/{name}"


def digit_regex(pattern: str | None, min_digits: int, max_digits: int) -> str:
    """Anchored POSIX ERE for an input's digit pattern (lengths are checked apart: the braces of
    a bound would need escaping inside the dialplan)."""
    if pattern is None:
        return "^[0-9]+$"
    out = []
    for m in re.finditer(r"\[[0-9-]+\]|.", pattern):
        tok = m.group(0)
        out.append({"X": "[0-9]", "Z": "[1-9]", "N": "[2-9]"}.get(tok, tok))
    return "^" + "".join(out) + "$"


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


def elfproef_ok(digits: str) -> bool:
    """BSN-style 11-check: weights n..2 and -1 for the last digit; the sum divisible by 11."""
    n = len(digits)
    if n < 2:
        return False
    total = sum(int(c) * (n - i) for i, c in enumerate(digits[:-1])) - int(digits[-1])
    return total % 11 == 0


class _Compiler:
    def __init__(self, tenant: str, name: str, flow: Flow, sounds: Mapping[str, str]) -> None:
        self.tenant, self.name, self.flow, self.sounds = tenant, name, flow, sounds

    def sound(self, prompt: Prompt | None, default: str) -> str:
        if prompt is None:
            return default
        if prompt.sound is not None:
            return prompt.sound
        if prompt.text is not None:
            key = text_sound_key(prompt.text)
            return self.sounds.get(key) or "tts-" + hashlib.sha256(prompt.text.encode()).hexdigest()[:16]
        assert prompt.announcement is not None
        return self.sounds.get(prompt.announcement) or BUILTIN_PROMPTS.get(prompt.announcement, prompt.announcement)

    def to(self, bid: str, event: str) -> str:
        target = self.flow.blocks[bid].exits[event]
        return HANGUP_EXT if target == HANGUP else ext(target)

    def node(self, bid: str, p: BaseModel, parents: Mapping[str, tuple[str, ...]]) -> FNode:
        e = ext(bid)
        exits = self.flow.blocks[bid].exits
        match p:
            case PlayParams():
                return FPlay(e, self.sound(p.prompt, ""), p.barge_in, self.to(bid, "next"))
            case MenuParams():
                prompt = self.sound(p.prompt, "")
                return FMenu(e, prompt, self.sound(p.invalid_prompt, "option-is-invalid"),
                             self.sound(p.timeout_prompt, prompt), p.timeout, p.tries,
                             tuple((k, self.to(bid, k)) for k in exits if k != "failed"),
                             self.to(bid, "failed"), p.back, tuple(ext(m) for m in parents.get(bid, ())))
            case InputParams():
                c = p.checks
                prompt = self.sound(p.prompt, "")
                return FInput(e, prompt, self.sound(p.invalid_prompt, "option-is-invalid"),
                              self.sound(p.timeout_prompt, prompt), p.min_digits, p.max_digits, p.end_key or "",
                              p.timeout, p.tries, digit_regex(c.pattern, p.min_digits, p.max_digits), c.luhn,
                              c.elfproef, list_family(self.tenant, c.list) if c.list else None, c.list, p.save_as,
                              self.to(bid, "valid"), self.to(bid, "invalid"), self.to(bid, "timeout"))
            case RegionParams():
                return RegionSwitch(e, tuple((name, tuple(x for a in areas for x in region_prefixes(a)),
                                              self.to(bid, name)) for name, areas in p.regions.items()),
                                    self.to(bid, "other"))
            case TimeParams():
                return self.time(bid, p)
            case SplitParams():
                weights = ",".join(f"{k}={v}" for k, v in p.shares.items())
                tag = hashlib.sha1(weights.encode()).hexdigest()[:8]  # new weights -> fresh counters
                return Split(e, bid, tuple((v, self.to(bid, k)) for k, v in p.shares.items()),
                             split_family("flow", self.tenant, self.name, f"{bid}-{tag}"))
            case SetParams():
                return FSet(e, p.skill, p.priority, p.priority_from, tuple(sorted(p.values.items())),
                            self.to(bid, "next"))
            case QueueParams():
                return FCallCentre(e, "queue", p.queue, p.skill, self.to(bid, "failed"))
            case HuntParams():
                return FCallCentre(e, "hunt", p.group, None, self.to(bid, "failed"))
            case DialParams():
                whisper = self.sound(p.whisper, "beep") if p.whisper else None
                return FDial(e, tuple((d.number, d.ring_time) for d in p.destinations), whisper,
                             self.to(bid, "failed"))
            case GotoParams():
                return FGoto(e, p.flow, flow_context(self.tenant, p.flow), "start")
        return FHangup(e)

    def time(self, bid: str, p: TimeParams) -> FTime:
        e = ext(bid)
        ranges = tuple((int(r.start.timestamp()), int(r.end.timestamp()), r.exit, self.to(bid, r.exit))
                       for r in p.ranges)
        slots = tuple(
            TimeSlot(WEEKDAYS.index(day) + 1, minutes(tr.start), minutes(tr.end), tr.exit, self.to(bid, tr.exit))
            for day, trs in sorted(p.week.items(), key=lambda kv: WEEKDAYS.index(kv[0]))
            for tr in sorted(trs, key=lambda tr: minutes(tr.start)))
        holiday = p.holiday is not None
        roster = WeekRoster(e, bid, slots, p.outside, self.to(bid, p.outside),
                            self.to(bid, p.holiday) if p.holiday else "", p.public_holidays and holiday,
                            tuple(sorted(d.strftime("%Y%m%d") for d in p.closed_dates)) if holiday else ())
        return FTime(e, ranges, roster, p.holiday or "")


def compile_flow(tenant: str, name: str, flow: Flow, sounds: Mapping[str, str],
                 holidays: frozenset[str] = frozenset()) -> CompiledFlow:
    """Compile a flow that passed the rules (flow_rules.check_flows)."""
    # The start block first, then by id: the same flow renders the same file whatever the order its
    # document lists the blocks in (a stored plan comes back with sorted keys).
    ordered = sorted(flow.blocks.items(), key=lambda kv: (kv[0] != flow.start, kv[0]))
    params = {bid: parse_params(b) for bid, b in ordered}
    parents = menu_parents(flow, params)
    c = _Compiler(tenant, name, flow, sounds)
    nodes = {ext(bid): c.node(bid, p, parents) for bid, p in params.items()}
    uses_holidays = any(isinstance(n, FTime) and n.roster.public_holidays for n in nodes.values())
    return CompiledFlow(
        tenant=tenant, name=name, start=ext(flow.start),
        fallback=HANGUP_EXT if flow.fallback == HANGUP else ext(flow.fallback),
        max_visits=flow.max_visits, nodes=nodes, holidays=holidays if uses_holidays else frozenset(),
        split_events={ext(bid): tuple(p.shares) for bid, p in params.items() if isinstance(p, SplitParams)},
    )


def compile_flows(tenant: str, flows: Mapping[str, Flow], sounds: Mapping[str, str],
                  holidays: frozenset[str] = frozenset()) -> list[CompiledFlow]:
    return [compile_flow(tenant, name, flow, sounds, holidays) for name, flow in sorted(flows.items())]
