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


class EventLog:
    """Every event in arrival order, and the channels that are up (seen in Newchannel, not yet in
    Hangup). ``settled()`` is the condition "the calls are over and their last events are here":
    sipp returns once its BYE is answered, before Asterisk has hung up the other legs (the agent's,
    the carrier's, Local channels), so their Hangup events can arrive after the test moved on."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self.up: dict[str, str] = {}  # Uniqueid -> Linkedid of the channels up; kept across clear()
        self.dialled: dict[str, str] = {}  # Linkedid -> the extension its first channel called

    def record(self, _manager: Any, message: Any) -> None:
        event = {k: v for k, v in message.items()}
        self.events.append(event)
        unique, linked = event.get("Uniqueid", ""), event.get("Linkedid", "")
        if event.get("Event") == "Newchannel":
            self.up[unique] = linked
            self.dialled.setdefault(linked, event.get("Exten", ""))
        elif event.get("Event") == "Hangup":
            self.up.pop(unique, None)

    def channels_up(self, exten: str | None = None) -> list[str]:
        """Uniqueids of the channels up; with ``exten``: only those of calls to that extension."""
        return sorted(u for u, linked in self.up.items()
                      if exten is None or self.dialled.get(linked) == re.sub(r"[\s\-()]", "", exten))

    async def settled(self, exten: str | None = None, timeout: float = 15.0) -> None:
        """Wait until every channel seen coming up (of calls to ``exten``, if given) has hung up."""
        try:
            await until(lambda: not self.channels_up(exten), timeout, "")
        except AssertionError:
            raise AssertionError(f"channels still up after {timeout} s: {self.channels_up(exten)}") from None

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
    await ami.connect()
    return ami, log


async def connect(runtime: Any) -> tuple[Ami, EventLog, ApplyTarget]:
    """An AMI link recording events, and an apply target on the test Asterisk."""
    s = runtime.settings
    ami, log = await connect_events(s.bind_host, s.ami_port, s.ami_user, s.ami_secret)
    target = ApplyTarget(DialplanFiles(runtime.etc_dir), runtime.sounds_dir, runtime.asterisk_path, ami)
    return ami, log, target
