"""IR of a compiled call flow: what flow.conf.j2 renders into ONE dialplan context per flow version
(shared by every number that runs it, entered through the flow's entry context) and what the
simulator walks. Pure data.

Every block becomes extension ``b-<id>`` of the flow's context; its events are literal ``Goto``s
to other such extensions. A caller's keys are only ever compared with literal keys or checked
digit by digit; they never become part of an extension, context or application argument.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from orchestrator.domain.ir import RegionSwitch, Split, WeekRoster
from orchestrator.domain.naming import FLOW_CONTEXT_PREFIX

HANGUP_EXT = "b--hangup"  # the target of events wired to "hangup"
FALLBACK_EXT = "b--over"  # where a call goes once it passed max_visits blocks


@dataclass(frozen=True)
class FPlay:
    id: str
    sound: str
    barge_in: bool
    next: str


@dataclass(frozen=True)
class FMenu:
    id: str
    prompt: str
    invalid_prompt: str
    timeout_prompt: str
    timeout: int
    tries: int
    options: tuple[tuple[str, str], ...]  # (key, target extension)
    failed: str
    back: str | None  # the back key
    parents: tuple[str, ...]  # extensions of menus the back key may return to


@dataclass(frozen=True)
class FInput:
    id: str
    prompt: str
    invalid_prompt: str
    timeout_prompt: str
    min_digits: int
    max_digits: int
    end_key: str  # "" = none
    timeout: int
    tries: int
    regex: str  # POSIX ERE the digits must match (anchored)
    luhn: bool
    elfproef: bool
    list_family: str | None  # AstDB family of the list the digits must be on
    list_name: str | None
    save_as: str | None
    valid: str
    invalid: str
    timed_out: str


@dataclass(frozen=True)
class FTime:
    """Date ranges (epoch seconds, minute precision) first, then the roster (holidays first)."""

    id: str
    ranges: tuple[tuple[int, int, str, str], ...]  # (from, to, event, target); to is exclusive
    roster: WeekRoster
    holiday_event: str  # "" when holidays are not special


@dataclass(frozen=True)
class FSet:
    id: str
    skill: str | None
    priority: int | None
    priority_from: str | None  # the saved input whose digits become the queue priority
    values: tuple[tuple[str, str], ...]
    next: str


@dataclass(frozen=True)
class FCallCentre:
    id: str
    kind: str  # "queue" | "hunt"
    name: str
    skill: str | None  # None: the call's skill from a set block, if any
    failed: str


@dataclass(frozen=True)
class FDial:
    id: str
    destinations: tuple[tuple[str, int], ...]  # (E.164, ring time)
    whisper: str | None
    failed: str


@dataclass(frozen=True)
class FGoto:
    id: str
    flow: str
    context: str
    start: str


@dataclass(frozen=True)
class FHangup:
    id: str


FNode = FPlay | FMenu | FInput | RegionSwitch | FTime | Split | FSet | FCallCentre | FDial | FGoto | FHangup


MAX_CONTEXT = 79  # characters Asterisk keeps of a context name
VERSION_DIGITS = 10  # hex digits of a flow version's digest in its context name


def flow_context(tenant: str, flow: str, *, room: int = 0) -> str:
    """The context numbers jump into (``start``); long names are hashed (``room``: characters
    to leave free for a suffix)."""
    name = f"{FLOW_CONTEXT_PREFIX}{tenant}-{flow}"
    if len(name) + room <= MAX_CONTEXT:
        return name
    return FLOW_CONTEXT_PREFIX + hashlib.sha1(f"{tenant}\0{flow}".encode()).hexdigest()[:24]


def flow_version_context(tenant: str, flow: str, digest: str) -> str:
    """The context of one version of a flow's blocks. A changed flow gets a new one: it is loaded
    whole before the flow's entry switches to it, so a call sees one version from start to end.
    Names have no dots, so no flow's entry context can look like another's version."""
    return f"{flow_context(tenant, flow, room=1 + VERSION_DIGITS)}.{digest[:VERSION_DIGITS]}"


def is_context_of_flow(context: str, tenant: str, flow: str) -> bool:
    """Whether ``context`` (e.g. from a CDR row) is the flow's entry context or one of its versions."""
    if context == flow_context(tenant, flow):
        return True
    base, dot, digest = context.rpartition(".")
    return bool(dot) and len(digest) == VERSION_DIGITS and base == flow_context(tenant, flow, room=1 + VERSION_DIGITS)


def ext(block_id: str) -> str:
    return f"b-{block_id}"


@dataclass(frozen=True)
class CompiledFlow:
    tenant: str
    name: str
    start: str  # extension of the start block
    fallback: str  # extension run once max_visits is passed
    max_visits: int
    nodes: dict[str, FNode]  # by extension
    holidays: frozenset[str] = frozenset()
    split_events: dict[str, tuple[str, ...]] | None = None  # split extension -> event of each share

    @property
    def context(self) -> str:
        return flow_context(self.tenant, self.name)

    @property
    def file(self) -> str:
        return f"{self.context}.conf"
