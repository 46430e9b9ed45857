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

from orchestrator.asterisk import incremental
from orchestrator.asterisk.ami import Ami
from orchestrator.asterisk.dialplan_files import DialplanFiles
from orchestrator.callcentre import control
from orchestrator.domain.compile import compile_plan, holiday_dates
from orchestrator.domain.compile_queues import compile_call_centre
from orchestrator.domain.ir import NumberFlow
from orchestrator.domain.ir_queues import CallCentre
from orchestrator.domain.plan import TenantPlan, parse_plan
from orchestrator.domain.rules import validate_plan
from orchestrator.errors import ApplyFailed, NotFound, OrchestratorError
from orchestrator.render import MOH_FILE, QUEUES_FILE, render_call_centres, render_dialplan
from orchestrator.store import models, repository

Progress = Callable[[str], None]
VERIFY_SAMPLE = 200  # contexts checked one by one after a reload; the entry context covers all
CONFIG_FILES = (QUEUES_FILE, MOH_FILE)  # generated configuration next to the dialplan
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
    how: str = "files only"  # "incremental", "full reload", "unchanged" or "files only"
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


async def verify(ami: Ami, texts: dict[str, str]) -> int:
    """Check Asterisk runs what was written: each given context has exactly the priorities of its
    generated text. ``texts`` maps context names to the file text that defines them."""
    for context, text in texts.items():
        expected = sum(1 for p in incremental.parse(text) if p.context == context)
        out = await ami.command(f"dialplan show {context}")
        m = _COUNTS.search(out)
        if m is None:
            raise ApplyFailed(f"after loading, Asterisk has no context {context}: {out.strip()[:200]}")
        if int(m.group(2)) != expected:
            raise ApplyFailed(f"context {context}: Asterisk runs {m.group(2)} priorities, the generated "
                              f"file has {expected}")
    return len(texts)


def _full_reload_checks(files: dict[str, str], flows: list[NumberFlow], tenant: str) -> dict[str, str]:
    """After a full reload: the entry context and (a sample of) the tenant's contexts."""
    from orchestrator.render import number_file

    mine = [f for f in flows if f.tenant == tenant][:VERIFY_SAMPLE]
    return {"svc-entry": files["entry.conf"]} | {f.context: files[number_file(f)] for f in mine}


def _check_written(files_on_disk: DialplanFiles, files: dict[str, str], old_files: dict[str, str]) -> None:
    """Read back what was written (not hard-linked): a later full reload loads these files, so they
    must say exactly what Asterisk is about to run."""
    on_disk = files_on_disk.current()
    assert on_disk is not None
    for name, text in files.items():
        if old_files.get(name) == text:
            continue
        try:
            written = (on_disk / name).read_text()
        except OSError as exc:
            raise ApplyFailed(f"cannot read back {name}: {exc}") from exc
        if written != text:
            raise ApplyFailed(f"{name} on disk differs from the generated dialplan")


async def push(ami: Ami, old_files: dict[str, str], files: dict[str, str], flows: list[NumberFlow],
               tenant: str, progress: Progress) -> tuple[str, float, int]:
    """Load the new files into Asterisk: only the changed contexts over AMI when possible, else a
    full reload. Returns (how, seconds, contexts verified)."""
    started = time.monotonic()
    try:
        update = incremental.plan_update(old_files, files)
    except incremental.NeedsFullReload as why:
        progress(f"full reload ({why})")
        seconds = await reload_dialplan(ami)
        checked = await verify(ami, _full_reload_checks(files, flows, tenant))
        return "full reload", seconds, checked
    if not update.changed_files:
        return "unchanged", 0.0, 0
    for action in update.actions:
        await ami.checked(action)
    seconds = time.monotonic() - started
    texts = {ctx: files[name] for name in update.changed_files if name in files
             for ctx in {p.context for p in incremental.parse(files[name])}}
    checked = await verify(ami, texts)
    progress(f"pushed {len(update.changed_files)} changed files ({len(update.actions)} AMI actions) "
             f"without a full reload")
    return "incremental", seconds, checked


def compile_centres(target: ApplyTarget, plans: list[TenantPlan]) -> list[CallCentre]:
    from orchestrator.sounds import resolve_sounds

    return [compile_call_centre(p, resolve_sounds(p, target.sounds_dir, target.asterisk_path, import_files=False),
                                target.trunk) for p in plans]


async def push_call_centres(ami: Ami, old: dict[str, str], new: dict[str, str], centres: list[CallCentre],
                            tenant: str, progress: Progress) -> None:
    """Reload queues (waiting callers stay) when their configuration changed, check the tenant's
    queues exist, and put agents' pauses back from AstDB."""
    if old == new:
        return
    await control.reload_queues(ami, music=old.get(MOH_FILE) != new.get(MOH_FILE))
    mine = [c for c in centres if c.tenant == tenant]
    names = [q.name for c in mine for qf in c.queues for q in qf.queues.values()]
    checked = await control.verify_queues(ami, names)
    restored = sum([await control.restore_agent_states(ami, c) for c in mine])
    progress(f"queues reloaded; verified {checked} queues, restored {restored} agent pauses")


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
    centres = compile_centres(target, plans)
    cc_files, cc_config = render_call_centres(centres, target.trunk)
    files = render_dialplan(flows, target.trunk) | cc_files
    old_files = target.files.read_current()
    old_config = target.files.read_current(CONFIG_FILES)
    version = target.files.write(files | cc_config, unchanged_files=old_files)
    report = ApplyReport(plan.tenant, len(plan.numbers), len(flows), len(files), version.name, version.path)
    progress(f"wrote {len(files)} dialplan files ({len(flows)} numbers in all) to {version.path}")
    if target.ami is None:
        report.notes.append("Asterisk not reloaded (offline): it loads these files when it starts")
    else:
        try:
            _check_written(target.files, files, old_files)
            report.how, report.reload_seconds, report.verified_contexts = await push(
                target.ami, old_files, files, flows, plan.tenant, progress)
            progress(f"Asterisk took the dialplan ({report.how}) in {report.reload_seconds * 1000:.0f} ms; "
                     f"verified {report.verified_contexts} contexts")
            report.blacklist_entries = await sync_blacklists(target.ami, session, flows, plan.tenant)
            await push_call_centres(target.ami, old_config, cc_config, centres, plan.tenant, progress)
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
    await control.reload_queues(target.ami, music=True)
    plans = repository.load_all_plans(session)
    flows = compile_all(target, plans, today)
    await sync_blacklists(target.ami, session, flows, tenant)
