"""Announcements uploaded through the API: converted with sox to what Asterisk plays, kept per
tenant, referenced by name from plans, deleted only when no plan field uses them.

The HTTP edge (api/routes_announcements.py) reads the multipart body and tells the audio type from
its bytes; everything after that is here.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from pathlib import Path

from orchestrator.asterisk.media import convert_for_asterisk, wav_seconds
from orchestrator.errors import Conflict, InputInvalid, Violation
from orchestrator.store import api_repository
from orchestrator.store import models as m
from orchestrator.store import plans as plan_store
from orchestrator.store.session import Session


def used_by(session: Session, tenant: str, path: str) -> list[str]:
    """Fields of the tenant's stored plan that reference this upload (empty = free to delete)."""
    plan = plan_store.current_plan(session, tenant)
    if plan is None:
        return []
    names = {name for name, a in plan.announcements.items() if a.file == path}
    out = [f"announcements.{name}" for name in sorted(names)]
    for i, n in enumerate(plan.numbers):
        refs = {"blocking.message": n.blocking.message, "announcements.welcome": n.announcements.welcome,
                "announcements.whisper": n.announcements.whisper, "announcements.final": n.announcements.final,
                "tariff.announcement": n.tariff.announcement if n.tariff else None}
        out += [f"numbers[{i}].{field}" for field, ref in refs.items() if ref in names]
    return out


def listing(session: Session, tenant: str) -> list[tuple[m.UploadedAnnouncement, list[str]]]:
    """Every upload of the tenant with the plan fields that use it."""
    return [(u, used_by(session, tenant, u.path)) for u in api_repository.uploads(session, tenant)]


def one(session: Session, tenant: str, name: str) -> tuple[m.UploadedAnnouncement, list[str]]:
    row = api_repository.upload(session, tenant, name)
    return row, used_by(session, tenant, row.path)


async def add(session: Session, *, folder: Path, tenant: str, name: str, source: Path, mime: str, size: int,
              max_seconds: float, actor: str, token_id: int | None) -> m.UploadedAnnouncement:
    """Convert ``source`` to ``folder/<name>.wav`` and record it (audited). A row never exists
    without its file: the file is removed again when the commit fails."""
    if any(u.name == name for u in api_repository.uploads(session, tenant)):
        raise Conflict("name", f"announcement {name!r} exists; delete it first")
    staging = folder / f".staging-{uuid.uuid4().hex}.wav"
    try:
        # sox can take seconds on a long MP3: off the event loop.
        await asyncio.to_thread(convert_for_asterisk, source, staging)
        seconds = wav_seconds(staging)
        if seconds > max_seconds:
            raise InputInvalid([Violation("file", f"{seconds:.1f} s long; at most {max_seconds:g} s")])
        target = folder / f"{name}.wav"
        staging.replace(target)
    finally:
        staging.unlink(missing_ok=True)
    row = api_repository.add_upload(session, tenant=tenant, name=name, path=str(target), source_type=mime,
                                    source_bytes=size, seconds=seconds)
    api_repository.audit(session, actor=actor, token_id=token_id, tenant=tenant, action="announcement.upload",
                         target=name, detail={"content_type": mime, "bytes": size, "seconds": round(seconds, 3)})
    try:
        session.commit()
    except Exception:
        target.unlink(missing_ok=True)  # no row, no file
        raise
    session.refresh(row)
    return row


def delete(session: Session, *, tenant: str, name: str, actor: str, token_id: int | None) -> None:
    """Delete an upload no plan field uses (else Conflict, naming the fields)."""
    row = api_repository.upload(session, tenant, name)
    users = used_by(session, tenant, row.path)
    if users:
        raise Conflict("name", f"in use by {', '.join(users)}; change the plan first")
    path = Path(row.path)
    session.delete(row)
    api_repository.audit(session, actor=actor, token_id=token_id, tenant=tenant, action="announcement.delete",
                         target=row.name)
    session.commit()
    # After the commit: a file left behind by a crash here is harmless, a row without a file is not.
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
