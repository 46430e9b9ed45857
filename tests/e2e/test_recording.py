"""Call recording end to end: real Asterisk 22 records answered calls (MixMonitor), the worker
encrypts them, export decrypts them. The caller (deploy/sipp/caller_audio.xml) sends real audio
(G.711 from sip-tester's g711a.pcap), so a recording holds sound, not just a header."""

from __future__ import annotations

import array
import asyncio
import base64
import json
import os
import re
import socket
import subprocess
import sys
import time
import wave
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session

from orchestrator.asterisk.spool import spool_dir
from orchestrator.domain.plan import AMSTERDAM, parse_plan
from orchestrator.errors import NotFound, RecordingError, RecordingKeyError, RecordingTampered
from orchestrator.live.controller import LiveController
from orchestrator.services.apply import apply_plan
from orchestrator.services.recordings import store
from orchestrator.services.recordings.control import mark_keep, set_paused
from orchestrator.services.recordings.keys import parse_keys
from orchestrator.store import engine as store_engine
from tests.e2e.events import connect, until
from tests.harness.redis_server import RedisServer
from tests.harness.sipp import free_port, place_call

pytestmark = pytest.mark.e2e

ANSWER, NOANSWER = "+31205550011", "+31205550003"
# carrier (deploy/sipp/carrier.xml): 6 answers and presses *44 after 1 s; 8 presses *46 after 1.5 s;
# 5 presses *46 after 1 s and *47 2 s later
# 9 presses *45 after 1 s and again 2 s later
KEEPER, STARTER, START_STOPPER, PAUSER = "+31205550016", "+31205550018", "+31205550015", "+31205550019"
N_ALWAYS, N_NEVER, N_DEMAND, N_UNANSWERED = "+318000000701", "+318000000702", "+318000000703", "+318000000704"
N_KEEP, N_PAUSE, N_START, N_START_STOP = "+318000000705", "+318000000706", "+318000000707", "+318000000708"
N_TO_113, N_PAUSE_DTMF, N_START_IDLE = "+318000000709", "+318000000710", "+318000000711"
KEY_LINE = "k2:" + base64.b64encode(bytes(range(32))).decode()
KEYS = parse_keys(KEY_LINE, "test keys")
HOLD_S = 4.0


def plan() -> dict[str, Any]:
    def n(number: str, policy: str, dest: str = ANSWER, **extra: Any) -> dict[str, Any]:
        return {"number": number, "routings": {"main": [{"number": dest, "ring_time": 5}]}, "active": "main",
                "recording": {"policy": policy, **extra}}
    return {"tenant": "rec", "recording_retention": "90d", "numbers": [
        n(N_ALWAYS, "always", announce="default-whisper"), n(N_NEVER, "never"), n(N_DEMAND, "on_demand"),
        n(N_UNANSWERED, "always", dest=NOANSWER), n(N_KEEP, "on_demand", dest=KEEPER),
        n(N_PAUSE, "always_with_pause"), n(N_START, "on_demand_with_start", dest=STARTER),
        n(N_START_STOP, "on_demand_with_start", dest=START_STOPPER), n(N_TO_113, "always", dest="0800 0113"),
        n(N_PAUSE_DTMF, "always_with_pause", dest=PAUSER), n(N_START_IDLE, "on_demand_with_start")]}


class Rec:
    def __init__(self, runtime: Any, engine: Any, workdir: Path, events: Any, ami: Any) -> None:
        self.runtime, self.engine, self.workdir, self.events, self.ami = runtime, engine, workdir, events, ami
        self.spool = spool_dir(runtime.instance_dir)
        self.timed: list[tuple[float, dict[str, Any]]] = []  # (monotonic receipt time, DTMFEnd/Hangup event)
        self.store = workdir / "recordings"

    async def call(self, to: str, caller: str = "0201234567", hold_s: float = HOLD_S) -> Any:
        self.events.clear()
        self.timed.clear()
        return await asyncio.to_thread(place_call, self.runtime.settings.sip_port, to, caller, hold_s=hold_s,
                                       workdir=self.workdir, scenario="caller_audio.xml")

    async def finished(self, timeout: float = 5.0) -> list[Path]:
        """The recordings Asterisk finished (moved into done/), waiting for the post-process move."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            incoming = list((self.spool / "incoming").glob("*.wav")) if (self.spool / "incoming").exists() else []
            if not incoming:
                break
            await asyncio.sleep(0.1)
        return sorted((self.spool / "done").glob("*.wav")) if (self.spool / "done").exists() else []

    def ingest(self) -> store.IngestResult:
        return store.ingest(self.engine, self.spool, self.store, KEYS)


@pytest.fixture(scope="module")
async def rec(runtime: Any, carrier: Any, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Rec]:
    tmp = tmp_path_factory.mktemp("recording")
    engine = store_engine.make_engine(f"sqlite:///{tmp / 'e2e.db'}")
    ami, events, target = await connect(runtime)
    with Session(engine) as session:
        await apply_plan(parse_plan(plan()), session, target, now=datetime.now(AMSTERDAM))
    r = Rec(runtime, engine, tmp, events, ami)
    for name in ("DTMFEnd", "Hangup"):
        ami.on_event(name, lambda _m, msg: r.timed.append((time.monotonic(), dict(msg.items()))))
    try:
        yield r
    finally:
        ami.close()


def longest_silence(path: Path, window_s: float = 0.02) -> tuple[float, float]:
    """(start, length) in seconds of the longest run of digitally silent windows (|sample| <= 2):
    a muted MixMonitor writes zeros; the caller's speech never is that quiet for long."""
    with wave.open(str(path)) as w:
        rate, frames = w.getframerate(), w.readframes(w.getnframes())
    samples = array.array("h", frames)
    step = int(rate * window_s)
    quiet = [max(map(abs, samples[i:i + step]), default=0) <= 2 for i in range(0, len(samples), step)]
    best, start, run_start = (0, 0), 0, None
    for i, q in enumerate(quiet + [False]):
        if q and run_start is None:
            run_start = i
        elif not q and run_start is not None:
            if i - run_start > best[1]:
                best = (run_start, i - run_start)
            run_start = None
    start, length = best
    return start * window_s, length * window_s


def sox_rms(path: Path, start: float, length: float) -> float:
    out = subprocess.run(["sox", str(path), "-n", "trim", f"{start:.3f}", f"{length:.3f}", "stat"],
                         capture_output=True, text=True, check=True).stderr
    m = re.search(r"^RMS\s+amplitude:\s+([\d.]+)", out, re.M)
    assert m, out
    return float(m.group(1))


def sox_stat(path: Path) -> dict[str, float]:
    out = subprocess.run(["sox", str(path), "-n", "stat"], capture_output=True, text=True, check=True).stderr
    stats = {}
    for line in out.splitlines():
        m = re.match(r"^(.+?):\s+(-?[\d.]+)\s*$", line)
        if m:
            stats[m.group(1).strip()] = float(m.group(2))
    return stats


async def test_always_records_real_audio_encrypted_at_rest(rec: Rec, tmp_path: Path) -> None:
    result = await rec.call(N_ALWAYS)
    assert result.answered
    done = await rec.finished()
    assert len(done) == 1, done
    assert f"@{N_ALWAYS[1:]}@31201234567@always@rec.wav" in done[0].name
    ingested = rec.ingest()
    assert not ingested.failed and len(ingested.stored) == 1
    row = ingested.stored[0]
    assert not list((rec.spool / "done").glob("*.wav")), "the plain recording stays on disk"
    assert (row.tenant, row.service_number, row.caller, row.policy, row.key_id) == (
        "rec", N_ALWAYS, "+31201234567", "always", "k2")
    assert abs((row.retention_until - row.started_at) - timedelta(days=90)) < timedelta(seconds=1)
    # started_at is the answer (host clock): the hang-up minus the recording's length.
    ended = datetime.now(UTC).replace(tzinfo=None) - row.started_at.replace(tzinfo=None)
    assert timedelta(seconds=HOLD_S - 0.5) < ended < timedelta(seconds=HOLD_S + 3), ended

    blob = Path(row.path).read_bytes()
    assert b"RIFF" not in blob[:64] and b"WAVE" not in blob, "the file at rest must not be a readable WAV"

    out = tmp_path / "out.wav"
    store.export(rec.engine, KEYS, row.id or 0, "rec", out)
    stats = sox_stat(out)
    # The caller talks for the whole hold time; the recording runs from answer to hang-up.
    assert abs(stats["Length (seconds)"] - HOLD_S) <= 0.5, stats
    assert abs(row.duration_s - stats["Length (seconds)"]) < 0.01
    assert stats["RMS     amplitude"] > 0.01, f"silence: {stats}"

    with pytest.raises(NotFound):  # another tenant cannot export it
        store.export(rec.engine, KEYS, row.id or 0, "other", tmp_path / "x.wav")
    wrong = parse_keys("k2:" + base64.b64encode(bytes(32)).decode(), "wrong keys")
    with pytest.raises(RecordingKeyError, match="not the key"):
        store.export(rec.engine, wrong, row.id or 0, "rec", tmp_path / "x.wav")
    flipped = bytearray(blob)
    flipped[len(blob) // 2] ^= 0x01
    Path(row.path).write_bytes(bytes(flipped))
    with pytest.raises(RecordingTampered, match="integrity"):
        store.export(rec.engine, KEYS, row.id or 0, "rec", tmp_path / "x.wav")
    Path(row.path).write_bytes(blob)


async def test_never_and_unanswered_leave_nothing(rec: Rec) -> None:
    assert (await rec.call(N_NEVER)).answered
    unanswered = await rec.call(N_UNANSWERED)
    assert not unanswered.answered
    # MixMonitor(b) opened a file at Dial, but nothing was ever bridged: the worker drops it.
    done = await rec.finished()
    assert [p.name.split("@")[2] for p in done] == [N_UNANSWERED[1:]]
    result = rec.ingest()
    assert result.stored == [] and [f.service_number for f in result.discarded] == [N_UNANSWERED]
    assert await rec.finished() == []


async def test_emergency_caller_never_recorded(rec: Rec) -> None:
    for caller in ("112", "113", "08000113"):
        assert (await rec.call(N_ALWAYS, caller=caller, hold_s=1.0)).answered
        assert [e for e in rec.events.events if e.get("UserEvent") == "SvcRecording"] == [], caller
    assert await rec.finished() == [] and not list((rec.spool / "incoming").iterdir())


async def test_on_demand_kept_only_when_marked(rec: Rec) -> None:
    assert (await rec.call(N_DEMAND, hold_s=1.5)).answered
    # Nobody pressed *44: Asterisk's post-process deleted it; the worker never sees it.
    assert await rec.finished() == []
    assert [e["Policy"] for e in rec.events.events if e.get("UserEvent") == "SvcRecording"] == ["on_demand"]
    assert not list((rec.spool / "incoming").iterdir()), "plain audio or a side file left behind"
    assert rec.ingest() == store.IngestResult([], [], [])

    rec.events.clear()  # else the first call's SvcRecording event matches below
    call = asyncio.create_task(rec.call(N_DEMAND, hold_s=3.0))
    event = await rec.events.wait_for(lambda e: e.get("UserEvent") == "SvcRecording", timeout=10)
    call_id = event["Name"].split("@")[1]
    assert await mark_keep(rec.ami, rec.engine, call_id, "api")
    assert (await call).answered
    await rec.finished()
    result = rec.ingest()
    assert [r.call_id for r in result.stored] == [call_id] and result.stored[0].kept_by == "api"


async def test_purge_removes_exactly_the_expired(rec: Rec) -> None:
    assert (await rec.call(N_ALWAYS, hold_s=1.0)).answered
    await rec.finished()
    rec.ingest()
    rows = store.list_recordings(rec.engine, "rec")
    assert len(rows) >= 2
    first = min(rows, key=lambda r: r.retention_until)
    later = [r for r in rows if r.retention_until > first.retention_until]
    assert later, "two recordings with distinct retention ends are needed"
    assert store.purge(rec.engine, first.retention_until.replace(tzinfo=UTC) - timedelta(seconds=1)) == []
    gone = store.purge(rec.engine, first.retention_until.replace(tzinfo=UTC))  # the moment it ends
    assert [r.id for r in gone] == [first.id]
    assert not Path(first.path).exists()
    assert {r.id for r in store.list_recordings(rec.engine, "rec")} == {r.id for r in rows} - {first.id}


async def test_on_demand_kept_by_the_agent_pressing_star44(rec: Rec, tmp_path: Path) -> None:
    """The answering side presses *44 (real RFC 4733 events); Asterisk alone keeps the file."""
    result = await rec.call(N_KEEP, hold_s=3.0)
    assert result.answered
    done = await rec.finished()
    assert len(done) == 1 and f"@{N_KEEP[1:]}@" in done[0].name, done
    kept = [e for e in rec.events.events if e.get("UserEvent") == "SvcRecordingKeep"]
    assert len(kept) == 1 and kept[0]["Call"] == done[0].name.split("@")[1]
    ingested = rec.ingest()
    assert not ingested.failed and len(ingested.stored) == 1
    row = ingested.stored[0]
    assert (row.kept_by, row.agent, row.policy) == ("dtmf", KEEPER, "on_demand")
    out = tmp_path / "kept.wav"
    store.export(rec.engine, KEYS, row.id or 0, "rec", out)
    stats = sox_stat(out)
    assert abs(stats["Length (seconds)"] - 3.0) <= 0.5 and stats["RMS     amplitude"] > 0.01, stats
    assert not list((rec.spool / "done").iterdir()) and not list((rec.spool / "incoming").iterdir())


async def test_pause_leaves_a_silent_gap_of_the_paused_length(rec: Rec, tmp_path: Path) -> None:
    """always_with_pause: the API pauses 1.5 s after answer and resumes 2 s later (AMI
    MixMonitorMute). The file keeps the call's length; the paused stretch is digital silence of
    the paused length, the rest is the caller's speech; the pause is in the metadata."""
    hold, pause_after, pause_for = 6.0, 1.5, 2.0
    rec.events.clear()  # before the task starts: wait_for must not see an earlier call's events
    call = asyncio.create_task(rec.call(N_PAUSE, hold_s=hold))
    event = await rec.events.wait_for(lambda e: e.get("UserEvent") == "SvcRecording", timeout=10)
    call_id = event["Name"].split("@")[1]
    await rec.events.wait_for(lambda e: e.get("Event") == "DialEnd" and e.get("DialStatus") == "ANSWER")
    await asyncio.sleep(pause_after)  # the scenario's timing (what the file must show), not a wait for an event
    paused = await set_paused(rec.ami, call_id, True)
    await asyncio.sleep(pause_for)  # likewise: the length of the pause under test
    resumed = await set_paused(rec.ami, call_id, False)
    assert (await call).answered
    await rec.finished()
    ingested = rec.ingest()
    assert not ingested.failed and len(ingested.stored) == 1
    row = ingested.stored[0]
    [(p_start, p_end)] = json.loads(row.pauses_json)
    assert abs((p_end - p_start) - (resumed - paused)) < 0.01 and abs(p_start - pause_after) <= 0.5, row.pauses_json
    out = tmp_path / "paused.wav"
    store.export(rec.engine, KEYS, row.id or 0, "rec", out)
    assert abs(sox_stat(out)["Length (seconds)"] - hold) <= 0.5
    gap_start, gap = longest_silence(out)
    print(f"\npause {resumed - paused:.3f} s by the API clock; silent stretch in the file {gap:.3f} s at "
          f"{gap_start:.2f} s (metadata {p_start:.3f}-{p_end:.3f} s)")
    assert abs(gap - pause_for) <= 0.5 and abs(gap_start - p_start) <= 0.5
    assert sox_rms(out, p_start + 0.2, (p_end - p_start) - 0.4) < 0.001, "the paused stretch is not silent"
    assert sox_rms(out, 0.1, p_start - 0.2) > 0.01 and sox_rms(out, p_end + 0.2, hold - p_end - 0.5) > 0.01


async def test_pause_refused_where_the_policy_has_none(rec: Rec) -> None:
    rec.events.clear()
    call = asyncio.create_task(rec.call(N_ALWAYS, hold_s=2.0))
    event = await rec.events.wait_for(lambda e: e.get("UserEvent") == "SvcRecording", timeout=10)
    await rec.events.wait_for(lambda e: e.get("Event") == "DialEnd" and e.get("DialStatus") == "ANSWER")
    call_id = event["Name"].split("@")[1]
    # MixMonitor(b) creates its file with the first bridged audio: wait for it, so the refusal below
    # is about the policy and not "no recording in progress".
    await until(lambda: any((rec.spool / "incoming").glob(f"*@{call_id}@*.wav")), 10, "the recording file")
    with pytest.raises(RecordingError, match="cannot be paused"):
        await set_paused(rec.ami, call_id, True)
    assert (await call).answered
    await rec.finished()
    [row] = rec.ingest().stored
    assert json.loads(row.pauses_json) == [] and row.agent == ANSWER
    with pytest.raises(NotFound, match="no recording in progress"):  # the call is over
        await set_paused(rec.ami, row.call_id, True)


async def _moments(rec: Rec, digit: str) -> tuple[float, float]:
    """(when the answering side's last digit ``digit`` of a code arrived, when the caller hung up)."""
    deadline = time.monotonic() + 5  # sipp may return before AMI's Hangup event has arrived (busy machine)
    while not any(e.get("Event") == "Hangup" for _, e in rec.timed) and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    pressed = [at for at, e in rec.timed if e.get("Event") == "DTMFEnd" and e.get("Digit") == digit
               and e.get("Direction") == "Received"]  # only the answering side sends digits here
    hangups = [at for at, e in rec.timed if e.get("Event") == "Hangup"]
    assert pressed and hangups, rec.timed
    return pressed[0], min(hangups)


async def test_on_demand_with_start_records_from_the_agents_start_code(rec: Rec, tmp_path: Path) -> None:
    """Nothing is recorded until the answering side presses *46 (1.5 s into the call); then the
    file runs from the press to the end of the call."""
    hold = 5.0
    assert (await rec.call(N_START, hold_s=hold)).answered
    done = await rec.finished()
    assert len(done) == 1, done
    [row] = rec.ingest().stored
    pressed, ended = await _moments(rec, "6")
    expected = ended - pressed
    out = tmp_path / "started.wav"
    store.export(rec.engine, KEYS, row.id or 0, "rec", out)
    stats = sox_stat(out)
    print(f"\nstart code to hang-up {expected:.3f} s; recording {stats['Length (seconds)']:.3f} s")
    assert abs(stats["Length (seconds)"] - expected) <= 0.5 and stats["Length (seconds)"] < hold - 1.0, stats
    assert stats["RMS     amplitude"] > 0.01
    assert (row.policy, row.agent, row.call_id) == ("on_demand_with_start", STARTER, done[0].name.split("@")[1])


async def test_on_demand_with_start_stop_ends_the_recording(rec: Rec, tmp_path: Path) -> None:
    """*46 after 1 s, *47 two seconds later: one recording of just that stretch; the call goes on."""
    assert (await rec.call(N_START_STOP, hold_s=8.0)).answered
    await rec.finished()
    [row] = rec.ingest().stored
    started, _ = await _moments(rec, "6")
    stopped, ended = await _moments(rec, "7")
    out = tmp_path / "segment.wav"
    store.export(rec.engine, KEYS, row.id or 0, "rec", out)
    length = sox_stat(out)["Length (seconds)"]
    print(f"\nstart to stop code {stopped - started:.3f} s; recording {length:.3f} s; "
          f"call went on {ended - stopped:.1f} s")
    assert abs(length - (stopped - started)) <= 0.5 and ended - stopped > 1.5
    assert [e["UserEvent"] for e in rec.events.events if str(e.get("UserEvent", "")).startswith("SvcRecordingSt")] == [
        "SvcRecordingStart", "SvcRecordingStop"]


async def test_on_demand_with_start_without_the_code_records_nothing(rec: Rec) -> None:
    assert (await rec.call(N_START_IDLE, hold_s=2.0)).answered
    assert [e["Policy"] for e in rec.events.events if e.get("UserEvent") == "SvcRecording"] == ["on_demand_with_start"]
    assert await rec.finished() == [] and not list((rec.spool / "incoming").iterdir())


async def test_call_to_113_is_never_recorded(rec: Rec) -> None:
    """Routed to 0800-0113 under 'always': no MixMonitor at all (an ordinary unanswered destination
    still leaves an empty file, see test_never_and_unanswered_leave_nothing)."""
    await rec.call(N_TO_113, hold_s=1.0)
    assert [e for e in rec.events.events if e.get("UserEvent") == "SvcRecording"] == []
    assert [e["Destination"] for e in rec.events.svc(N_TO_113) if e.get("Step") == "dial"] == ["+318000113"]
    assert await rec.finished() == [] and not list((rec.spool / "incoming").iterdir())


async def test_worker_encrypts_as_soon_as_the_recording_ends(rec: Rec) -> None:
    """`orchestrator recordings watch` (inotify on done/) stores each recording the moment
    Asterisk's post-process renames it there: no plain audio is left shortly after hang-up."""
    s = rec.runtime.settings
    env = {**os.environ, "SVC_STATE_DIR": str(s.state_dir), "SVC_INSTANCE": s.instance_name,
           "SVC_ROOTFS_CACHE": str(s.rootfs_cache), "SVC_AMI_SECRET": s.ami_secret, "SVC_ARI_SECRET": s.ari_secret,
           "SVC_DB_URL": str(rec.engine.url), "SVC_RECORDING_KEYS": KEY_LINE}
    log = rec.workdir / "watch.log"
    with open(log, "w") as fh:
        worker = subprocess.Popen([str(Path(sys.executable).with_name("orchestrator")), "recordings", "watch"],
                                  env=env, stderr=fh, stdout=fh)
    try:
        deadline = time.monotonic() + 20
        while "watching" not in log.read_text() and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        before = {r.id for r in store.list_recordings(rec.engine, "rec")}
        windows = []
        for _ in range(3):
            assert (await rec.call(N_ALWAYS, hold_s=1.5)).answered
            hung_up = time.monotonic()
            while time.monotonic() - hung_up < 2.0:
                new = [r for r in store.list_recordings(rec.engine, "rec") if r.id not in before]
                if new and not list((rec.spool / "done").iterdir()) and not list((rec.spool / "incoming").iterdir()):
                    break
                await asyncio.sleep(0.01)
            assert new, f"not stored within 2 s of hang-up: {log.read_text()}"
            assert not list((rec.spool / "done").iterdir()) and not list((rec.spool / "incoming").iterdir())
            before |= {r.id for r in new}
            # The worker logs a recording just after committing it: wait for that line too (the
            # row alone can be seen a moment before it).
            while len(gone := re.findall(r"plain audio gone (\d+) ms", log.read_text())) <= len(windows):
                assert time.monotonic() - hung_up < 5.0, f"stored but not logged: {log.read_text()}"
                await asyncio.sleep(0.01)
            windows += [float(ms) for ms in gone[len(windows):]]
        print(f"\nplain audio on disk after the recording ended (watch log): {windows} ms")
        assert len(windows) == 3 and max(windows) < 1000, log.read_text()
    finally:
        worker.terminate()
        assert worker.wait(10) == 0, log.read_text()


async def test_agent_pause_code_with_the_live_controller(rec: Rec, tmp_path: Path) -> None:
    """*45 pressed by the answering side toggles the pause; the dialplan asks, the live controller
    (orchestrator serve) mutes. The silent stretch matches the time between the two presses."""
    with RedisServer(tmp_path / "redis") as redis:
        settings = rec.runtime.settings.with_(redis_url=redis.url, live_port=free_port(socket.SOCK_STREAM))
        service = LiveController(settings, engine=rec.engine)
        await service.start()
        try:
            deadline = time.monotonic() + 10
            while service.resynced_at is None and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            assert service.resynced_at is not None, "live controller did not log in"
            assert (await rec.call(N_PAUSE_DTMF, hold_s=7.0)).answered
        finally:
            # Bounded: one full run hung here (or just after) for minutes; not reproduced since.
            await asyncio.wait_for(service.stop(), 30)
        assert service.failed_task() is None
    fives = [at for at, e in rec.timed if e.get("Event") == "DTMFEnd" and e.get("Digit") == "5"
             and e.get("Direction") == "Received"]
    assert len(fives) == 2, rec.timed
    asked = [e["Paused"] for e in rec.events.events if e.get("UserEvent") == "SvcRecordingPause"]
    assert asked == ["1", "0"]
    await rec.finished()
    [row] = rec.ingest().stored
    [(p_start, p_end)] = json.loads(row.pauses_json)
    out = tmp_path / "dtmf-paused.wav"
    store.export(rec.engine, KEYS, row.id or 0, "rec", out)
    gap_start, gap = longest_silence(out)
    between = fives[1] - fives[0]
    print(f"\n*45 to *45 {between:.3f} s; pause in the metadata {p_end - p_start:.3f} s; silent stretch {gap:.3f} s "
          f"at {gap_start:.2f} s (metadata {p_start:.2f} s)")
    assert abs(gap - between) <= 0.5 and abs((p_end - p_start) - between) <= 0.5 and abs(gap_start - p_start) <= 0.5
    assert sox_rms(out, 0.1, p_start - 0.2) > 0.01 and sox_rms(out, p_end + 0.3, 1.0) > 0.01
