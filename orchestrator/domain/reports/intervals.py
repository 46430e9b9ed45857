"""Report intervals: Europe/Amsterdam wall-clock periods. Pure.

15-minute and hourly intervals step in absolute time (the zone's offset is a whole number of hours,
so a UTC quarter hour is a wall-clock quarter hour): the autumn change day has 25 hourly intervals
(02:00+02:00 and 02:00+01:00 both appear, labelled with their offset), the spring one 23, and no
hour is lost or counted twice. Days, weeks (Monday to Monday) and months start at local midnight.
A call belongs to the interval it started in."""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from orchestrator.errors import InputInvalid, Violation

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
MAX_INTERVALS = 200_000  # 15-minute intervals over five years: a guard, not a limit anyone meets


class Interval(StrEnum):
    QUARTER = "15m"
    HOUR = "hour"
    DAY = "day"
    WEEK = "week"
    MONTH = "month"


@dataclass(frozen=True)
class Period:
    start: datetime  # UTC
    end: datetime  # UTC, exclusive

    @property
    def label(self) -> str:
        """Local start with its offset: unique even on the autumn change day."""
        return self.start.astimezone(AMSTERDAM).isoformat(timespec="minutes")


def _bad(field: str, rule: str) -> InputInvalid:
    return InputInvalid([Violation(field, rule)])


def parse_moment(text: str, field: str) -> datetime:
    """'2026-10-25' (local midnight) or '2026-10-25T14:00' (local wall-clock), as an aware
    Amsterdam datetime. A time the clock skips (spring change, 02:00-03:00) is refused."""
    try:
        naive = datetime.fromisoformat(text.strip())
    except ValueError:
        raise _bad(field, f"{text!r} is not a date (YYYY-MM-DD) or local time (YYYY-MM-DDTHH:MM)") from None
    if naive.tzinfo is not None:
        raise _bad(field, f"{text!r}: give Europe/Amsterdam wall-clock time, without an offset")
    local = naive.replace(tzinfo=AMSTERDAM)
    if local.astimezone(UTC).astimezone(AMSTERDAM).replace(tzinfo=None) != naive:
        raise _bad(field, f"{text!r} does not exist in Europe/Amsterdam (the clock skips it)")
    return local


def _aligned(t: datetime, interval: Interval) -> bool:
    local = t.astimezone(AMSTERDAM)
    if interval is Interval.QUARTER:
        return local.minute % 15 == 0 and local.second == local.microsecond == 0
    if interval is Interval.HOUR:
        return local.minute == local.second == local.microsecond == 0
    midnight = local.time() == datetime.min.time()
    if interval is Interval.DAY:
        return midnight
    if interval is Interval.WEEK:
        return midnight and local.weekday() == 0
    return midnight and local.day == 1


def _local_midnight(d: date) -> datetime:
    return datetime(d.year, d.month, d.day, tzinfo=AMSTERDAM).astimezone(UTC)


def _next_start(start: datetime, interval: Interval) -> datetime:
    if interval is Interval.QUARTER:
        return start + timedelta(minutes=15)
    if interval is Interval.HOUR:
        return start + timedelta(hours=1)
    d = start.astimezone(AMSTERDAM).date()
    if interval is Interval.DAY:
        return _local_midnight(d + timedelta(days=1))
    if interval is Interval.WEEK:
        return _local_midnight(d + timedelta(days=7))
    return _local_midnight(date(d.year + d.month // 12, d.month % 12 + 1, 1))


def periods(start: datetime, end: datetime, interval: Interval) -> list[Period]:
    """The intervals that make up [start, end); an error unless both ends are interval boundaries."""
    if end <= start:
        raise _bad("to", f"must be after from ({start.isoformat()}); to is the first moment not included")
    for field, t in (("from", start), ("to", end)):
        if not _aligned(t, interval):
            raise _bad(field, f"{t.astimezone(AMSTERDAM).isoformat(timespec='minutes')} is not the start of a "
                              f"{interval.value} interval: the interval must divide the range")
    out: list[Period] = []
    t = start.astimezone(UTC)
    stop = end.astimezone(UTC)
    while t < stop:
        nxt = _next_start(t, interval)
        out.append(Period(t, nxt))
        t = nxt
        if len(out) > MAX_INTERVALS:
            raise _bad("interval", f"more than {MAX_INTERVALS} {interval.value} intervals: choose a longer one")
    return out


class Locator:
    """Which period a UTC moment falls in (None: outside the range)."""

    def __init__(self, spans: Sequence[Period]) -> None:
        self._starts = [p.start for p in spans]
        self._end = spans[-1].end if spans else None

    def index(self, t: datetime) -> int | None:
        if not self._starts or t < self._starts[0] or self._end is None or t >= self._end:
            return None
        return bisect.bisect_right(self._starts, t) - 1
