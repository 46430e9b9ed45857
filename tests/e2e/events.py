"""Collects Asterisk's AMI events during end-to-end tests (real AMI connection)."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable
from typing import Any

from orchestrator.asterisk.ami import Ami
from orchestrator.asterisk.dialplan_files import DialplanFiles
from orchestrator.services.apply import ApplyTarget
from tests.harness.sipp import CallResult, Hold


def digits(exten: str) -> str:
    return re.sub(r"[\s\-()]", "", exten)


CHATTER = frozenset({"VarSet", "Newexten", "NewConnectedLine", "NewCallerid", "NewAccountCode", "DeviceStateChange",
                     "RTCPSent", "RTCPReceived"})  # left out of failure messages


class EventLog:
    """Every event in arrival order, and the channels that are up (seen in Newchannel, not yet in
    Hangup). ``settled()`` is the condition "the calls are over and their last events are here":
    sipp returns once its BYE is answered, before Asterisk has hung up the other legs (the agent's,
    the carrier's, Local channels), so their Hangup events can arrive after the test moved on.
    On a busy machine AMI events can also lag behind sipp as a whole: when sipp returns, even the
    call's first Newchannel may not be here yet, and "no channel up" would hold at once. So a
    caller takes ``mark()`` before placing its calls, and ``settled()`` first waits until the
    calls' first channels were seen after that mark."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self.up: dict[str, str] = {}  # Uniqueid -> Linkedid of the channels up; kept across clear()
        self.dialled: dict[str, str] = {}  # Linkedid -> the extension its first channel called
        self.calls: list[str] = []  # Linkedid of every call's first channel, in order; kept across clear()
        self.names: dict[str, str] = {}  # Uniqueid -> channel name, of the channels up

    def record(self, _manager: Any, message: Any) -> None:
        event = {k: v for k, v in message.items()}
        self.events.append(event)
        unique, linked = event.get("Uniqueid", ""), event.get("Linkedid", "")
        if event.get("Event") == "Newchannel":
            self.up[unique] = linked
            self.names[unique] = event.get("Channel", "")
            self.dialled.setdefault(linked, event.get("Exten", ""))
            if unique == linked:  # a call's first channel (the caller's): every later leg links to it
                self.calls.append(linked)
        elif event.get("Event") == "Hangup":
            self.up.pop(unique, None)
            self.names.pop(unique, None)

    def channels_up(self, exten: str | None = None) -> list[str]:
        """Uniqueids of the channels up; with ``exten``: only those of calls to that extension."""
        return sorted(u for u, linked in self.up.items()
                      if exten is None or self.dialled.get(linked) == digits(exten))

    def mark(self) -> int:
        """Take this just before placing calls, for ``settled()``."""
        return len(self.calls)

    def calls_since(self, mark: int, exten: str | None = None) -> int:
        """Calls (to ``exten``, if given) whose first channel came up after ``mark``."""
        return sum(1 for linked in self.calls[mark:] if exten is None or self.dialled.get(linked) == digits(exten))

    async def settled(self, mark: int, exten: str | None = None, *, calls: int = 1, timeout: float = 60.0) -> None:
        """Wait until the first channels of ``calls`` calls (to ``exten``, if given) placed after
        ``mark`` have come up, then until every channel seen coming up (of calls to ``exten``, if
        given) has hung up. ``calls=0`` only for calls Asterisk refuses before it creates a
        channel (401 challenge, 404 no such extension): no event will ever show them. ``timeout``
        only ends a wait that failed: tearing down 40 calls' legs took over 15 s at load 40."""
        what = f"{calls} call(s) to {exten or 'any number'}"
        await until(lambda: self.calls_since(mark, exten) >= calls, timeout,
                    f"no first channel of {what} within {timeout} s (seen {self.calls_since(mark, exten)})")
        try:
            await until(lambda: not self.channels_up(exten), timeout, "")
        except AssertionError:
            raise AssertionError(f"channels still up after {timeout} s: {self.channels_up(exten)}") from None

    def agent_connected(self, exten: str) -> Callable[[dict[str, Any]], bool]:
        """Matches app_queue's AgentConnect of a call to ``exten`` (its Linkedid is the caller's)."""
        return lambda e: (e.get("Event") == "AgentConnect"
                          and self.dialled.get(e.get("Linkedid", "")) == digits(exten))

    def call_events(self, exten: str, since: int = 0) -> list[tuple[str, str]]:
        """(Event, what) of the calls to ``exten`` from index ``since`` on, without the chatter
        (VarSet, Newexten, ...): for failure messages. A UserEvent shows its Step (e.g. "SvcCall
        night": the dialplan took the night exit)."""
        return [(e.get("Event", ""), e.get("MemberName") or " ".join(filter(None, (e.get("UserEvent"), e.get("Step"))))
                 or e.get("Channel", ""))
                for e in self.events[since:] if self.dialled.get(e.get("Linkedid", "")) == digits(exten)
                and e.get("Event") not in CHATTER]

    def new_channels(self, since: int = 0) -> list[tuple[str, str, str]]:
        """(Channel, Exten, Linkedid) of every Newchannel from index ``since`` on: for failure messages."""
        return [(e.get("Channel", ""), e.get("Exten", ""), e.get("Linkedid", ""))
                for e in self.events[since:] if e.get("Event") == "Newchannel"]

    def clear(self) -> None:
        self.events.clear()

    def svc(self, number: str | None = None) -> list[dict[str, Any]]:
        """SvcCall/SvcEnd user events, optionally of one service number."""
        out = [e for e in self.events if e.get("Event") == "UserEvent"
               and e.get("UserEvent") in ("SvcCall", "SvcEnd")]
        if number is not None:
            out = [e for e in out if e.get("Number") == number]
        return out

    def steps(self, number: str) -> list[str]:
        return [e.get("Step", "end") for e in self.svc(number)]

    async def wait_for(self, predicate: Callable[[dict[str, Any]], bool], timeout: float = 10.0,
                       since: int = 0) -> dict[str, Any]:
        """The first event from index ``since`` on that matches ``predicate`` (waits for it)."""
        found: list[dict[str, Any]] = []

        def seen() -> bool:
            found.extend(e for e in self.events[since:] if predicate(e))
            return bool(found)

        await until(seen, timeout, f"no matching AMI event within {timeout} s")
        return found[0]


REFUSED = (401, 404)  # answers Asterisk gives before it creates a channel: challenge, no such extension


def first_channels(result: CallResult, *, refused: bool) -> int:
    """How many first channels ``settled()`` waits for after one call: none if the call site says
    Asterisk refused the call before creating a channel (checked here), else one."""
    if refused:
        assert result.final_code in REFUSED, f"expected a refusal {REFUSED}, got {result.responses}"
        return 0
    assert result.final_code not in REFUSED, (
        f"got {result.final_code}: refused before any channel; if expected, say refused=True at the call site")
    return 1


async def held_call(log: EventLog, place: Callable[[Hold], CallResult], exten: str,
                    release_on: Callable[[dict[str, Any]], bool] | None = None, timeout: float = 60.0) -> CallResult:
    """Run ``place`` (one sipp caller to ``exten``, held: tests/harness/sipp.py Hold) and release
    the caller once an event matching ``release_on`` (default: an agent answered the call) has
    arrived; then it holds its ``hold_s`` and hangs up. Fails if the call ends before that
    event, or the event does not come within ``timeout`` s (then the caller is released)."""
    release_on = release_on or log.agent_connected(exten)
    since = len(log.events)
    hold = Hold()
    call = asyncio.ensure_future(asyncio.to_thread(place, hold))
    found: list[dict[str, Any]] = []

    def seen() -> bool:
        found.extend(e for e in log.events[since:] if release_on(e))
        return bool(found) or call.done()

    try:
        await until(seen, timeout, "")
    except AssertionError:
        hold.release()  # the caller hangs up: its sipp returns before the test fails
        result = await call
        raise AssertionError(f"no release event for the call to {exten} within {timeout} s; its events: "
                             f"{log.call_events(exten, since)}; channels since: {log.new_channels(since)}; "
                             f"{sip_story(result)}") from None
    if not call.done():
        hold.release()
    result = await call
    assert found, f"the call to {exten} ended before its release event: {sip_story(result)}"
    return result


def sip_story(result: CallResult, last: int = 12) -> str:
    """What the caller's sipp sent and received (its -trace_msg log: time, direction, first line),
    for failure messages: whether the INVITE left, what Asterisk answered, whether the caller got
    its release cue; i.e. which side failed."""
    text = ""
    if result.message_log is not None and result.message_log.exists():
        text = result.message_log.read_text(errors="replace")
    story = []
    for block in re.split(r"^-{20,} ", text, flags=re.M)[1:]:
        lines = [ln.strip() for ln in block.splitlines() if ln.strip()]
        if len(lines) >= 3:
            arrow = "<" if "received" in lines[1] else ">"
            story.append(f"{lines[0].split()[-1]} {arrow} {lines[2]}")
    shown = story[-last:] if story else ["none: the INVITE never left"]
    return (f"caller sipp rc={result.returncode}, INVITE responses {result.responses}, last SIP messages "
            f"(> sent, < received): {shown}")


async def until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    """Poll ``condition`` (cheap, no I/O) every 50 ms until it holds; fail with ``what`` after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(what)
        await asyncio.sleep(0.05)


async def connect_events(host: str, port: int, user: str, secret: str) -> tuple[Ami, EventLog]:
    log = EventLog()
    ami = Ami(host, port, user, secret, events=True)
    ami.on_event("Newchannel", log.record)  # with Hangup: which channels are up (settled())
    ami.on_event("UserEvent", log.record)
    ami.on_event("Newexten", log.record)
    ami.on_event("Hangup", log.record)
    ami.on_event("DialEnd", log.record)
    ami.on_event("DTMFEnd", log.record)  # when each key arrived (flows: inter-digit gaps)
    await ami.connect()
    return ami, log


async def connect(runtime: Any) -> tuple[Ami, EventLog, ApplyTarget]:
    """An AMI link recording events, and an apply target on the test Asterisk."""
    s = runtime.settings
    ami, log = await connect_events(s.bind_host, s.ami_port, s.ami_user, s.ami_secret)
    target = ApplyTarget(DialplanFiles(runtime.etc_dir), runtime.sounds_dir, runtime.asterisk_path, ami)
    return ami, log, target
