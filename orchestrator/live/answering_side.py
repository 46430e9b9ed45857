"""What the answering side asks for during a call (DTMF), and an agent's finished pause: work the
live controller hands off its ordered event consumer (docs/live.md), so a slow database or AMI
action never holds up the figures. Each is logged and never fatal: the call itself goes on."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Mapping
from typing import Any

from orchestrator.asterisk.ami import Ami
from orchestrator.domain.fields import NAME_PATTERN
from orchestrator.domain.numbers import parse_service_number
from orchestrator.errors import NumberInvalid, OrchestratorError, StoreError
from orchestrator.live import events as ev
from orchestrator.live.agent_pauses import Pause
from orchestrator.services.blacklist import record_block, spread_block
from orchestrator.services.callcentre.control import set_agent_state
from orchestrator.services.recordings.control import set_paused
from orchestrator.store import call_records

log = logging.getLogger("orchestrator.live")
_E164 = re.compile(r"\+[1-9][0-9]{5,14}")
_NAME = re.compile(NAME_PATTERN)  # a tenant's or an agent's name


async def store_pause(engine: Any, pause: Pause) -> None:
    """An agent's finished pause, for the queues report."""
    try:
        await asyncio.to_thread(call_records.save_pause, engine, pause.tenant, pause.agent,
                                pause.started_at, pause.ended_at, pause.reason)
    except StoreError as exc:
        log.error("agent %s.%s: pause of %.0f s not stored: %s", pause.tenant, pause.agent,
                  (pause.ended_at - pause.started_at).total_seconds(), exc)


async def pause_recording(ami: Ami, event: ev.RecordingPause) -> None:
    """The agent's pause code: mute (or unmute) the recording on the call's node (``ami``) and
    note the moment there."""
    try:
        await set_paused(ami, event.recording, event.paused)
    except OrchestratorError as exc:
        log.error("call %s: the answering side asked to %s the recording, which failed: %s", event.call_id,
                  "pause" if event.paused else "resume", exc)
        return
    log.info("call %s: recording %s %s by the answering side (DTMF)", event.call_id, event.recording,
             "paused" if event.paused else "resumed")


async def spread_agent_code(others: Mapping[str, Ami], event: ev.AgentCode) -> None:
    """An agent's phone dialled a state code on one node (its dialplan set that node's app_queue
    and AstDB); the other nodes of a cluster get the same state at once, so no node keeps ringing
    a logged-out agent. No loop: only the dialplan emits SvcAgent, our AMI changes do not."""
    if not (_NAME.fullmatch(event.tenant) and _NAME.fullmatch(event.agent)):
        log.error("agent code with unusable tenant %r / agent %r ignored", event.tenant, event.agent)
        return
    for node, ami in others.items():
        try:
            await set_agent_state(ami, event.tenant, event.agent, event.state)
        except (OrchestratorError, ValueError) as exc:
            log.error("agent %s.%s: %s (dialled on another node) not set on node %s: %s", event.tenant,
                      event.agent, event.state, node, exc)
            continue
        log.info("agent %s.%s: %s (dialled on another node) set on node %s", event.tenant, event.agent,
                 event.state, node)


async def record_active_block(engine: Any, event: ev.ActiveBlock, others: Mapping[str, Ami] | None = None) -> None:
    """The dialplan already wrote the AstDB of the call's node (the next call there is blocked
    without us). A cluster's ``others`` (the other nodes whose AMI is up) get the same entry at
    once, so the caller is refused whichever node Kamailio picks next; then the database record
    (source "dtmf"), in a worker thread. A node that is down gets it from the database when it
    catches up (services/cluster.catch_up)."""
    try:
        number = parse_service_number(event.number).e164
    except NumberInvalid:
        number = ""
    if number != event.number or not _E164.fullmatch(event.caller):
        log.error("call %s: active block with unusable number %r / caller %r ignored", event.call_id,
                  event.number, event.caller)
        return
    if others:
        failed = await spread_block(others, number, event.caller)
        for node, why in failed.items():
            log.error("call %s: block of %s on %s not written to node %s (it gets it at the next apply or "
                      "catch-up): %s", event.call_id, event.caller, number, node, why)
        log.info("call %s: block of %s on %s written to node(s) %s", event.call_id, event.caller, number,
                 ", ".join(sorted(set(others) - set(failed))) or "-")
    try:
        added = await asyncio.to_thread(record_block, engine, number, event.caller, "dtmf")
    except Exception as exc:  # the AstDB entry (what blocks) is there already
        log.error("call %s: caller %s blocked on %s by the answering side, but the database record "
                  "failed: %r", event.call_id, event.caller, number, exc)
        return
    log.info("call %s: caller %s %s on %s by the answering side (DTMF)", event.call_id, event.caller,
             "blacklisted" if added else "was already blacklisted", number)
