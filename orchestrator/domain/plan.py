"""The routing plan of a tenant, as ops write it (YAML) and as the database stores it.

Shape and per-field checks live here (pydantic gives each error its field path); rules that
depend on the package or on the clock live in ``rules.py``.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from pydantic import (
    AfterValidator,
    Field,
    ValidationError,
    field_validator,
)

from orchestrator.domain.fields import (
    NAME_PATTERN,
    WEEKDAYS,
    Clock,
    DestinationNumber,
    Model,
    Name,
    Weekday,
    local_minute,
    minutes,
)
from orchestrator.domain.flow import Flow, Layout
from orchestrator.domain.numbers import parse_caller, parse_service_number
from orchestrator.domain.queues import Agent, HuntGroup, Queue
from orchestrator.domain.sound_names import BUILTIN_SOUND_NAMES
from orchestrator.errors import NumberInvalid, PlanInvalid, Violation

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
__all__ = ["NAME_PATTERN", "WEEKDAYS", "Clock", "DestinationNumber", "Name", "Weekday", "minutes"]


class Package(StrEnum):
    BASIS = "basis"
    STANDAARD = "standaard"
    PREMIUM = "premium"


def _caller(value: str) -> str:
    try:
        return parse_caller(value)
    except NumberInvalid as exc:
        raise ValueError(str(exc)) from exc


def _service_number(value: str) -> str:
    try:
        return parse_service_number(value).e164
    except NumberInvalid as exc:
        raise ValueError(str(exc)) from exc


CallerNumber = Annotated[str, AfterValidator(_caller)]
_Model = Model


class Destination(_Model):
    """One number to ring, and for how long before overflowing to the next. ``number`` may also be
    ``queue:NAME`` / ``queue:NAME/SKILL`` / ``hunt:NAME``: a call centre of the tenant (then
    ``ring_time`` is unused: the queue's own waiting and exits apply)."""

    number: DestinationNumber
    ring_time: int = Field(default=20, ge=5, le=300, description="seconds")


class SwitchMoment(_Model):
    """From ``at`` (Europe/Amsterdam, minute precision) the named routing is the active one."""

    at: datetime
    routing: Name

    @field_validator("at", mode="before")
    @classmethod
    def _local_minute(cls, value: Any) -> datetime:
        try:
            return local_minute(value)
        except ValueError as exc:
            raise ValueError(str(exc).replace("moments have", "switch moments have")) from exc

    @property
    def epoch(self) -> int:
        return int(self.at.timestamp())


class Blocking(_Model):
    anonymous: bool = False  # callers who withhold their number
    foreign: bool = False  # callers from abroad
    mobile: bool = False  # callers from Dutch mobile networks (0800 numbers only)
    blacklist: list[CallerNumber] = Field(default_factory=list)
    message: Name | None = None  # announcement played to blocked callers; None = built-in


class NumberAnnouncements(_Model):
    welcome: Name | None = None  # to the caller, before routing
    whisper: Name | None = None  # to the person who answers, before the caller is connected
    final: Name | None = None  # to the caller when no destination answered


def _region(value: str) -> str:
    from orchestrator.domain.regions import region_prefixes

    try:
        region_prefixes(value)
    except NumberInvalid as exc:
        raise ValueError(str(exc)) from exc
    return value.strip()


class RegionExit(_Model):
    """Callers from any of ``areas`` go to ``to``."""

    name: Name
    areas: list[Annotated[str, AfterValidator(_region)]] = Field(min_length=1)
    to: Name


class Regions(_Model):
    exits: list[RegionExit]
    other: Name  # everyone else, including callers who withhold their number


class TimeRange(_Model):
    start: Clock  # Europe/Amsterdam wall clock
    end: Clock  # exclusive; "24:00" is the end of the day
    exit: Name


class Roster(_Model):
    """A weekly roster: per weekday, time ranges to named exits, plus a holiday exit."""

    week: dict[Weekday, list[TimeRange]] = Field(default_factory=dict)
    exits: dict[Name, Name]  # exit name -> target
    outside: Name  # the exit for every moment no range covers (e.g. "closed")
    holiday: Name  # target on Dutch public holidays and on closed_dates
    public_holidays: bool = True
    closed_dates: list[date] = Field(default_factory=list)  # the tenant's own closed days


class SplitShare(_Model):
    percent: int = Field(ge=1, le=100)
    to: Name


class Tariff(_Model):
    """090x information tariff (euros incl. VAT) and the call limits that follow from it."""

    per_call: Decimal | None = None
    per_minute: Decimal | None = None
    max_call_cost: Decimal | None = None  # required when per_minute > 0.15
    max_duration: int | None = Field(default=None, ge=10, le=24 * 3600)  # seconds, a direct limit
    warning_before: int = Field(default=30, ge=1, le=600)  # beep this many seconds before the end
    announcement: Name | None = None  # the tenant's own recording instead of the generated prompt


class RecordingPolicy(StrEnum):
    """When a call is recorded (seed 2.3.7: altijd, altijd met pauze, op aanvraag, op aanvraag met
    start, nooit). Calls to or from 112 and 113 are never recorded, whatever the policy."""

    ALWAYS = "always"  # every answered call, from answer to end
    ALWAYS_WITH_PAUSE = "always_with_pause"  # as always; the agent or the API may pause and resume
    ON_DEMAND = "on_demand"  # recorded from answer, kept only when the agent/API marks it (*44)
    ON_DEMAND_WITH_START = "on_demand_with_start"  # the agent starts (and may stop) it during the call
    NEVER = "never"


class Recording(_Model):
    policy: RecordingPolicy = RecordingPolicy.NEVER
    announce: Name | None = None  # to the caller before routing: "this call may be recorded"


RETENTION_PATTERN = r"^[1-9][0-9]{0,3}[dy]$"  # "90d", "365d", "7y"


class ServiceNumberPlan(_Model):
    number: Annotated[str, AfterValidator(_service_number)]
    package: Package = Package.BASIS
    routings: dict[Name, list[Destination]] = Field(default_factory=dict)
    active: Name | None = None  # required unless the number runs a flow
    switches: list[SwitchMoment] = Field(default_factory=list)
    blocking: Blocking = Field(default_factory=Blocking)
    announcements: NumberAnnouncements = Field(default_factory=NumberAnnouncements)
    max_concurrent_calls: int | None = Field(default=None, ge=1, le=10000)
    tariff: Tariff | None = None  # 090x numbers only
    allow_foreign: bool = False  # 090x: callers from abroad are blocked unless this opts in
    # Standaard and Premium: routing steps after blocking, in the order regions -> roster ->
    # split -> destinations. Targets name a roster, a split, a routing, or "active" (the routing
    # in force, following the switch moments).
    start: Name | None = None  # first step; default "regions" when given, else "active"
    regions: Regions | None = None
    rosters: dict[Name, Roster] = Field(default_factory=dict)
    splits: dict[Name, list[SplitShare]] = Field(default_factory=dict)
    recording: Recording = Field(default_factory=Recording)
    flow: Name | None = None  # Premium: the tenant's call flow this number runs (then no routings)


class AnnouncementSource(_Model):
    """An announcement: one of Asterisk's built-in sounds (``sound``) or an audio file to import
    (``file``). ``sound`` is a name from the built-in set and nothing else: Playback takes paths
    too, and an absolute one (or a relative one into ``recordings/``) would reach another tenant's
    files (issue 14). A tenant's own recordings are ``file``s, kept in the tenant's own folder."""

    sound: str | None = None
    file: str | None = None
    text: str | None = None  # what it says, for people reading the plan

    @field_validator("sound")
    @classmethod
    def _builtin(cls, v: str | None) -> str | None:
        if v is not None and v not in BUILTIN_SOUND_NAMES:
            raise ValueError(f"{v[:80]!r} is not one of Asterisk's built-in sounds (e.g. 'hello-world', "
                             "'digits/1'); a recording of your own is given with 'file'")
        return v


class TenantPlan(_Model):
    tenant: Name
    # An 088 number the operator lends a Premium tenant to try routing before it goes live.
    test_number: Annotated[str, AfterValidator(_service_number)] | None = None
    announcements: dict[Name, AnnouncementSource] = Field(default_factory=dict)
    numbers: list[ServiceNumberPlan] = Field(default_factory=list)
    # How long this tenant's call recordings are kept: days ("90d") or years ("7y"). A change
    # applies to recordings made from then on (seed 2.3.7.1).
    recording_retention: str = Field(default="90d", pattern=RETENTION_PATTERN)
    # Call centres (issue 6): tenant-wide, so one agent can serve several queues and hunt groups.
    agents: dict[Name, Agent] = Field(default_factory=dict)
    queues: dict[Name, Queue] = Field(default_factory=dict)
    hunt_groups: dict[Name, HuntGroup] = Field(default_factory=dict)
    # Premium call flows (issue 15), shared by the numbers that name them; the builder's layout
    # of their blocks is kept apart: it is not routing (digest.py leaves it out).
    flows: dict[Name, Flow] = Field(default_factory=dict)
    layout: Layout = Field(default_factory=dict)
    # Live digit lists input blocks check membership of (AstDB, changed without a reload).
    lists: list[Name] = Field(default_factory=list)


def _loc(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "plan"


def to_document(plan: TenantPlan) -> dict[str, Any]:
    """The plan as a plan file writes it (JSON types; switch moments as local 'YYYY-MM-DD HH:MM'):
    ``parse_plan(to_document(plan)) == plan``."""
    data = plan.model_dump(mode="json", exclude_none=True)
    for n, number in zip(data["numbers"], plan.numbers, strict=True):
        for s, moment in zip(n["switches"], number.switches, strict=True):
            s["at"] = moment.at.astimezone(AMSTERDAM).strftime("%Y-%m-%d %H:%M")
    return data


def parse_plan(data: Any) -> TenantPlan:
    """Build a TenantPlan from parsed YAML/JSON, reporting every shape error with its path."""
    try:
        return TenantPlan.model_validate(data)
    except ValidationError as exc:
        violations = []
        for err in exc.errors():
            msg = err["msg"].removeprefix("Value error, ")
            if err["type"] == "extra_forbidden":
                msg = "unknown field"
            violations.append(Violation(_loc(tuple(err["loc"])), msg))
        raise PlanInvalid(violations) from exc
