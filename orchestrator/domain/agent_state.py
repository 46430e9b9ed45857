"""What state a call-centre agent is in, from what app_queue says about its queue membership.
Pure: the one rule for the call-centre commands (``agent list``, the API) and the live figures.

An agent is a member of one or more Asterisk queues (a plan queue and its skill queues); per
membership app_queue reports whether it is paused (and why), in a call, its device state, when its
last call ended and its wrap-up time. Agent pauses carry our state in the reason: ``logged-out``
for a logged-out agent, anything else for an unavailable one (control.set_agent_state).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

AVAILABLE, BUSY, WRAP_UP, UNAVAILABLE, LOGGED_OUT = "available", "busy", "wrap-up", "unavailable", "logged-out"
AGENT_STATES = (AVAILABLE, BUSY, WRAP_UP, UNAVAILABLE, LOGGED_OUT)
# app_queue's member Status (AST_DEVICE_*): 2 in use, 3 busy, 6 ringing, 7 ringing and in use.
# A member ringing for a call or on a call that is not a queue call is not free for the next one.
BUSY_DEVICE_STATES = frozenset({2, 3, 6, 7})
# When an agent is in several queues, the strongest state wins: paused anywhere is paused.
_PRECEDENCE = (LOGGED_OUT, UNAVAILABLE, BUSY, WRAP_UP, AVAILABLE)


class Membership(Protocol):
    """One queue membership as app_queue reports it (QueueStatus member or QueueMemberStatus)."""

    @property
    def paused(self) -> bool: ...
    @property
    def reason(self) -> str: ...
    @property
    def in_call(self) -> bool: ...
    @property
    def status(self) -> int: ...
    @property
    def last_call(self) -> float: ...  # epoch seconds; 0 = none yet
    @property
    def wrapup(self) -> int: ...  # seconds


def member_state(m: Membership, now: float) -> str:
    """The state of one membership at epoch ``now``."""
    if m.paused:
        return LOGGED_OUT if m.reason == LOGGED_OUT else UNAVAILABLE
    if m.in_call or m.status in BUSY_DEVICE_STATES:
        return BUSY
    if m.wrapup and m.last_call and now < m.last_call + m.wrapup:
        return WRAP_UP
    return AVAILABLE


def combined_state(states: Iterable[str]) -> str:
    """An agent's state over its memberships (available when it has none)."""
    seen = set(states)
    return next((s for s in _PRECEDENCE if s in seen), AVAILABLE)
