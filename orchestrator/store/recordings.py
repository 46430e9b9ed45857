"""Call recordings' rows (the encrypted audio itself is a file, see services/recordings/store.py)
and the keep marks of on_demand calls. Each function opens its own session."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, col, select

from orchestrator.errors import StoreError
from orchestrator.store import call_centres as centre_store
from orchestrator.store import models as m


@contextmanager
def _session(engine: Any, what: str) -> Iterator[Session]:
    try:
        with Session(engine) as session:
            yield session
    except SQLAlchemyError as exc:
        raise StoreError(f"{what}: {exc}") from exc


def exists(engine: Any, call_id: str) -> bool:
    with _session(engine, f"cannot look up recording {call_id}") as session:
        return session.exec(select(m.Recording.id).where(m.Recording.call_id == call_id)).first() is not None


def keep_mark(engine: Any, call_id: str) -> str | None:
    """Who marked ``call_id`` to keep (by the API or the CLI), or None."""
    with _session(engine, f"cannot look up the keep mark of {call_id}") as session:
        mark = session.exec(select(m.RecordingKeep).where(m.RecordingKeep.call_id == call_id)).first()
        return mark.source if mark is not None else None


def retention(engine: Any, tenant: str) -> str:
    """The tenant's retention for new recordings ("90d", "7y")."""
    with _session(engine, f"cannot read the recording policy of {tenant}") as session:
        return centre_store.recording_retention(session, tenant)


def add(engine: Any, row: m.Recording) -> m.Recording:
    with _session(engine, f"cannot register recording {row.call_id}") as session:
        session.add(row)
        session.commit()
        session.refresh(row)
        return row


def mark_keep(engine: Any, call_id: str, source: str) -> bool:
    """Mark an on_demand call to keep its recording; False when it was marked already."""
    with _session(engine, f"cannot mark call {call_id}") as session:
        if session.exec(select(m.RecordingKeep).where(m.RecordingKeep.call_id == call_id)).first():
            return False
        session.add(m.RecordingKeep(call_id=call_id, source=source))
        session.commit()
        return True


def listing(engine: Any, tenant: str | None = None) -> list[m.Recording]:
    with _session(engine, "cannot list recordings") as session:
        query = select(m.Recording)
        if tenant is not None:
            query = query.where(m.Recording.tenant == tenant)
        return list(session.exec(query.order_by(col(m.Recording.started_at))))


def get(engine: Any, recording_id: int) -> m.Recording | None:
    with _session(engine, f"cannot read recording {recording_id}") as session:
        return session.get(m.Recording, recording_id)


def expired(engine: Any, now: datetime) -> list[m.Recording]:
    """Recordings whose retention has ended at ``now``."""
    with _session(engine, "cannot list expired recordings") as session:
        return list(session.exec(select(m.Recording).where(col(m.Recording.retention_until) <= now.astimezone(UTC))))


def remove(engine: Any, recording_id: int) -> None:
    with _session(engine, f"cannot delete recording {recording_id}") as session:
        session.execute(delete(m.Recording).where(col(m.Recording.id) == recording_id))
        session.commit()
