"""Apply a plan: validate → store (uncommitted) → compile → render → write → reload → verify →
sync live data → commit. Any failure after the files were switched puts the previous dialplan
back and reloads it, so the running Asterisk stays on the last good version and the database
keeps the last good plan."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from sqlmodel import Session

from orchestrator.asterisk.ami import Ami
from orchestrator.asterisk.dialplan_files import DialplanFiles
from orchestrator.domain.compile import compile_plan, holiday_dates
from orchestrator.domain.ir import NumberFlow
from orchestrator.domain.plan import TenantPlan, parse_plan
from orchestrator.domain.rules import validate_plan
from orchestrator.errors import ApplyFailed, NotFound, OrchestratorError
from orchestrator.render import render_dialplan
from orchestrator.store import models, repository

Progress = Callable[[str], None]
VERIFY_SAMPLE = 200  # contexts checked one by one after a reload; the entry context covers all
_COUNTS = re.compile(r"-= (\d+) extensions? \((\d+) priorit")


@dataclass
class ApplyReport:
    tenant: str
    numbers: int
    total_numbers: int
    files: int
    version: str
    dialplan_dir: Path
    reload_seconds: float | None = None
    verified_contexts: int = 0
    blacklist_entries: int = 0
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ApplyTarget:
    """Where and how to apply: the dialplan folder, the sounds folder, and Asterisk (or None to
    only write files, e.g. before Asterisk's first start)."""

    files: DialplanFiles
    sounds_dir: Path
    asterisk_path: Callable[[Path], str]
    ami: Ami | None
    trunk: str = "carrier"


def compile_all(target: ApplyTarget, plans: list[TenantPlan], today: date,
                base_dir: Path | None = None, *, import_for: str | None = None) -> list[NumberFlow]:
    from orchestrator.sounds import resolve_sounds

    holidays = holiday_dates(today)
    flows: list[NumberFlow] = []
    for plan in plans:
        sounds = resolve_sounds(plan, target.sounds_dir, target.asterisk_path, base_dir,
                                import_files=plan.tenant == import_for)
        flows.extend(compile_plan(plan, sounds, holidays))
    return flows


def _priorities(text: str) -> int:
    return sum(1 for line in text.splitlines() if re.match(r"^\s*(exten|same)\s*=>", line))


async def verify(ami: Ami, files: dict[str, str], flows: list[NumberFlow], tenant: str) -> int:
    """Check Asterisk runs what was written: the entry context and the tenant's contexts have
    exactly the extensions and priorities of the rendered text."""
    checks = [("svc-entry", files["entry.conf"])]
    from orchestrator.render import number_file

    mine = [f for f in flows if f.tenant == tenant][:VERIFY_SAMPLE]
    checks += [(f.context, files[number_file(f)]) for f in mine]
    for context, text in checks:
        out = await ami.command(f"dialplan show {context}")
        m = _COUNTS.search(out)
        if m is None:
            raise ApplyFailed(f"after reload Asterisk has no context {context}: {out.strip()[:200]}")
        priorities = int(m.group(2))
        if priorities != _priorities(text):
            raise ApplyFailed(
                f"context {context}: Asterisk loaded {priorities} priorities, "
                f"the generated file has {_priorities(text)}"
            )
    return len(checks)


async def reload_dialplan(ami: Ami) -> float:
    started = time.monotonic()
    out = await ami.command("dialplan reload")
    if "Dialplan reloaded" not in out and out.strip():
        raise ApplyFailed(f"dialplan reload answered: {out.strip()[:200]}")
    return time.monotonic() - started


async def sync_blacklists(ami: Ami, session: Session, flows: list[NumberFlow], tenant: str) -> int:
    """Make AstDB hold exactly the database's blacklist for each of the tenant's numbers."""
    mine = [f for f in flows if f.tenant == tenant]
    lists = repository.blacklists(session, [f.number.e164 for f in mine])
    count = 0
    for f in mine:
        await ami.db_deltree(f.blacklist_family)
        for caller in sorted(lists.get(f.number.e164, ())):
            await ami.db_put(f.blacklist_family, caller, "1")
            count += 1
    return count


async def apply_plan(plan: TenantPlan, session: Session, target: ApplyTarget, *, now: datetime,
                     base_dir: Path | None = None, progress: Progress = lambda _s: None) -> ApplyReport:
    validate_plan(plan, now)
    progress(f"plan of tenant {plan.tenant!r} is valid: {len(plan.numbers)} service numbers")
    return await _load(plan, session, target, now=now, base_dir=base_dir, progress=progress,
                       summary="applied")


async def rollback(version_id: int | None, tenant: str | None, session: Session, target: ApplyTarget, *,
                   now: datetime, progress: Progress = lambda _s: None) -> ApplyReport:
    """Put a tenant's plan back as it was applied in ``version_id`` (default: the one before the
    current). The plan was valid when applied; switch moments it held that have passed since
    simply stay in force, so it is not validated against today's clock again."""
    if version_id is None:
        if tenant is None:
            raise NotFound("give a version or a tenant to roll back")
        versions = [v for v in repository.history(session, tenant=tenant) if v.plan_json]
        if len(versions) < 2:
            raise NotFound(f"tenant {tenant!r} has no earlier version to roll back to")
        chosen = versions[1]
    else:
        chosen = repository.version(session, version_id)
    if not chosen.plan_json:
        raise NotFound(f"version {chosen.id} kept no plan to restore")
    plan = parse_plan(json.loads(chosen.plan_json))
    progress(f"rolling tenant {plan.tenant!r} back to version {chosen.id} of {chosen.applied_at:%Y-%m-%d %H:%M}")
    return await _load(plan, session, target, now=now, base_dir=None, progress=progress,
                       summary=f"rollback to version {chosen.id}")


async def _load(plan: TenantPlan, session: Session, target: ApplyTarget, *, now: datetime,
                base_dir: Path | None, progress: Progress, summary: str) -> ApplyReport:
    repository.save_plan(session, plan)
    plans = repository.load_all_plans(session)
    flows = compile_all(target, plans, now.date(), base_dir, import_for=plan.tenant)
    files = render_dialplan(flows, target.trunk)
    version = target.files.write(files)
    report = ApplyReport(plan.tenant, len(plan.numbers), len(flows), len(files), version.name, version.path)
    progress(f"wrote {len(files)} dialplan files ({len(flows)} numbers in all) to {version.path}")
    if target.ami is None:
        report.notes.append("Asterisk not reloaded (offline): it loads these files when it starts")
    else:
        try:
            report.reload_seconds = await reload_dialplan(target.ami)
            progress(f"Asterisk reloaded the dialplan in {report.reload_seconds * 1000:.0f} ms")
            report.verified_contexts = await verify(target.ami, files, flows, plan.tenant)
            progress(f"verified {report.verified_contexts} contexts in the running Asterisk")
            report.blacklist_entries = await sync_blacklists(target.ami, session, flows, plan.tenant)
        except OrchestratorError as exc:
            session.rollback()
            await _restore(target, version.previous, session, plan.tenant, now.date(), progress)
            raise ApplyFailed(f"{exc}; the previous dialplan is active again") from exc
    repository.record_version(session, models.AppliedVersion(
        tenant=plan.tenant, numbers=len(plan.numbers), files=len(files), dialplan_dir=str(version.path),
        summary=f"{summary}: {len(flows)} numbers in all", plan_json=plan.model_dump_json()))
    session.commit()
    target.files.prune()
    return report


async def _restore(target: ApplyTarget, previous: Path | None, session: Session, tenant: str,
                   today: date, progress: Progress) -> None:
    if previous is None or target.ami is None:
        return
    target.files.point_to(previous)
    progress(f"rolling back to {previous.name}")
    await reload_dialplan(target.ami)
    plans = repository.load_all_plans(session)
    flows = compile_all(target, plans, today)
    await sync_blacklists(target.ami, session, flows, tenant)
