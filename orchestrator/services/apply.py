"""Apply a plan, in short steps after one decision (services/decision.py):

validate (read only) -> decide -> render (read only) -> lint and stage a new version (not active)
-> journal -> switch the ``svc`` link -> load into Asterisk and verify what it runs -> AstDB and
call centres -> stage the plan in the database and commit at once -> end the journal.

A failure after the switch puts the previous version back and reloads it, so Asterisk stays on
the last good version and the database keeps the last good plan. A crash (kill -9, power) at
any step leaves a journal or a link the database did not commit: the next apply, ``asterisk up``
and ``status`` find and repair it (services/consistency.py, docs/apply.md). The database's write
transaction only spans the final staging, so other tenants' requests do not wait for Asterisk.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from orchestrator.asterisk import push
from orchestrator.asterisk.ami import Ami
from orchestrator.asterisk.dialplan_files import DialplanFiles, WrittenVersion
from orchestrator.domain.compile import holiday_dates
from orchestrator.domain.digest import PlanDelta, as_stored, numbers_digest, plan_delta, same_numbers, tenant_salt
from orchestrator.domain.naming import PJSIP_FILE
from orchestrator.domain.partial import checked_document
from orchestrator.domain.plan import TenantPlan, to_document
from orchestrator.errors import ApplyFailed, OrchestratorError, PlanInvalid, Violation
from orchestrator.generate.files import PRIVATE_FILES, lint_set
from orchestrator.generate.lint import LintCache, lint_dialplan
from orchestrator.generate.render import generator_digest
from orchestrator.services import apply_guards, apply_nodes, cluster, consistency
from orchestrator.services.apply_guards import OPERATOR_GUARDS, ApplyGuards
from orchestrator.services.apply_render import Rendered, Where, compile_centres, render
from orchestrator.services.callcentre import phones
from orchestrator.services.crashpoints import crash_point
from orchestrator.services.decision import ApplyDecision, Facts
from orchestrator.services.flow_lists import sync_lists
from orchestrator.settings import DEFAULT_PHONE_QUALIFY_S
from orchestrator.store import call_centres as centre_store
from orchestrator.store import flows as flow_store
from orchestrator.store import models
from orchestrator.store import plans as plan_store
from orchestrator.store import tenants as tenant_store
from orchestrator.store import versions as version_store
from orchestrator.store.session import Session

Progress = Callable[[str], None]
LINT_CACHE = "svc-lint-clean"  # next to the version folders: shapes found clean before
# Numbers per plan (docs/apply.md, "Limits"): the largest plan the benchmarks apply (validate,
# store, full reload) on 2 cores within the AMI and database timeouts. More: split the tenant.
MAX_NUMBERS_PER_PLAN = 50_000


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
    nodes: list[str] = field(default_factory=list)  # cluster nodes that took and verified it


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
    # A cluster (services/cluster.py): this Asterisk's node name, and the other live nodes. Every
    # one of them loads and verifies the version before the database commits it.
    node: str = ""
    peers: tuple[cluster.Peer, ...] = ()

    @property
    def where(self) -> Where:
        return Where(self.files, self.sounds_dir, self.asterisk_path, self.trunk, self.secrets_dir,
                     self.phone_qualify_s)


@dataclass
class Validated:
    """A validated plan and what the apply decided about it."""

    document: dict[str, Any]
    plan: TenantPlan
    delta: PlanDelta
    salt: str
    numbers: str  # digest of the whole list of number entries
    build: str
    holidays: frozenset[str]
    before: set[str]  # the tenant's numbers as stored
    stored_digests: set[str] | None  # numbers with a stored digest (None: not read, full render)
    stored_flows: dict[str, Any] | None  # the tenant's flows as committed (None: not read, full render)
    same_flows: frozenset[str]  # the plan's flows equal to ``stored_flows``' (not checked, rendered, dumped again)
    centre_changed: bool
    decision: ApplyDecision
    guards: ApplyGuards
    claim: list[str]  # free numbers the commit allocates to the tenant


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
    async with target.files.lock():
        await _repair_locked(session, target, progress)
        v = validate(document, session, target, now, full, progress, guards)
        crash_point("validated")
        rendered = render(session, target.where, v.decision, v.plan, v.delta, before=v.before,
                          centre_changed=v.centre_changed, holidays=v.holidays, base_dir=base_dir, progress=progress,
                          stored_flows=v.stored_flows, same_flows=v.same_flows)
        change = push.Change.between(rendered.old, rendered.files, rendered.files.keys() | rendered.removed)
        decision = v.decision.for_change(change.names)
        if target.node and target.ami is not None:
            decision = decision.for_node(await cluster.node_version(target.ami) != cluster.committed_version(session))
        version = _stage(target, rendered, change)
        crash_point("written")
        report = ApplyReport(v.plan.tenant, v.delta.total, _total(session, v), version.files, version.name,
                             version.path)
        progress(f"wrote {len(change.new)} changed dialplan files of {version.files} ({report.total_numbers} "
                 f"numbers in all) to {version.path}")
        if target.ami is None:
            target.files.switch(version)
            report.notes.append("Asterisk not reloaded (offline): it loads these files when it starts")
        else:
            await _load(session, target, target.ami, v, rendered, change, decision, version, report, progress)
        try:
            _commit(session, v, version, report, summary, loaded=target.ami is not None, progress=progress)
        except Exception:
            # Asterisk (or, offline, the link) took it, the database did not: put the previous back.
            if target.ami is not None:
                await _restore(session, target, target.ami, version.previous, sorted(rendered.blacklists), progress)
            elif version.previous is not None:
                target.files.point_to(version.previous)
            raise
        if target.node and target.ami is not None:
            await apply_nodes.mark_nodes([(target.node, target.ami), *((p.name, p.ami) for p in target.peers)],
                                         version.name, progress)
        target.files.end()
        target.files.prune()
        return report


async def _repair_locked(session: Session, target: ApplyTarget, progress: Progress) -> None:
    """Take the database's apply lock before the first read (the folder's flock only orders applies
    sharing that folder; API and CLI may each have their own), repair what a crash left, and take
    it again: a repair commits, which ends the transaction the lock lived in."""
    version_store.lock_applies(session)
    await consistency.repair(session, target.files, target.ami, progress)
    version_store.lock_applies(session)


def validate(document: Any, session: Session, target: ApplyTarget, now: datetime, full: bool,
             progress: Progress, guards: ApplyGuards = OPERATOR_GUARDS) -> Validated:
    """Parse and check the document (only its changed entries when the decision allows), run the
    guards' checks and decide how to apply it. Reads the database, writes nothing."""
    if not isinstance(document, dict):
        raise PlanInvalid([Violation("plan", "a plan is a mapping with 'tenant' and 'numbers'")])
    entries = document.get("numbers")
    if isinstance(entries, list) and len(entries) > MAX_NUMBERS_PER_PLAN:
        raise PlanInvalid([Violation("numbers", f"{len(entries)} numbers; a plan holds at most "
                                                f"{MAX_NUMBERS_PER_PLAN} (split the tenant, docs/apply.md)")])
    generator = generator_digest()
    holidays = holiday_dates(now.date())
    # What the shared files (library, holiday calendar) are made of. A new year shifts the holiday
    # range: one full rebuild a year. Settings rendered into files an incremental apply leaves
    # alone (trunk, the phones' qualify period) count too.
    build = hashlib.sha256(f"{generator}\0{target.trunk}\0{','.join(sorted(holidays))}\0"
                           f"{target.phone_qualify_s}".encode()).hexdigest()
    tenant = document.get("tenant")
    salt = tenant_salt(document, generator)
    committed = version_store.committed_dialplan(session)
    decision = ApplyDecision.decide(Facts(
        full_asked=full, committed_dir=None if committed is None else committed.dialplan_dir,
        committed_generator=None if committed is None else committed.generator,
        loaded=committed is not None and committed.loaded, link=target.files.current(), build=build,
        salt_matches=isinstance(tenant, str) and version_store.tenant_salt(session, tenant) == salt))
    incremental = decision.render_changed_only and isinstance(tenant, str)
    whole = numbers_digest(salt, document)
    order = version_store.numbers_as_applied(session, str(tenant), whole) if incremental else None
    stored_digests: set[str] | None = None
    if order is not None:  # the same list of entries (a flow change): no entry digested or read
        delta, stored_digests = same_numbers(order), set(order)  # the last apply left these digests
    else:
        stored = version_store.number_digests(session, str(tenant)) if incremental else {}
        delta, stored_digests = plan_delta(document, salt, stored), set(stored) if incremental else None
    stored_flows = flow_store.load_flows(session, str(tenant)).get("flows", {}) if incremental else None
    checked = checked_document(document, delta, now, stored_flows)
    plan = checked.plan
    _say_valid(plan, delta, progress)
    before = set(tenant_store.tenant_numbers(session, plan.tenant))
    claim = apply_guards.check(session, plan, delta.changed, before,
                               delta.unchanged.keys() | {n.number for n in plan.numbers}, guards)
    centre_changed = centre_store.stored_call_centre(session, plan.tenant) != centre_store.call_centre_json(plan)
    return Validated(document, plan, delta, salt, whole, build, holidays, before, stored_digests,
                     stored_flows, checked.same_flows, centre_changed, decision, guards, claim)


def _say_valid(plan: TenantPlan, delta: PlanDelta, progress: Progress) -> None:
    total = delta.total
    if delta.unchanged:
        progress(f"plan of tenant {plan.tenant!r} is valid: {total} service numbers, "
                 f"{len(plan.numbers)} new or changed (the other {len(delta.unchanged)} are as applied before)")
    else:
        progress(f"plan of tenant {plan.tenant!r} is valid: {total} service numbers")


def _total(session: Session, v: Validated) -> int:
    """Numbers of every tenant once the plan is stored."""
    return tenant_store.count_numbers(session) - len(v.before) + v.delta.total


def _stage(target: ApplyTarget, rendered: Rendered, change: push.Change) -> WrittenVersion:
    """Lint what is about to be written and write it as a new version (not active yet)."""
    lint_dialplan(lint_set(change.new, rendered.files), LintCache(target.files.etc_dir / LINT_CACHE))
    config = {name: text for name, text in rendered.config.items() if rendered.old_config.get(name) != text}
    if rendered.complete:
        return target.files.stage(rendered.files | rendered.config,
                                  unchanged_files=rendered.old | rendered.old_config, private=PRIVATE_FILES)
    return target.files.stage_changes(dict(change.new) | config, rendered.removed, private=PRIVATE_FILES)


async def _load(session: Session, target: ApplyTarget, ami: Ami, v: Validated, rendered: Rendered,
                change: push.Change, decision: ApplyDecision, version: WrittenVersion, report: ApplyReport,
                progress: Progress) -> None:
    """Journal, switch and load the new version; on any failure put the previous one back."""
    numbers = sorted(rendered.blacklists)
    target.files.begin({"tenant": v.plan.tenant, "version": version.name, "pid": os.getpid(),
                        "started": time.strftime("%Y-%m-%dT%H:%M:%S"), "numbers": numbers})
    crash_point("journaled")
    target.files.switch(version)
    crash_point("switched")
    try:
        _check_written(target.files, change)
        parsed = push.Parsed()
        loaded = await push.load(ami, change, full=decision.full_reload, checks=rendered.checks,
                                 contexts=report.total_numbers, parsed=parsed, progress=progress,
                                 retiring=target.files.retiring())
        target.files.set_retiring(loaded.kept)
        report.how, report.reload_seconds, report.verified_contexts = loaded.how, loaded.seconds, loaded.verified
        if loaded.kept:
            report.notes.append(f"{len(loaded.kept)} earlier flow versions keep running for the calls still in "
                                "them; the next apply removes them once those calls ended")
        progress(f"Asterisk took the dialplan ({report.how}) in {loaded.seconds * 1000:.0f} ms; "
                 f"verified {report.verified_contexts} contexts")
        crash_point("loaded")
        report.blacklist_entries = await consistency.sync_blacklists(ami, rendered.blacklists)
        await apply_nodes.push_call_centres(ami, rendered, v.plan.tenant, progress)
        await sync_lists(session, ami, v.plan.tenant, list(v.plan.lists))
        if target.node:
            if decision.node_behind:  # it missed earlier AstDB changes too
                await cluster.sync_all_astdb(session, ami)
            await cluster.make_ready(ami)  # a full reload took the ready extension away
            report.nodes = [target.node, *await apply_nodes.load_peers(
                session, list(target.peers), v.plan.tenant, list(v.plan.lists), rendered, change, decision,
                report.total_numbers, progress)]
        crash_point("synced")
    except OrchestratorError as exc:
        await _restore(session, target, ami, version.previous, numbers, progress)
        raise ApplyFailed(f"{exc}; the previous dialplan is active again") from exc


def _check_written(files: DialplanFiles, change: push.Change) -> None:
    """Read back what was written (not hard-linked): a later full reload loads these files, so they
    must say exactly what Asterisk is about to run."""
    on_disk = files.current()
    assert on_disk is not None
    for name, text in change.new.items():
        try:
            back = files.locate(on_disk, name).read_text()
        except OSError as exc:
            raise ApplyFailed(f"cannot read back {name}: {exc}") from exc
        if back != text:
            raise ApplyFailed(f"{name} on disk differs from the generated dialplan")


def _commit(session: Session, v: Validated, version: WrittenVersion, report: ApplyReport, summary: str, *,
            loaded: bool, progress: Progress) -> None:
    """The one write transaction: the guards' claims (plan version compare-and-set, allocations),
    the plan, its digests, the version record and the committed dialplan; committed at once."""
    plan, delta = v.plan, v.delta
    try:
        apply_guards.commit(session, plan.tenant, v.claim, v.guards, progress)
        plan_store.save_plan(session, plan, keep=delta.unchanged.keys(), positions=delta.changed, stored=v.before,
                             same_flows={n: v.stored_flows[n] for n in v.same_flows} if v.stored_flows else None)
        version_store.set_tenant_salt(session, plan.tenant, v.salt, v.numbers,
                                      delta.order([n.number for n in plan.numbers]))
        version_store.save_digests(session, plan.tenant, {n.number: delta.digests[i] for n, i in zip(
            plan.numbers, delta.changed, strict=True)}, keep=delta.unchanged.keys(), stored=v.stored_digests)
        how = (f"{len(plan.numbers)} of them new or changed" + (", call centre changed" if v.centre_changed else "")
               if v.decision.render_changed_only else "full rebuild")
        applied = models.AppliedVersion(
            tenant=plan.tenant, numbers=report.numbers, files=version.files, dialplan_dir=str(version.path),
            summary=f"{summary}: {report.numbers} numbers, {how}", plan_json=as_stored(v.document))
        version_store.record_version(session, applied)
        apply_guards.set_version(session, plan.tenant, applied.id or 0)
        version_store.set_committed_dialplan(session, str(version.path.resolve()), v.build, loaded=loaded)
        crash_point("staged")
        session.commit()
    except Exception:
        session.rollback()  # the journal stays: the next apply reloads the committed version
        raise
    crash_point("committed")


async def _restore(session: Session, target: ApplyTarget, ami: Ami, previous: Path | None, numbers: list[str],
                   progress: Progress) -> None:
    session.rollback()
    if previous is None:
        return
    target.files.point_to(previous)
    progress(f"rolling back to {previous.name}")
    await consistency.reload_committed(ami, session, numbers)
    if target.node:
        await apply_nodes.restore_peers(session, ami, list(target.peers), numbers, progress)
    target.files.end()


async def apply_phones(session: Session, target: ApplyTarget, progress: Progress = lambda _s: None) -> str:
    """Render the agent phones of every stored plan again (after a password rotation) as a new
    version of the files and reload PJSIP; the dialplan is not touched. When Asterisk refuses, the
    previous version is active again (ApplyFailed). Returns "unchanged", "files only" or "reloaded"."""
    async with target.files.lock():
        await _repair_locked(session, target, progress)
        centres = compile_centres(target.where, centre_store.load_call_centre_plans(session))
        new = phones.config(centres, target.secrets_dir, target.phone_qualify_s)
        old = target.files.read_current((PJSIP_FILE,))
        if old == new:
            return "unchanged"
        version = target.files.stage_changes(new, set(), private=PRIVATE_FILES)
        progress(f"wrote {PJSIP_FILE} to {version.path}")
        committed = version_store.committed_dialplan(session)
        if target.ami is None:
            target.files.switch(version)
            _recommit(session, committed, version, loaded=False)
            target.files.prune()
            return "files only"
        target.files.begin({"tenant": "", "version": version.name, "pid": os.getpid(),
                            "started": time.strftime("%Y-%m-%dT%H:%M:%S"), "numbers": []})
        target.files.switch(version)
        try:
            await phones.push(target.ami, old, new, centres, progress)
        except OrchestratorError as exc:
            if version.previous is not None:
                target.files.point_to(version.previous)
                await phones.reload(target.ami)
                target.files.end()
            raise ApplyFailed(f"{exc}; the previous agent phones are active again") from exc
        _recommit(session, committed, version, loaded=committed is not None and committed.loaded)
        target.files.end()
        target.files.prune()
        return "reloaded"


def _recommit(session: Session, committed: models.CommittedDialplan | None, version: WrittenVersion, *,
              loaded: bool) -> None:
    """Only pjsip.inc differs: the stored digests describe the dialplan of the new version as well
    (the next apply may still push changed numbers alone)."""
    if committed is not None and version.previous is not None and committed.dialplan_dir == str(
            version.previous.resolve()):
        version_store.set_committed_dialplan(session, str(version.path.resolve()), committed.generator,
                                             loaded=loaded)
        session.commit()
