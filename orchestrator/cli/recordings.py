"""``orchestrator recordings list|export|purge|ingest|watch|keep|pause|resume``."""

from __future__ import annotations

import asyncio
import json
import signal
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from orchestrator.asterisk.layout import paths_for
from orchestrator.cli.common import ami_of_call, engine_for, errors_to_exit_codes, say
from orchestrator.cli.tables import emit
from orchestrator.domain.plan import AMSTERDAM
from orchestrator.services.recordings import crypto, store
from orchestrator.services.recordings.control import mark_keep, set_paused
from orchestrator.services.recordings.inotify import DirWatch
from orchestrator.services.recordings.keys import Keyring, load_keyring
from orchestrator.settings import Settings, load_settings

recordings_app = typer.Typer(help="Call recordings: encrypted at rest, per tenant, with retention.",
                             no_args_is_help=True)


def _local(dt: datetime) -> str:
    return dt.replace(tzinfo=UTC).astimezone(AMSTERDAM).strftime("%Y-%m-%d %H:%M:%S")


@recordings_app.command("list")
def list_cmd(tenant: Annotated[str | None, typer.Option(help="only this tenant's recordings")] = None,
             as_json: Annotated[bool, typer.Option("--json", help="machine-readable")] = False) -> None:
    """Recordings (metadata only; the audio stays encrypted). Times are Europe/Amsterdam; pauses
    are the silent stretches in seconds from the start of the recording."""

    with errors_to_exit_codes():
        rows = store.list_recordings(engine_for(load_settings()), tenant)
        if as_json:
            emit([store.as_dict(r) for r in rows], [], as_json=True)
            return
        if not rows:
            say("no recordings")
            return
        emit([_row(r) for r in rows], ["id", "started", "tenant", "number", "caller", "agent", "seconds", "policy",
                                       "pauses", "kept by", "key", "kept until"], as_json=False, title="Recordings")


def _row(r: Any) -> dict[str, Any]:
    pauses = json.loads(r.pauses_json)
    return {"id": r.id, "started": _local(r.started_at), "tenant": r.tenant, "number": r.service_number,
            "caller": r.caller or "withheld", "agent": r.agent or "?", "seconds": f"{r.duration_s:.1f}",
            "policy": r.policy, "pauses": " ".join(f"{a:.1f}-{b:.1f}" for a, b in pauses) or "-",
            "kept by": r.kept_by or "-", "key": r.key_id, "kept until": _local(r.retention_until)[:10]}


@recordings_app.command()
def export(recording_id: Annotated[int, typer.Argument(help="the id from `recordings list`")],
           tenant: Annotated[str, typer.Option(help="the tenant the recording belongs to (required)")],
           output: Annotated[Path, typer.Option("-o", "--output", help="the WAV file to write")]) -> None:
    """Decrypt one recording of TENANT into a WAV file. Another tenant's recording is not found."""
    with errors_to_exit_codes():
        settings = load_settings()
        row = store.export(engine_for(settings), load_keyring(settings.state_dir), recording_id, tenant, output)
        say(f"recording {row.id} ({row.duration_s:.1f} s, call {row.call_id}) written to {output}")


@recordings_app.command()
def purge(dry_run: Annotated[bool, typer.Option(help="only show what would be deleted")] = False,
          now: Annotated[str | None, typer.Option(help='pretend it is this moment ("YYYY-MM-DD HH:MM", '
                                                        "Europe/Amsterdam)")] = None) -> None:
    """Delete every recording whose retention has ended (file and metadata); list what went."""
    with errors_to_exit_codes():
        at = datetime.strptime(now, "%Y-%m-%d %H:%M").replace(tzinfo=AMSTERDAM) if now else None
        rows = store.purge(engine_for(load_settings()), at, dry_run=dry_run)
        verb = "would delete" if dry_run else "deleted"
        for r in rows:
            typer.echo(f"{verb} recording {r.id}: {r.tenant} {r.service_number} {_local(r.started_at)} "
                       f"(retention ended {_local(r.retention_until)})")
        say(f"{verb} {len(rows)} recording(s)")


def _ingest_once(settings: Settings, engine: Any, keyring: Keyring | None = None) -> store.IngestResult:
    result = store.ingest(engine, paths_for(settings).spool, store.store_dir(settings.state_dir),
                          keyring or load_keyring(settings.state_dir))
    plain = {w.call_id: w for w in result.plain}
    for r in result.stored:
        w = plain.get(r.call_id)
        window = f"; plain audio gone {w.since_closed_s * 1000:.0f} ms after the recording ended" if w else ""
        say(f"stored recording {r.id}: {r.tenant} {r.service_number} call {r.call_id} ({r.duration_s:.1f} s){window}")
    for f in result.discarded:
        why = "not marked to keep" if f.policy.value == "on_demand" else "empty (not answered)"
        say(f"deleted the recording of call {f.call_id} ({f.service_number}, {f.policy.value}): {why}")
    for path, why in result.failed:
        say(f"could not store {path.name}: {why}")
    return result


@recordings_app.command()
def ingest() -> None:
    """One pass: encrypt every finished recording Asterisk left in its spool; remove the plain files."""
    with errors_to_exit_codes():
        settings = load_settings()
        result = _ingest_once(settings, engine_for(settings))
        if result.failed:
            raise typer.Exit(1)


@recordings_app.command()
def watch(interval: Annotated[float, typer.Option(help="seconds between safety passes")] = 5.0) -> None:
    """The recordings worker: encrypts each finished recording the moment Asterisk's post-process
    renames it into done/ (inotify), plus a pass every INTERVAL seconds; until Ctrl-C / SIGTERM.

    Why a separate process: Asterisk may run chrooted in a rootfs without Python or an AES-GCM
    tool, so its post-process command can only move the file; this worker must run next to it."""

    with errors_to_exit_codes():
        settings = load_settings()
        engine = engine_for(settings)
        keyring = load_keyring(settings.state_dir)  # fail now, not at the first recording
        crypto.encrypt(b"", keyring.current, "warm-up")  # load the AES code now: the first file waits less
        done = paths_for(settings).spool / "done"
        stop: list[int] = []
        signal.signal(signal.SIGTERM, lambda signum, _frame: stop.append(signum))
        with DirWatch(done) as changes:
            say(f"watching {done} (inotify; a pass every {interval} s as well)")
            last = 0.0
            try:
                while not stop:
                    # Short waits so SIGTERM (select resumes after a handler, PEP 475) stops us quickly.
                    if changes.wait(0.5) or time.monotonic() - last >= interval:
                        _ingest_once(settings, engine, keyring)
                        last = time.monotonic()
            except KeyboardInterrupt:
                pass
        _ingest_once(settings, engine, keyring)  # what finished while stopping


@recordings_app.command()
def keep(call_id: Annotated[str, typer.Argument(help="the call's Uniqueid (AMI / SvcRecording event)")]) -> None:
    """Keep the recording of an on_demand call in progress (else it is deleted when the call ends)."""
    with errors_to_exit_codes():
        settings = load_settings()
        if asyncio.run(_keep(settings, call_id)):
            say(f"call {call_id}: recording will be kept")
        else:
            say(f"call {call_id} was already marked")


async def _keep(settings: Settings, call_id: str) -> bool:
    async with ami_of_call(settings, call_id) as ami:  # the call's node (a cluster file names them)
        return await mark_keep(ami, engine_for(settings), call_id, "cli")


async def _pause(settings: Settings, call_id: str, paused: bool) -> float:
    async with ami_of_call(settings, call_id) as ami:
        return await set_paused(ami, call_id, paused)


@recordings_app.command()
def pause(call_id: Annotated[str, typer.Argument(help="the call's Uniqueid (AMI / SvcRecording event)")]) -> None:
    """Pause the recording of a call in progress (always_with_pause, on_demand, on_demand_with_start):
    the paused stretch is silent in the file and listed in the recording's pauses."""
    with errors_to_exit_codes():
        at = asyncio.run(_pause(load_settings(), call_id, True))
        say(f"call {call_id}: recording paused at {datetime.fromtimestamp(at, AMSTERDAM):%H:%M:%S.%f}"[:-3])


@recordings_app.command()
def resume(call_id: Annotated[str, typer.Argument(help="the call's Uniqueid (AMI / SvcRecording event)")]) -> None:
    """Resume a paused recording."""
    with errors_to_exit_codes():
        at = asyncio.run(_pause(load_settings(), call_id, False))
        say(f"call {call_id}: recording resumed at {datetime.fromtimestamp(at, AMSTERDAM):%H:%M:%S.%f}"[:-3])
