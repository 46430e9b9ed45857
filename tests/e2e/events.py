"""Collects Asterisk's AMI events during end-to-end tests (real AMI connection)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from orchestrator.asterisk.ami import Ami
from orchestrator.asterisk.dialplan_files import DialplanFiles
from orchestrator.services.apply import ApplyTarget


class EventLog:
    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []

    def record(self, _manager: Any, message: Any) -> None:
        self.events.append({k: v for k, v in message.items()})

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

    async def wait_for(self, predicate: Callable[[dict[str, Any]], bool], timeout: float = 10.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for e in self.events:
                if predicate(e):
                    return e
            await asyncio.sleep(0.05)
        raise AssertionError(f"no matching AMI event within {timeout} s")


async def connect_events(host: str, port: int, user: str, secret: str) -> tuple[Ami, EventLog]:
    log = EventLog()
    ami = Ami(host, port, user, secret, events=True)
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
