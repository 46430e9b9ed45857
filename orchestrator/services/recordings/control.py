"""Recordings in progress, over AMI: pause and resume (seed 2.3.7 "altijd met pauze"; also "op
aanvraag" and "op aanvraag met start", which the seed lets pause too).

A pause is ``MixMonitorMute`` (both directions) on the caller's channel, which holds every
recording's MixMonitor (for on_demand_with_start too: the agent's start code runs there). Asterisk
then writes silence, so the file keeps the call's length and the paused stretch is silent. The
moment goes into the recording's side file (``pause=``/``resume=``, host clock), from which the
worker stores the pauses as offsets in the recording's metadata.

Everything here goes over the AMI of the call's node (a cluster: the node its call id names), never
through the local file system: the side file is written by that node's dialplan (svc-rec-mark),
so pauses and keep marks work for a call on any node, wherever the orchestrator runs."""

from __future__ import annotations

import asyncio
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from orchestrator.asterisk.ami import Ami
from orchestrator.domain.plan import RecordingPolicy
from orchestrator.errors import NotFound, RecordingError
from orchestrator.services.recordings import store
from orchestrator.services.recordings.store import Finished, check_call_id, parse_name

_SEGMENT = re.compile(r"-[0-9]{1,4}$")  # CALLID-N: a later segment of CALLID's recording
PAUSABLE = {RecordingPolicy.ALWAYS_WITH_PAUSE, RecordingPolicy.ON_DEMAND, RecordingPolicy.ON_DEMAND_WITH_START}


@dataclass(frozen=True)
class InProgress:
    """A recording being written now, as the call's node knows it (its caller channel's variables)."""

    channel: str  # the caller's channel, whose MixMonitor writes it
    name: str  # EPOCH@CALLID@NUMBER@CALLER@POLICY@TENANT (recording.conf.j2)
    recording: Finished  # what the name says (tenant, policy, ...)


async def recording_in_progress(ami: Ami, call_id: str) -> InProgress:
    """The recording ``call_id`` (CALLID, or CALLID-N for a later segment) on the node ``ami``
    reaches, from its caller channel's SVC_REC_NAME / SVC_REC_SEGNAME: no file system needed, so
    this works for a call on any node of a cluster. NotFound when that node has none."""
    call = _SEGMENT.sub("", check_call_id(call_id))
    channel = next((c.name for c in await ami.channels() if c.uniqueid == call), None)
    if channel is None:
        raise NotFound(f"no recording in progress for call {call_id} (it ended?)")
    segment = call_id != call or await ami.getvar(channel, "SVC_REC_POLICY") == RecordingPolicy.ON_DEMAND_WITH_START
    if segment:
        on = await ami.getvar(channel, "SVC_REC_ON") == "1" and await ami.getvar(channel, "SVC_REC_SEGCALL") == call_id
        name = await ami.getvar(channel, "SVC_REC_SEGNAME") if on else ""
    else:
        name = await ami.getvar(channel, "SVC_REC_NAME")
    if not name:
        raise NotFound(f"no recording in progress for call {call_id}")
    return InProgress(channel, name, parse_name(Path(f"{name}.wav")))


async def set_paused(ami: Ami, call_id: str, paused: bool) -> float:
    """Pause (or resume) the recording of a call in progress on the node ``ami`` reaches (the
    call's node); returns the moment (Unix time). The mute goes over AMI, the moment into the
    recording's side file through that node's dialplan (Ami.recording_mark)."""
    found = await recording_in_progress(ami, call_id)
    rec, channel = found.recording, found.channel
    if rec.policy not in PAUSABLE:
        raise RecordingError(f"call {call_id} is recorded under '{rec.policy.value}', which cannot be paused "
                             f"(only {', '.join(sorted(p.value for p in PAUSABLE))})")
    await ami.mute_recording(channel, paused)
    at = time.time()
    # The agent's pause code (svc-rec-pause) toggles this variable: keep it true to the API's change.
    await ami.setvar(channel, "SVC_REC_PAUSED", "1" if paused else "0")
    if not await ami.recording_mark("pause" if paused else "resume", found.name, f"{at:.3f}"):
        raise NotFound(f"the recording of call {call_id} ended while pausing it")
    return at


async def mark_keep(ami: Ami, engine: Any, call_id: str, source: str) -> bool:
    """Keep the on_demand recording of a call in progress on the node ``ami`` reaches: the mark
    goes into its side file there (the node's post-process keeps the file by it) and into the
    database. False when it was marked already."""
    found = await recording_in_progress(ami, call_id)
    if not await ami.recording_mark("keep", found.name, source):
        raise NotFound(f"no recording in progress for call {call_id}")
    return await asyncio.to_thread(store.mark_keep, engine, call_id, source)
