"""Field types shared by the plan models (plan.py) and the call-centre models (queues.py)."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from orchestrator.domain.numbers import parse_destination
from orchestrator.errors import NumberInvalid

NAME_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,39}$"  # safe inside dialplan labels and file names
# A routing exit may lead to a call centre of the tenant instead of a number.
QUEUE_REF = re.compile(r"^(queue|hunt):([a-z0-9][a-z0-9_-]{0,39})(?:/([a-z0-9][a-z0-9_-]{0,39}))?$")


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _destination(value: str) -> str:
    """A phone number (→ E.164), or a call centre of the tenant: ``queue:NAME``,
    ``queue:NAME/SKILL`` (the call needs that skill) or ``hunt:NAME``."""
    ref = QUEUE_REF.match(value.strip())
    if ref is not None:
        if ref.group(1) == "hunt" and ref.group(3):
            raise ValueError("hunt groups route without skills; write 'hunt:NAME'")
        return value.strip()
    try:
        return parse_destination(value)
    except NumberInvalid as exc:
        raise ValueError(str(exc)) from exc


def queue_ref(value: str) -> tuple[str, str, str | None] | None:
    """('queue'|'hunt', name, skill) for a call-centre reference, None for a phone number."""
    m = QUEUE_REF.match(value)
    return (m.group(1), m.group(2), m.group(3)) if m else None


def _clock(value: str) -> str:
    try:
        hours, minutes = (int(x) for x in value.split(":"))
    except ValueError as exc:
        raise ValueError("write times as HH:MM") from exc
    if not (0 <= hours <= 24 and 0 <= minutes < 60) or (hours == 24 and minutes):
        raise ValueError(f"{value!r} is not a time of day (00:00 to 24:00)")
    return f"{hours:02d}:{minutes:02d}"


DestinationNumber = Annotated[str, AfterValidator(_destination)]
Name = Annotated[str, Field(pattern=NAME_PATTERN)]
Clock = Annotated[str, AfterValidator(_clock)]
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def minutes(clock: str) -> int:
    hours, mins = clock.split(":")
    return int(hours) * 60 + int(mins)


AMSTERDAM = ZoneInfo("Europe/Amsterdam")


def local_minute(value: Any) -> datetime:
    """A moment written 'YYYY-MM-DD HH:MM' (Europe/Amsterdam, minute precision) as an aware datetime."""
    if isinstance(value, str):
        try:
            value = datetime.strptime(value.strip(), "%Y-%m-%d %H:%M")
        except ValueError as exc:
            raise ValueError("write it as 'YYYY-MM-DD HH:MM' (Europe/Amsterdam)") from exc
    if not isinstance(value, datetime):
        raise ValueError("write it as 'YYYY-MM-DD HH:MM' (Europe/Amsterdam)")
    if value.second or value.microsecond:
        raise ValueError("moments have minute precision; drop the seconds")
    if value.tzinfo is None:
        value = value.replace(tzinfo=AMSTERDAM)
        # A wall-clock time skipped by the spring DST change does not exist.
        if value.astimezone(ZoneInfo("UTC")).astimezone(AMSTERDAM).replace(
            tzinfo=None
        ) != value.replace(tzinfo=None):
            raise ValueError(f"{value:%Y-%m-%d %H:%M} does not exist in Europe/Amsterdam")
    local: datetime = value.astimezone(AMSTERDAM)
    return local
