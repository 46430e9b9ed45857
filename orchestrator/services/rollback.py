"""Put a tenant's plan back as it was applied before: a new apply of the stored document."""

from __future__ import annotations

import json
from datetime import datetime

from orchestrator.errors import NotFound
from orchestrator.services.apply import ApplyReport, ApplyTarget, Progress, apply_document
from orchestrator.store import versions as version_store
from orchestrator.store.session import Session


async def rollback(version_id: int | None, tenant: str | None, session: Session, target: ApplyTarget, *,
                   now: datetime, progress: Progress = lambda _s: None) -> ApplyReport:
    """Put a tenant's plan back as it was applied in ``version_id`` (default: the one before the
    current). The plan was valid when applied; switch moments it held that have passed since
    simply stay in force, so it is not validated against today's clock again."""
    if version_id is None:
        if tenant is None:
            raise NotFound("give a version or a tenant to roll back")
        versions = [v for v in version_store.history(session, tenant=tenant) if v.plan_json]
        if len(versions) < 2:
            raise NotFound(f"tenant {tenant!r} has no earlier version to roll back to")
        chosen = versions[1]
    else:
        chosen = version_store.version(session, version_id)
    if not chosen.plan_json:
        raise NotFound(f"version {chosen.id} kept no plan to restore")
    progress(f"rolling tenant {chosen.tenant!r} back to version {chosen.id} of {chosen.applied_at:%Y-%m-%d %H:%M}")
    return await apply_document(json.loads(chosen.plan_json), session, target, now=now, progress=progress,
                                summary=f"rollback to version {chosen.id}")
