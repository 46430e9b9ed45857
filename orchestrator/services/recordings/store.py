"""Finished recordings in, encrypted recordings out; list, export and purge.

Asterisk (dialplan_templates/recording.conf.j2) writes each call's recording into
``<instance>/var/spool/monitor/svc-rec/incoming/`` and, when the recording ends, renames it into
``done/``, with the side file of what was learnt during the call (``NAME.meta``: agent, keep mark,
pause times). ``ingest`` takes every file in ``done/``: reads the metadata from its name and side
file and the duration from its WAV header, encrypts it (AES-256-GCM, current key) into
``$SVC_STATE_DIR/recordings/<tenant>/``, writes the ``Recording`` row and only then removes the
plain file. On-demand recordings nobody marked to keep are deleted instead. ``ingest`` is
idempotent: a crash between storing and removing leaves a plain file whose row exists; the next
pass just removes it.
"""

from __future__ import annotations

import calendar
import json
import os
import re
import time
import wave
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from orchestrator.domain.plan import RecordingPolicy
from orchestrator.errors import NotFound, RecordingError, StoreError
from orchestrator.services.recordings import crypto
from orchestrator.services.recordings.keys import Keyring
from orchestrator.store import models as m
from orchestrator.store import recordings as recordings_db

SEPARATOR = "@"
# Uniqueid, or Uniqueid-N for a later segment; a cluster node's start with its system name ("node2-").
CALL_ID = re.compile(r"([a-z][a-z0-9-]{0,30}-)?[0-9]{1,20}\.[0-9]{1,20}(-[0-9]{1,4})?")


def check_call_id(call_id: str) -> str:
    """A call id from outside (CLI, API) goes into a glob and a file name: Asterisk's form only."""
    if not CALL_ID.fullmatch(call_id):
        raise NotFound(f"no call {call_id!r} (a call id looks like 1767225600.12)")
    return call_id


def store_dir(state_dir: Path) -> Path:
    return state_dir / "recordings"


@dataclass(frozen=True)
class Finished:
    """A finished recording file and what its name says (see recording.conf.j2)."""

    path: Path
    started_at: datetime  # UTC (SQLModel insists on aware datetimes; SQLite gives them back naive)
    call_id: str
    service_number: str  # E.164
    caller: str  # E.164, "" when withheld
    policy: RecordingPolicy
    tenant: str


def parse_name(path: Path) -> Finished:
    parts = path.name.removesuffix(".wav").split(SEPARATOR)
    if len(parts) != 6 or not path.name.endswith(".wav"):
        raise RecordingError(f"{path.name}: not a recording name EPOCH@UNIQUEID@NUMBER@CALLER@POLICY@TENANT.wav")
    epoch, call_id, number, caller, policy, tenant = parts
    try:
        return Finished(path, datetime.fromtimestamp(int(epoch), UTC), call_id, f"+{number}",
                        "" if caller == "x" else f"+{caller}", RecordingPolicy(policy), tenant)
    except ValueError as exc:
        raise RecordingError(f"{path.name}: {exc}") from exc


def read_meta(path: Path) -> dict[str, list[str]]:
    """The side file ``key=value`` lines (svc-rec-done.sh moved it next to the recording), by key."""
    out: dict[str, list[str]] = {}
    try:
        text = path.read_text()
    except FileNotFoundError:
        return out
    for line in text.splitlines():
        key, sep, value = line.strip().partition("=")
        if sep:
            out.setdefault(key, []).append(value)
    return out


def pauses_from(meta: dict[str, list[str]], answered_at: float, seconds: float) -> list[list[float]]:
    """[[start_s, end_s], ...] from the start of the recording, out of the pause=/resume= host times
    (a pause still open at the end runs to the end)."""
    marks = sorted([(float(v), "pause") for v in meta.get("pause", [])]
                   + [(float(v), "resume") for v in meta.get("resume", [])])
    out: list[list[float]] = []
    start: float | None = None
    for at, kind in marks:
        offset = min(max(at - answered_at, 0.0), seconds)
        if kind == "pause" and start is None:
            start = offset
        elif kind == "resume" and start is not None:
            out.append([round(start, 3), round(offset, 3)])
            start = None
    if start is not None:
        out.append([round(start, 3), round(seconds, 3)])
    return out


def wav_seconds(data: bytes, path: Path) -> float:
    import io

    try:
        with wave.open(io.BytesIO(data)) as w:
            return float(w.getnframes()) / float(w.getframerate())
    except (wave.Error, EOFError) as exc:
        raise RecordingError(f"{path.name} is not a readable WAV: {exc}") from exc


def retention_until(start: datetime, retention: str) -> datetime:
    """``start`` plus "90d" (days) or "7y" (calendar years; 29 February → 28 February)."""
    amount, unit = int(retention[:-1]), retention[-1]
    if unit == "d":
        return start + timedelta(days=amount)
    year = start.year + amount
    day = min(start.day, calendar.monthrange(year, start.month)[1])
    return start.replace(year=year, day=day)


def _write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


@dataclass(frozen=True)
class PlainWindow:
    """How long a stored recording's plain audio stayed on disk after Asterisk closed the file."""

    call_id: str
    since_closed_s: float  # from the last audio written (mtime) to the plain file's removal
    since_done_s: float  # from the post-process rename into done/ (ctime) to the removal


@dataclass(frozen=True)
class IngestResult:
    stored: list[m.Recording]
    discarded: list[Finished]  # deleted: on_demand without a keep mark, or empty (never answered)
    failed: list[tuple[Path, str]]
    plain: list[PlainWindow] = field(default_factory=list)


KeepCheck = Callable[[str], str | None]  # call id -> who marked it to keep (e.g. "dtmf"), or None


def ingest(engine: Any, spool: Path, store: Path, keyring: Keyring, *,
           keep_check: KeepCheck | None = None) -> IngestResult:
    """Encrypt and register every finished recording in ``spool/done``; remove the plain files."""
    stored: list[m.Recording] = []
    discarded: list[Finished] = []
    failed: list[tuple[Path, str]] = []
    plain: list[PlainWindow] = []
    done = spool / "done"
    if not done.is_dir():
        return IngestResult(stored, discarded, failed, plain)
    _drop_orphan_side_files(done)
    for path in sorted(done.glob("*.wav")):
        try:
            st = path.stat()
            rec = _ingest_one(engine, path, store, keyring, keep_check)
        except (RecordingError, StoreError, OSError) as exc:
            failed.append((path, str(exc)))
            continue
        if isinstance(rec, Finished):
            discarded.append(rec)
        elif rec is not None:
            stored.append(rec)
            now = time.time()
            plain.append(PlainWindow(rec.call_id, now - st.st_mtime, now - st.st_ctime))
    return IngestResult(stored, discarded, failed, plain)


ORPHAN_AFTER_S = 60.0


def _drop_orphan_side_files(done: Path) -> None:
    """A side file whose recording never came (answered, but the file was never written: no audio
    at all) would stay forever; the post-process moves the side file first, so wait a while."""
    now = time.time()
    for meta in done.glob("*.meta"):
        try:
            if not meta.with_suffix(".wav").exists() and now - meta.stat().st_mtime > ORPHAN_AFTER_S:
                meta.unlink()
        except FileNotFoundError:
            pass


def _kept_by(engine: Any, meta: Finished, side: dict[str, list[str]], keep_check: KeepCheck | None) -> str | None:
    if side.get("keep"):
        return side["keep"][0]
    mark = recordings_db.keep_mark(engine, meta.call_id)
    if mark is not None:
        return mark
    return keep_check(meta.call_id) if keep_check else None


def _drop(path: Path, side_path: Path) -> None:
    path.unlink(missing_ok=True)
    side_path.unlink(missing_ok=True)


def _ingest_one(engine: Any, path: Path, store: Path, keyring: Keyring,
                keep_check: KeepCheck | None) -> m.Recording | Finished | None:
    meta = parse_name(path)
    side_path = path.with_suffix(".meta")
    side = read_meta(side_path)
    if recordings_db.exists(engine, meta.call_id):
        _drop(path, side_path)  # stored before a crash; only the plain copy was left
        return None
    kept_by = None
    if meta.policy is RecordingPolicy.ON_DEMAND:
        kept_by = _kept_by(engine, meta, side, keep_check)
        if kept_by is None:
            _drop(path, side_path)
            return meta
    data = path.read_bytes()
    seconds = wav_seconds(data, path)
    if seconds == 0:
        # MixMonitor(b) opens the file at Dial; never bridged (unanswered) = no audio at all.
        _drop(path, side_path)
        return meta
    # Option b writes only bridged audio and the last frame at the end of the call, so the
    # answer moment (host clock, like the pause marks) is the file's mtime minus its length.
    answered_at = path.stat().st_mtime - seconds
    # The recording's start is that moment, not the EPOCH in the name (taken before Dial, so
    # ring time included, and by Asterisk's clock, which tests may fake).
    started = datetime.fromtimestamp(answered_at, UTC)
    try:
        pauses = pauses_from(side, answered_at, seconds)
    except ValueError as exc:  # a garbled pause time in the side file
        raise RecordingError(f"{side_path.name}: {exc}") from exc
    key = keyring.current
    target = store / meta.tenant / f"{meta.call_id}.rec"
    _write_atomic(target, crypto.encrypt(data, key, meta.call_id))
    row = recordings_db.add(engine, m.Recording(
        call_id=meta.call_id, tenant=meta.tenant, service_number=meta.service_number, caller=meta.caller,
        agent=next((a for a in reversed(side.get("agent", [])) if a), None),
        started_at=started, duration_s=round(seconds, 3), policy=meta.policy.value, key_id=key.id,
        retention_until=retention_until(started, recordings_db.retention(engine, meta.tenant)),
        path=str(target), size_bytes=target.stat().st_size, kept_by=kept_by, pauses_json=json.dumps(pauses)))
    path.unlink()  # only now: the encrypted copy and its row exist
    side_path.unlink(missing_ok=True)
    return row


def mark_keep(engine: Any, call_id: str, source: str = "api") -> bool:
    """The database's keep mark of an on_demand call; False when already marked. Asterisk's
    post-process looks for the mark in the side file (without it, an on_demand recording is
    deleted as soon as the call ends): control.mark_keep writes both."""
    return recordings_db.mark_keep(engine, call_id, source)


def list_recordings(engine: Any, tenant: str | None = None) -> list[m.Recording]:
    return recordings_db.listing(engine, tenant)


def get_recording(engine: Any, recording_id: int, tenant: str) -> m.Recording:
    """The recording, only for its own tenant: another tenant's recording is 'not found' too."""
    row = recordings_db.get(engine, recording_id)
    if row is None or row.tenant != tenant:
        raise NotFound(f"no recording {recording_id} for tenant {tenant!r}")
    return row


def decrypt_recording(row: m.Recording, keyring: Keyring) -> bytes:
    try:
        blob = Path(row.path).read_bytes()
    except OSError as exc:
        raise RecordingError(f"recording {row.id}: cannot read {row.path}: {exc}") from exc
    return crypto.decrypt(blob, keyring, row.call_id)


def export(engine: Any, keyring: Keyring, recording_id: int, tenant: str, out: Path) -> m.Recording:
    """Decrypt one of ``tenant``'s recordings into the WAV file ``out``."""
    row = get_recording(engine, recording_id, tenant)
    plain = decrypt_recording(row, keyring)
    try:
        _write_atomic(out, plain)
    except OSError as exc:
        raise RecordingError(f"cannot write {out}: {exc}") from exc
    return row


def purge(engine: Any, now: datetime | None = None, *, dry_run: bool = False) -> list[m.Recording]:
    """Delete every recording whose retention has ended (file, then row); return what was deleted."""
    rows = recordings_db.expired(engine, now or datetime.now(UTC))
    if dry_run:
        return rows
    for row in rows:
        try:
            Path(row.path).unlink(missing_ok=True)
        except OSError as exc:
            raise RecordingError(f"recording {row.id}: cannot delete {row.path}: {exc}") from exc
        assert row.id is not None
        recordings_db.remove(engine, row.id)
    return rows


def as_dict(row: m.Recording) -> dict[str, Any]:
    return {"id": row.id, "call_id": row.call_id, "tenant": row.tenant, "service_number": row.service_number,
            "caller": row.caller, "agent": row.agent, "started_at": row.started_at.isoformat(),
            "duration_s": row.duration_s,
            "policy": row.policy, "key_id": row.key_id, "retention_until": row.retention_until.isoformat(),
            "pauses": json.loads(row.pauses_json), "kept_by": row.kept_by, "size_bytes": row.size_bytes}
