"""Apply a plan: validate → store (uncommitted) → compile → render → write → reload → verify →
sync live data → commit. Any failure after the files were switched puts the previous dialplan
back and reloads it, so the running Asterisk stays on the last good version and the database
keeps the last good plan."""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlmodel import Session

from orchestrator.asterisk import incremental
from orchestrator.asterisk.ami import Ami
from orchestrator.asterisk.dialplan_files import DialplanFiles
from orchestrator.domain.compile import blacklist_family, compile_plan, holiday_dates
from orchestrator.domain.compile_queues import compile_call_centre
from orchestrator.domain.digest import canonical, plan_delta, tenant_salt
from orchestrator.domain.ir import NumberFlow
from orchestrator.domain.ir_queues import CallCentre
from orchestrator.domain.partial import checked_changes
from orchestrator.domain.plan import TenantPlan, to_document
from orchestrator.errors import ApplyFailed, NotFound, OrchestratorError, PlanInvalid, Violation
from orchestrator.generate.lint import LintCache, lint_dialplan
from orchestrator.generate.render import (
    MOH_FILE,
    PJSIP_FILE,
    QUEUES_FILE,
    Renderer,
    generator_digest,
    number_file_name,
    render_call_centres,
    render_dialplan,
)
from orchestrator.services.apply_guards import OPERATOR_GUARDS, ApplyGuards, guard
from orchestrator.services.callcentre import control, phones
from orchestrator.settings import DEFAULT_PHONE_QUALIFY_S
from orchestrator.store import models, repository, tenancy

Progress = Callable[[str], None]
VERIFY_SAMPLE = 200  # contexts checked one by one after a reload; the entry context covers all
LINT_CACHE = "svc-lint-clean"  # next to the version folders: shapes found clean before
CONFIG_FILES = (QUEUES_FILE, MOH_FILE, PJSIP_FILE)  # generated configuration next to the dialplan
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
    only write files, e.g. before Asterisk's first start). ``secrets_dir`` keeps the agent phones'
    passwords (Settings.secrets_dir); plans with endpoint agents need it. ``phone_qualify_s``:
    Settings.phone_qualify_s, rendered into the phones' AORs."""

    files: DialplanFiles
    sounds_dir: Path
    asterisk_path: Callable[[Path], str]
    ami: Ami | None
    trunk: str = "carrier"
    secrets_dir: Path | None = None
    phone_qualify_s: int = DEFAULT_PHONE_QUALIFY_S


def compile_all(target: ApplyTarget, plans: list[TenantPlan], today: date,
                base_dir: Path | None = None, *, import_for: str | None = None) -> list[NumberFlow]:
    from orchestrator.services.sounds import resolve_sounds

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
    from orchestrator.generate.render import number_file

    mine = [f for f in flows if f.tenant == tenant][:VERIFY_SAMPLE]
    return {"svc-entry": files["entry.conf"]} | {f.context: files[number_file(f)] for f in mine}


def _check_written(files_on_disk: DialplanFiles, written: dict[str, str]) -> None:
    """Read back what was written (not hard-linked): a later full reload loads these files, so they
    must say exactly what Asterisk is about to run."""
    on_disk = files_on_disk.current()
    assert on_disk is not None
    for name, text in written.items():
        try:
            back = files_on_disk.locate(on_disk, name).read_text()
        except OSError as exc:
            raise ApplyFailed(f"cannot read back {name}: {exc}") from exc
        if back != text:
            raise ApplyFailed(f"{name} on disk differs from the generated dialplan")


async def push(ami: Ami, old_files: dict[str, str], files: dict[str, str], flows: list[NumberFlow],
               tenant: str, progress: Progress, *, full: str | None = None) -> tuple[str, float, int]:
    """Load the new files into Asterisk: only the changed contexts over AMI when possible, else (or
    when ``full`` gives a reason) a full reload. Returns (how, seconds, contexts verified)."""
    started = time.monotonic()
    try:
        if full:
            raise incremental.NeedsFullReload(full)
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
    from orchestrator.services.sounds import resolve_sounds

    return [compile_call_centre(p, resolve_sounds(p, target.sounds_dir, target.asterisk_path, import_files=False),
                                target.trunk) for p in plans]


async def push_call_centres(ami: Ami, old: dict[str, str], new: dict[str, str], centres: list[CallCentre],
                            tenant: str, progress: Progress) -> None:
    """Reload PJSIP when the agent phones changed (first: queues watch their state), reload queues
    (waiting callers stay) when their configuration changed, check the tenant's queues exist, and
    put agents' pauses back from AstDB."""
    await phones.push(ami, old, new, centres, progress)
    if all(old.get(name) == new.get(name) for name in (QUEUES_FILE, MOH_FILE)):
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


async def sync_blacklists(ami: Ami, session: Session, numbers: list[str]) -> int:
    """Make AstDB hold exactly the database's blacklist for each of these numbers (E.164)."""
    lists = repository.blacklists(session, numbers)
    count = 0
    for e164 in numbers:
        family = blacklist_family(e164)
        await ami.db_deltree(family)
        for caller in sorted(lists.get(e164, ())):
            await ami.db_put(family, caller, "1")
            count += 1
    return count


async def apply_plan(plan: TenantPlan, session: Session, target: ApplyTarget, *, now: datetime,
                     base_dir: Path | None = None, progress: Progress = lambda _s: None,
                     full: bool = False, guards: ApplyGuards = OPERATOR_GUARDS) -> ApplyReport:
    return await apply_document(to_document(plan), session, target, now=now, base_dir=base_dir,
                                progress=progress, full=full, guards=guards)


async def apply_document(document: Any, session: Session, target: ApplyTarget, *, now: datetime,
                         base_dir: Path | None = None, progress: Progress = lambda _s: None,
                         full: bool = False, summary: str = "applied",
                         guards: ApplyGuards = OPERATOR_GUARDS) -> ApplyReport:
    """Apply one tenant's plan document (parsed YAML/JSON). Numbers whose entry is unchanged since
    the last apply are not parsed, checked or rendered again (domain/digest.py) unless ``full``."""
    if not isinstance(document, dict):
        raise PlanInvalid([Violation("plan", "a plan is a mapping with 'tenant' and 'numbers'")])
    generator = generator_digest()
    holidays = holiday_dates(now.date())
    # What the shared files (library, holiday calendar) are made of: while it holds, they are not
    # rendered again. A new year shifts the holiday range: one full rebuild a year. Settings rendered
    # into files an incremental apply leaves alone (trunk, the phones' qualify period) count too.
    build = hashlib.sha256(f"{generator}\0{target.trunk}\0{','.join(sorted(holidays))}\0"
                           f"{target.phone_qualify_s}".encode()).hexdigest()
    repository.lock_applies(session)  # what it reads below must not change under it (another process)
    state = repository.dialplan_state(session)
    on_disk = target.files.current()
    # The stored digests describe the files on disk only while nothing else wrote them.
    tenant = document.get("tenant")
    salt = tenant_salt(document, generator)
    # Only number entries may differ: a change to the tenant-level part (announcements, call
    # centres shared by its numbers) renders everything again.
    incremental_ok = (not full and state is not None and on_disk is not None and isinstance(tenant, str)
                      and state.dialplan_dir == str(on_disk) and state.generator == build
                      and repository.tenant_salt(session, tenant) == salt)
    stored = repository.number_digests(session, tenant) if incremental_ok and isinstance(tenant, str) else {}
    delta = plan_delta(document, salt, stored)
    plan = checked_changes(document, delta, now)
    total = len(delta.digests)
    if delta.unchanged:
        progress(f"plan of tenant {plan.tenant!r} is valid: {total} service numbers, "
                 f"{len(plan.numbers)} new or changed (the other {len(delta.unchanged)} are as applied before)")
    else:
        progress(f"plan of tenant {plan.tenant!r} is valid: {total} service numbers")
    before = set(repository.tenant_numbers(session, plan.tenant))
    guard(session, plan, delta.changed, before, delta.unchanged.keys() | {n.number for n in plan.numbers},
           guards, progress)
    centre_changed = repository.stored_call_centre(session, plan.tenant) != repository.call_centre_json(plan)
    repository.save_plan(session, plan, keep=delta.unchanged.keys(), positions=delta.changed)
    repository.set_tenant_salt(session, plan.tenant, salt)
    repository.save_digests(session, plan.tenant,
                            {n.number: delta.digests[i] for n, i in zip(plan.numbers, delta.changed, strict=True)},
                            keep=delta.unchanged.keys())
    renderer = Renderer(target.trunk, target.files.etc_dir / "svc-templates-compiled")
    gone = sorted(before - delta.unchanged.keys() - {n.number for n in plan.numbers})
    if incremental_ok:
        flows = compile_plan(plan, _sounds(target, plan, base_dir), holidays)
        after = delta.unchanged.keys() | {n.number for n in plan.numbers}
        # The entry lists every number of every tenant: only a new or a left number changes it.
        entry = (target.files.read(["entry.conf"]) if after == before
                 else renderer.entry(repository.number_ids(session)))
        files = target.files.read([*incremental.SHARED_FILES, f"cc-{plan.tenant}.conf"]) | entry
        removed = {number_file_name(e164) for e164 in gone}
        centres: list[CallCentre] = []
        old_config: dict[str, str] = {}
        cc_config: dict[str, str] = {}
        if centre_changed:
            # Agents, strategies, limits or schedules changed, not the queue and skill names the
            # numbers jump to (those are in the salt): render the call centres, not the numbers.
            centres = compile_centres(target, repository.load_call_centre_plans(session))
            cc_files, cc_config = _render_centres(target, centres)
            stale = target.files.read([f"cc-{plan.tenant}.conf", "agentcodes.conf"]).keys() - cc_files.keys()
            files = {n: t for n, t in files.items() if n not in stale} | cc_files
            removed |= stale
            old_config = target.files.read_current(CONFIG_FILES)
            progress("call centre changed: rendering the call centres again, not the numbers")
        for flow in flows:
            files |= renderer.number(flow)
        old_files = target.files.read([*files, *removed])
        written = {name: text for name, text in files.items() if old_files.get(name) != text}
        lint_dialplan(_with_shared(written, files), LintCache(target.files.etc_dir / LINT_CACHE))
        config = {name: text for name, text in cc_config.items() if old_config.get(name) != text}
        version = target.files.write_changes(written | config, removed)
        sync = [n.number for n in plan.numbers] + gone
    else:
        plans = repository.load_all_plans(session)
        flows = compile_all(target, plans, now.date(), base_dir, import_for=plan.tenant)
        centres = compile_centres(target, plans)
        cc_files, cc_config = _render_centres(target, centres)
        files = render_dialplan(flows, target.trunk, holidays) | cc_files
        old_files = target.files.read_current()
        old_config = target.files.read_current(CONFIG_FILES)
        written = {name: text for name, text in files.items() if old_files.get(name) != text}
        lint_dialplan(_with_shared(written, files), LintCache(target.files.etc_dir / LINT_CACHE))
        version = target.files.write(files | cc_config, unchanged_files=old_files | old_config)
        sync = sorted(before | {f.number.e164 for f in flows if f.tenant == plan.tenant})
    report = ApplyReport(plan.tenant, total, _count_numbers(session), version.files, version.name, version.path)
    progress(f"wrote {len(written)} changed dialplan files of {version.files} ({report.total_numbers} numbers "
             f"in all) to {version.path}")
    if target.ami is None:
        report.notes.append("Asterisk not reloaded (offline): it loads these files when it starts")
    else:
        try:
            _check_written(target.files, written)
            report.how, report.reload_seconds, report.verified_contexts = await push(
                target.ami, old_files, files, flows, plan.tenant, progress, full=_reload_all(full, state, build))
            progress(f"Asterisk took the dialplan ({report.how}) in {report.reload_seconds * 1000:.0f} ms; "
                     f"verified {report.verified_contexts} contexts")
            report.blacklist_entries = await sync_blacklists(target.ami, session, sync)
            await push_call_centres(target.ami, old_config, cc_config, centres, plan.tenant, progress)
        except OrchestratorError as exc:
            session.rollback()
            await _restore(target, version.previous, session, sync, progress)
            raise ApplyFailed(f"{exc}; the previous dialplan is active again") from exc
    applied = models.AppliedVersion(
        tenant=plan.tenant, numbers=total, files=version.files, dialplan_dir=str(version.path),
        summary=f"{summary}: {total} numbers, " + (f"{len(plan.numbers)} of them new or changed"
                                                   + (", call centre changed" if centre_changed else "")
                                                   if incremental_ok else "full rebuild"),
        plan_json=canonical(document).decode())
    repository.record_version(session, applied)
    tenancy.set_plan_version(session, plan.tenant, applied.id or 0)
    if target.ami is not None:
        repository.set_dialplan_state(session, str(version.path), build)
    session.commit()
    target.files.prune()
    return report


def _render_centres(target: ApplyTarget, centres: list[CallCentre]) -> tuple[dict[str, str], dict[str, str]]:
    """(dialplan files, configuration files) of every tenant's call centre and agent phones."""
    files, config = render_call_centres(centres, target.trunk)
    return files, config | phones.config(centres, target.secrets_dir, target.phone_qualify_s)


async def apply_phones(session: Session, target: ApplyTarget, progress: Progress = lambda _s: None) -> str:
    """Render the agent phones of every stored plan again (after a password rotation) as a new
    version of the files and reload PJSIP; the dialplan is not touched. When Asterisk refuses, the
    previous version is active again (ApplyFailed). Returns "unchanged", "files only" or "reloaded"."""
    repository.lock_applies(session)
    centres = compile_centres(target, repository.load_call_centre_plans(session))
    new = phones.config(centres, target.secrets_dir, target.phone_qualify_s)
    old = target.files.read_current((PJSIP_FILE,))
    if old == new:
        return "unchanged"
    version = target.files.write_changes(new, set())
    progress(f"wrote {PJSIP_FILE} to {version.path}")
    if target.ami is None:
        target.files.prune()
        return "files only"
    try:
        await phones.push(target.ami, old, new, centres, progress)
    except OrchestratorError as exc:
        if version.previous is not None:
            target.files.point_to(version.previous)
            await phones.reload(target.ami)
        raise ApplyFailed(f"{exc}; the previous agent phones are active again") from exc
    # The stored digests describe the dialplan in the new version as well (only pjsip.inc differs):
    # the next apply may still push changed numbers alone.
    state = repository.dialplan_state(session)
    if state is not None and state.dialplan_dir == str(version.previous):
        repository.set_dialplan_state(session, str(version.path), state.generator)
        session.commit()
    target.files.prune()
    return "reloaded"


def _reload_all(full: bool, state: models.DialplanState | None, build: str) -> str | None:
    """Why the whole dialplan is reloaded rather than pushed context by context, if it is."""
    if full:
        return "--full was asked for"
    if state is None:
        return "first apply this database sees"
    # A new generator may spell a pattern differently; Asterisk sees the same extension, which
    # an AMI remove step would then take away.
    if state.generator != build:
        return "new generator, a new year of holidays, or a changed setting"
    return None


def _with_shared(written: dict[str, str], files: dict[str, str]) -> dict[str, str]:
    """What to lint: the files about to be written, with the shared ones they call into (the
    agent phones' context in cc-<tenant>.conf calls svc-agent-state in agentcodes.conf)."""
    if not written:
        return {}
    return written | {name: text for name, text in files.items()
                      if name in incremental.SHARED_FILES or name.startswith("cc-") or name == "agentcodes.conf"}


def _sounds(target: ApplyTarget, plan: TenantPlan, base_dir: Path | None) -> dict[str, str]:
    from orchestrator.services.sounds import resolve_sounds

    return resolve_sounds(plan, target.sounds_dir, target.asterisk_path, base_dir, import_files=True)


def _count_numbers(session: Session) -> int:
    return repository.count_numbers(session)


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
    progress(f"rolling tenant {chosen.tenant!r} back to version {chosen.id} of {chosen.applied_at:%Y-%m-%d %H:%M}")
    return await apply_document(json.loads(chosen.plan_json), session, target, now=now, progress=progress,
                                summary=f"rollback to version {chosen.id}")


async def _restore(target: ApplyTarget, previous: Path | None, session: Session, numbers: list[str],
                   progress: Progress) -> None:
    if previous is None or target.ami is None:
        return
    target.files.point_to(previous)
    progress(f"rolling back to {previous.name}")
    await reload_dialplan(target.ami)
    await phones.reload(target.ami)
    await control.reload_queues(target.ami, music=True)
    await sync_blacklists(target.ami, session, numbers)
