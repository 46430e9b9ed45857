"""Recordings in progress, over AMI: pause and resume (seed 2.3.7 "altijd met pauze"; also "op
aanvraag" and "op aanvraag met start", which the seed lets pause too).

A pause is ``MixMonitorMute`` (both directions) on the caller's channel, which holds every
recording's MixMonitor (for on_demand_with_start too: the agent's start code runs there). Asterisk
then writes silence, so the file keeps the call's length and the paused stretch is silent. The
moment goes into the recording's side file (``pause=``/``resume=``, host clock), from which the
worker stores the pauses as offsets in the recording's metadata."""

from __future__ import annotations

import time
from pathlib import Path

from orchestrator.asterisk.ami import Ami
from orchestrator.domain.plan import RecordingPolicy
from orchestrator.errors import NotFound, RecordingError
from orchestrator.services.recordings.store import SEPARATOR, Finished, append_meta, check_call_id, parse_name

PAUSABLE = {RecordingPolicy.ALWAYS_WITH_PAUSE, RecordingPolicy.ON_DEMAND, RecordingPolicy.ON_DEMAND_WITH_START}


def in_progress(spool: Path, call_id: str) -> Finished:
    """The recording of ``call_id`` Asterisk is writing now (its name says the policy)."""
    files = sorted((spool / "incoming").glob(f"*{SEPARATOR}{check_call_id(call_id)}{SEPARATOR}*.wav"))
    if not files:
        raise NotFound(f"no recording in progress for call {call_id}")
    return parse_name(files[-1])


async def recording_channel(ami: Ami, rec: Finished) -> str:
    """The caller's channel (Uniqueid = the call id), whose MixMonitor writes ``rec``."""
    call = rec.call_id.split("-")[0]  # segment ids are CALLID-2, CALLID-3, ...
    for channel in await ami.channels():
        if channel.uniqueid == call:
            return channel.name
    raise NotFound(f"call {rec.call_id} has no channel in Asterisk (it ended?)")


async def set_paused(ami: Ami, spool: Path, call_id: str, paused: bool) -> float:
    """Pause (or resume) the recording of a call in progress; returns the moment (Unix time)."""
    rec = in_progress(spool, call_id)
    if rec.policy not in PAUSABLE:
        raise RecordingError(f"call {call_id} is recorded under '{rec.policy.value}', which cannot be paused "
                             f"(only {', '.join(sorted(p.value for p in PAUSABLE))})")
    channel = await recording_channel(ami, rec)
    await ami.mute_recording(channel, paused)
    at = time.time()
    # The agent's pause code (svc-rec-pause) toggles this variable: keep it true to the API's change.
    await ami.setvar(channel, "SVC_REC_PAUSED", "1" if paused else "0")
    if not append_meta(spool, call_id, "pause" if paused else "resume", f"{at:.3f}"):
        raise NotFound(f"the recording of call {call_id} ended while pausing it")
    return at
