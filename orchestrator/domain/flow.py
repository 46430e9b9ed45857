"""Premium call flows: named graphs of blocks a tenant wires in any order (seed 000, 2.1.3).

A flow is ``{start, blocks: {id: {type, params, exits: {event: target}}}}``. Every block type is
registered here with the model of its params and its events; every event of a block must be
wired to another block of the flow or to ``hangup``. The registry is open: a later block type
(voicemail, survey, lookup) registers itself with ``register`` and the rules, the compiler and
the simulator pick it up by its type name.

Params are kept as a plain mapping in the plan and parsed with the type's model by the rules
(flow_rules.py), so an error names the flow, the block and the field.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, Field, field_validator, model_validator

from orchestrator.domain.fields import Clock, DestinationNumber, Model, Name, Weekday, local_minute
from orchestrator.domain.regions import region_prefixes
from orchestrator.domain.sound_names import BUILTIN_SOUND_NAMES
from orchestrator.errors import NumberInvalid

HANGUP = "hangup"  # an exit target: end the call
KEYS = tuple("0123456789*#")
MAX_BLOCKS = 2000
MAX_MENUS = 150  # seed 001, 4.2.4: "maximaal 150 menu's"
SOUND_PATTERN = r"^[A-Za-z0-9_/-]{1,120}$"  # an Asterisk sound name: safe inside Playback/Read


class Prompt(Model):
    """What a caller hears: a tenant announcement (upload), a built-in Asterisk sound, or Dutch
    text spoken by espeak-ng (so a flow can be tried before its recordings exist). A bare string
    names an announcement."""

    announcement: Name | None = None
    sound: str | None = Field(default=None, pattern=SOUND_PATTERN)
    text: str | None = Field(default=None, min_length=1, max_length=500)

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        return {"announcement": value} if isinstance(value, str) else value

    @field_validator("sound")
    @classmethod
    def _builtin(cls, v: str | None) -> str | None:
        # As for announcements (plan.py): Playback takes paths, so anything but a built-in name
        # could reach another tenant's recordings.
        if v is not None and v not in BUILTIN_SOUND_NAMES:
            raise ValueError(f"{v[:80]!r} is not one of Asterisk's built-in sounds (e.g. 'beep'); a "
                             "recording of your own is an announcement of the plan")
        return v

    @model_validator(mode="after")
    def _one(self) -> Prompt:
        if sum(x is not None for x in (self.announcement, self.sound, self.text)) != 1:
            raise ValueError("give exactly one of 'announcement', 'sound' or 'text'")
        return self


def _key(value: str) -> str:
    if value not in KEYS:
        raise ValueError(f"{value!r} is not a key (0-9, * or #)")
    return value


Key = Annotated[str, AfterValidator(_key)]


# --- params of the built-in block types ---------------------------------------------------------

class PlayParams(Model):
    prompt: Prompt
    barge_in: bool = False  # a key stops the prompt (and is dropped); else keys are ignored


class MenuParams(Model):
    prompt: Prompt
    timeout: int = Field(default=5, ge=1, le=60)  # seconds to wait for a key after the prompt
    tries: int = Field(default=3, ge=1, le=10)  # a timeout and an invalid key both count
    invalid_prompt: Prompt | None = None  # default: built-in "option is invalid"
    timeout_prompt: Prompt | None = None  # default: the menu prompt again
    back: Key | None = None  # returns to the menu that led here


class InputChecks(Model):
    """What the digits must satisfy. ``pattern`` is a digit pattern as in Asterisk: X = any
    digit, Z = 1-9, N = 2-9, [1-5] = a range or set, other characters are literal digits."""

    pattern: str | None = Field(default=None, pattern=r"^([0-9XZN]|\[[0-9-]{1,20}\]){1,32}$")
    luhn: bool = False  # card and IBAN-style check digit
    elfproef: bool = False  # the Dutch 11-check (BSN style: weights 9..2, last digit -1)
    list: Name | None = None  # the digits must be on this live tenant list (AstDB, no reload)


class InputParams(Model):
    prompt: Prompt
    min_digits: int = Field(default=1, ge=1, le=32)
    max_digits: int = Field(default=10, ge=1, le=32)
    end_key: Literal["#", "*"] | None = "#"
    timeout: int = Field(default=5, ge=1, le=60)  # seconds, also between digits
    tries: int = Field(default=3, ge=1, le=10)
    invalid_prompt: Prompt | None = None
    timeout_prompt: Prompt | None = None
    checks: InputChecks = Field(default_factory=InputChecks)
    save_as: Name | None = None  # later blocks read the checked digits under this name

    @model_validator(mode="after")
    def _range(self) -> InputParams:
        if self.min_digits > self.max_digits:
            raise ValueError(f"min_digits {self.min_digits} is more than max_digits {self.max_digits}")
        return self


def _area(value: str) -> str:
    try:
        region_prefixes(value)
    except NumberInvalid as exc:
        raise ValueError(str(exc)) from exc
    return value.strip()


class RegionParams(Model):
    """Callers from the areas of a region take that region's event; everyone else ``other``."""

    regions: dict[Name, list[Annotated[str, AfterValidator(_area)]]] = Field(min_length=1)


class FlowTimeRange(Model):
    start: Clock
    end: Clock
    exit: Name


class DateRange(Model):
    """From ``start`` up to ``end`` (minute precision, Europe/Amsterdam) the block takes ``exit``."""

    start: datetime
    end: datetime
    exit: Name

    @field_validator("start", "end", mode="before")
    @classmethod
    def _minute(cls, value: Any) -> Any:
        return local_minute(value)  # same rules as switch moments


class TimeParams(Model):
    """Date ranges first, then holidays, then the weekly roster; else ``outside``."""

    ranges: list[DateRange] = Field(default_factory=list)
    week: dict[Weekday, list[FlowTimeRange]] = Field(default_factory=dict)
    outside: Name = "closed"
    holiday: Name | None = None  # event taken on public holidays and closed dates; None = not special
    public_holidays: bool = True
    closed_dates: list[date] = Field(default_factory=list)


class SplitParams(Model):
    shares: dict[Name, int] = Field(min_length=2)  # event name -> percent


class SetParams(Model):
    skill: Name | None = None  # the skill queue blocks without their own skill ask for
    priority: int | None = Field(default=None, ge=0, le=100)  # queue priority of the call
    priority_from: Name | None = None  # ... or the digits an input block saved (after its check)
    values: dict[Name, Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]{0,40}$")]] = Field(default_factory=dict)


class QueueParams(Model):
    queue: Name
    skill: Name | None = None


class HuntParams(Model):
    group: Name


class FlowDestination(Model):
    number: DestinationNumber
    ring_time: int = Field(default=20, ge=5, le=300)


class DialParams(Model):
    destinations: list[FlowDestination] = Field(min_length=1, max_length=10)  # first, then overflow
    whisper: Prompt | None = None


class GotoParams(Model):
    flow: Name


class NoParams(Model):
    pass


# --- the registry ----------------------------------------------------------------------------

@dataclass(frozen=True)
class BlockType:
    """``events(params)`` are the events that must be wired; ``optional`` ones may be (menu keys).
    ``waits`` marks a block that waits for the caller with bounded tries: every cycle of a flow
    must pass one."""

    name: str
    params: type[BaseModel]
    events: Callable[[Any], tuple[str, ...]]
    optional: Callable[[Any], tuple[str, ...]] = field(default=lambda _p: ())
    waits: bool = False
    doc: str = ""


REGISTRY: dict[str, BlockType] = {}


def register(block_type: BlockType) -> BlockType:
    REGISTRY[block_type.name] = block_type
    return block_type


def _time_events(p: TimeParams) -> tuple[str, ...]:
    names = [r.exit for r in p.ranges] + [tr.exit for day in p.week.values() for tr in day] + [p.outside]
    if p.holiday is not None:
        names.append(p.holiday)
    return tuple(dict.fromkeys(names))


def _menu_optional(p: MenuParams) -> tuple[str, ...]:
    return tuple(k for k in KEYS if k != p.back)


for _t in (
    BlockType("play", PlayParams, lambda _p: ("next",), doc="play a prompt, then next"),
    BlockType("menu", MenuParams, lambda _p: ("failed",), _menu_optional, waits=True,
              doc="keys 0-9 * # are optional events; failed after `tries` invalid keys or timeouts"),
    BlockType("input", InputParams, lambda _p: ("valid", "invalid", "timeout"), waits=True,
              doc="collect digits; valid when the checks pass, else invalid/timeout after `tries`"),
    BlockType("region", RegionParams, lambda p: (*p.regions, "other"), doc="caller's origin"),
    BlockType("time", TimeParams, _time_events, doc="date ranges, holidays, weekly roster"),
    BlockType("split", SplitParams, lambda p: tuple(p.shares), doc="percentage split"),
    BlockType("set", SetParams, lambda _p: ("next",), doc="set skill, queue priority or a named value"),
    BlockType("queue", QueueParams, lambda _p: ("failed",), doc="a queue of the tenant"),
    BlockType("hunt", HuntParams, lambda _p: ("failed",), doc="a hunt group of the tenant"),
    BlockType("dial", DialParams, lambda _p: ("failed",), doc="numbers with overflow; failed: nobody answered"),
    BlockType("goto", GotoParams, lambda _p: (), doc="continue in another flow of the tenant"),
    BlockType("hangup", NoParams, lambda _p: (), doc="end the call"),
):
    register(_t)


# --- the plan's part ----------------------------------------------------------------------------

class Block(Model):
    type: str
    params: dict[str, Any] = Field(default_factory=dict)
    exits: dict[str, str] = Field(default_factory=dict)  # event -> block id or "hangup"

    @field_validator("exits", mode="before")
    @classmethod
    def _keys_as_text(cls, value: Any) -> Any:
        # YAML reads `1: sales` with an int key; menu keys are text.
        return {str(k): v for k, v in value.items()} if isinstance(value, dict) else value


class Flow(Model):
    start: Name
    blocks: dict[Name, Block] = Field(min_length=1)
    fallback: str = HANGUP  # runs when a call passed more than max_visits blocks
    max_visits: int = Field(default=200, ge=10, le=1000)


class Position(Model):
    x: float
    y: float


# Builder layout: flow -> block -> position. Not part of routing (digest.py leaves it out).
Layout = dict[Name, dict[Name, Position]]


def parse_params(block: Block) -> BaseModel:
    """The block's params as its type's model (raises pydantic's ValidationError)."""
    return REGISTRY[block.type].params.model_validate(block.params)
