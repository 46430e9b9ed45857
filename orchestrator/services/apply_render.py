"""Apply, the middle steps: what to compile and render for a validated plan, and the files that
change. Reads the database, never writes it (the plan is staged only once Asterisk took it)."""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from orchestrator.asterisk.dialplan_files import DialplanFiles
from orchestrator.domain.compile import compile_plan
from orchestrator.domain.compile_queues import compile_call_centre
from orchestrator.domain.digest import PlanDelta
from orchestrator.domain.flow_compile import compile_flows
from orchestrator.domain.flow_ir import CompiledFlow, flow_context
from orchestrator.domain.ir import NumberFlow
from orchestrator.domain.ir_queues import CallCentre
from orchestrator.domain.naming import ENTRY_CONTEXT, ENTRY_FILE, call_centre_file, number_file_name
from orchestrator.domain.numbers import ServiceNumberId, parse_service_number
from orchestrator.domain.plan import TenantPlan, parse_plan
from orchestrator.generate.files import AGENT_CODES_FILE, CONFIG_FILES, SHARED_FILES
from orchestrator.generate.render import Renderer, number_file, render_call_centres, render_dialplan
from orchestrator.services.callcentre import phones
from orchestrator.services.decision import ApplyDecision
from orchestrator.services.sounds import resolve_sounds
from orchestrator.store import blacklists as blacklist_store
from orchestrator.store import call_centres as centre_store
from orchestrator.store import flows as flow_store
from orchestrator.store import plans as plan_store
from orchestrator.store import tenants as tenant_store
from orchestrator.store.session import Session

Progress = Callable[[str], None]
VERIFY_SAMPLE = 200  # contexts checked one by one after a full reload; the entry context covers all


@dataclass(frozen=True)
class Where:
    """What rendering needs of the apply target."""

    files: DialplanFiles
    sounds_dir: Path
    asterisk_path: Callable[[Path], str]
    trunk: str
    secrets_dir: Path | None
    phone_qualify_s: int


@dataclass
class Rendered:
    files: dict[str, str]  # dialplan files rendered (all of them, or those the change concerns)
    removed: set[str]  # dialplan files that leave
    old: dict[str, str]  # what the active version holds of ``files`` and ``removed``
    config: dict[str, str]  # queue, music and phone configuration (empty: not rendered)
    old_config: dict[str, str]
    centres: list[CallCentre]
    flows: list[NumberFlow]
    blacklists: dict[str, set[str]]  # what AstDB must hold for the numbers this apply touches
    complete: bool  # ``files`` is every file of the version (else: changes to the active one)
    checks: dict[str, str] = field(default_factory=dict)  # context -> text, verified after a full reload


def compile_all(where: Where, plans: list[TenantPlan], holidays: frozenset[str],
                base_dir: Path | None = None, *, import_for: str | None = None) -> list[NumberFlow]:
    flows: list[NumberFlow] = []
    for plan in plans:
        sounds = resolve_sounds(plan, where.sounds_dir, where.asterisk_path, base_dir,
                                import_files=plan.tenant == import_for)
        flows.extend(compile_plan(plan, sounds, holidays))
    return flows


def compile_call_flows(where: Where, plans: list[TenantPlan], holidays: frozenset[str],
                       base_dir: Path | None = None, *, import_for: str | None = None) -> list[CompiledFlow]:
    """Every tenant's Premium call flows, each compiled once (numbers share them)."""
    out: list[CompiledFlow] = []
    for plan in plans:
        if plan.flows:
            sounds = resolve_sounds(plan, where.sounds_dir, where.asterisk_path, base_dir,
                                    import_files=plan.tenant == import_for)
            out.extend(compile_flows(plan.tenant, plan.flows, sounds, holidays))
    return out


def flow_files(where: Where, renderer: Renderer, plan: TenantPlan, holidays: frozenset[str],
               base_dir: Path | None, stored: Mapping[str, Any],
               same: Collection[str] | None = None) -> tuple[dict[str, str], set[str]]:
    """The files of the tenant's flows that differ from ``stored`` (its flows as committed, in
    the plan format), and those of its flows that are gone. Flows are rendered on their own: a
    flow change rewrites the flow's file, not the files of the numbers on it. An unchanged flow
    renders as before (this path only runs while the tenant-level part of the plan, which holds
    the announcements, lists and queue names flows use, is as committed). ``same``: the flows
    already known to equal ``stored`` (validation compared them)."""
    changed = {name: f for name, f in plan.flows.items()
               if (name not in same if same is not None else stored.get(name) != f.model_dump(mode="json"))}
    files: dict[str, str] = {}
    if changed:
        sounds = resolve_sounds(plan, where.sounds_dir, where.asterisk_path, base_dir, import_files=True)
        for compiled in compile_flows(plan.tenant, changed, sounds, holidays):
            files |= renderer.flow(compiled)
    return files, {f"{flow_context(plan.tenant, name)}.conf" for name in stored.keys() - plan.flows.keys()}


def compile_centres(where: Where, plans: list[TenantPlan]) -> list[CallCentre]:
    return [compile_call_centre(p, resolve_sounds(p, where.sounds_dir, where.asterisk_path, import_files=False),
                                where.trunk) for p in plans]


def render_centres(where: Where, centres: list[CallCentre]) -> tuple[dict[str, str], dict[str, str]]:
    """(dialplan files, configuration files) of every tenant's call centre and agent phones."""
    files, config = render_call_centres(centres, where.trunk)
    return files, config | phones.config(centres, where.secrets_dir, where.phone_qualify_s)


def centre_plans(session: Session, plan: TenantPlan) -> list[TenantPlan]:
    """Every tenant's call-centre plan as it will be once ``plan`` is stored."""
    others = [q for q in centre_store.load_call_centre_plans(session) if q.tenant != plan.tenant]
    mine = centre_store.call_centre_json(plan)
    if mine is None:
        return others
    own = parse_plan({"tenant": plan.tenant, "numbers": [], "announcements": plan.model_dump(
        mode="json", include={"announcements"})["announcements"], **json.loads(mine)})
    return sorted([*others, own], key=lambda q: q.tenant)


def expected_blacklists(session: Session, plan: TenantPlan, gone: list[str]) -> dict[str, set[str]]:
    """The blacklists the plan's numbers will have once it is stored (live entries stay, plan
    entries follow the plan), and none for numbers that leave."""
    live = blacklist_store.live_blacklists(session, [n.number for n in plan.numbers])
    out = {n.number: live.get(n.number, set()) | set(n.blocking.blacklist) for n in plan.numbers}
    return out | {e164: set() for e164 in gone}


def render_changes(session: Session, where: Where, plan: TenantPlan, delta: PlanDelta, before: set[str],
                   centre_changed: bool, holidays: frozenset[str], base_dir: Path | None,
                   progress: Progress, stored_flows: Mapping[str, Any] | None = None,
                   same_flows: Collection[str] | None = None) -> Rendered:
    """Only the numbers that changed (and the entry when numbers come or go, the call centres
    when they changed): the rest of the active version is linked into the new one."""
    sounds = resolve_sounds(plan, where.sounds_dir, where.asterisk_path, base_dir, import_files=True)
    flows = compile_plan(plan, sounds, holidays)
    renderer = Renderer(where.trunk, where.files.etc_dir / "svc-templates-compiled")
    after = delta.unchanged.keys() | {n.number for n in plan.numbers}
    gone = sorted(before - after)
    files = where.files.read([*SHARED_FILES, call_centre_file(plan.tenant)])
    if after != before:  # the entry lists every number of every tenant: only a new or a left one changes it
        files |= renderer.entry(_number_ids(session, plan, before, gone))
    removed = {number_file_name(e164) for e164 in gone}
    centres: list[CallCentre] = []
    config: dict[str, str] = {}
    if centre_changed:
        # Agents, strategies, limits or schedules changed, not the queue and skill names the
        # numbers jump to (those are in the salt): render the call centres, not the numbers.
        centres = compile_centres(where, centre_plans(session, plan))
        cc_files, config = render_centres(where, centres)
        stale = where.files.read([call_centre_file(plan.tenant), AGENT_CODES_FILE]).keys() - cc_files.keys()
        files = {n: t for n, t in files.items() if n not in stale} | cc_files
        removed |= stale
        progress("call centre changed: rendering the call centres again, not the numbers")
    for flow in flows:
        files |= renderer.number(flow)
    if stored_flows is None:
        stored_flows = flow_store.load_flows(session, plan.tenant).get("flows", {})
        same_flows = None  # read here: not compared yet
    own_flows, gone_flows = flow_files(where, renderer, plan, holidays, base_dir, stored_flows, same_flows)
    files |= own_flows
    removed |= gone_flows
    # The unchanged flows the rendered numbers jump into, as they are: lint resolves the jumps.
    files |= where.files.read(sorted({f"{flow_context(plan.tenant, n.flow)}.conf" for n in plan.numbers
                                      if n.flow and n.flow in plan.flows} - files.keys() - removed))
    old = where.files.read([*files, *removed])
    if ENTRY_FILE not in files and ENTRY_FILE in old:
        files[ENTRY_FILE] = old[ENTRY_FILE]  # unchanged; a full reload still verifies it
    return Rendered(files, removed, old, config, where.files.read_current(CONFIG_FILES) if config else {},
                    centres, flows, expected_blacklists(session, plan, gone), complete=False,
                    checks=_checks(files, flows, plan.tenant))


def render_everything(session: Session, where: Where, plan: TenantPlan, before: set[str], holidays: frozenset[str],
                      base_dir: Path | None) -> Rendered:
    """Every number and call centre of every tenant, with ``plan`` in place of the stored one."""
    plans = sorted([*(q for q in plan_store.load_all_plans(session) if q.tenant != plan.tenant), plan],
                   key=lambda q: q.tenant)
    flows = compile_all(where, plans, holidays, base_dir, import_for=plan.tenant)
    centres = compile_centres(where, plans)
    cc_files, config = render_centres(where, centres)
    call_flows = compile_call_flows(where, plans, holidays, base_dir, import_for=plan.tenant)
    files = render_dialplan(flows, where.trunk, holidays, call_flows) | cc_files
    old = where.files.read_current()
    gone = sorted(before - {n.number for n in plan.numbers})
    return Rendered(files, set(old) - set(files), old, config, where.files.read_current(CONFIG_FILES),
                    centres, flows, expected_blacklists(session, plan, gone), complete=True,
                    checks=_checks(files, flows, plan.tenant))


def render(session: Session, where: Where, decision: ApplyDecision, plan: TenantPlan, delta: PlanDelta, *,
           before: set[str], centre_changed: bool, holidays: frozenset[str], base_dir: Path | None,
           progress: Progress, stored_flows: Mapping[str, Any] | None = None,
           same_flows: Collection[str] | None = None) -> Rendered:
    """``stored_flows``: the tenant's flows as committed, when the caller read them already;
    ``same_flows``: those of the plan's flows found equal to them."""
    if decision.render_changed_only:
        return render_changes(session, where, plan, delta, before, centre_changed, holidays, base_dir, progress,
                              stored_flows, same_flows)
    return render_everything(session, where, plan, before, holidays, base_dir)


def _number_ids(session: Session, plan: TenantPlan, before: set[str], gone: list[str]) -> list[ServiceNumberId]:
    """Every tenant's numbers as they will be once ``plan`` is stored."""
    left = set(gone)
    ids = [i for i in tenant_store.number_ids(session) if i.e164 not in left]
    return ids + [parse_service_number(n.number) for n in plan.numbers if n.number not in before]


def _checks(files: dict[str, str], flows: list[NumberFlow], tenant: str) -> dict[str, str]:
    """After a full reload: the entry context and (a sample of) the tenant's contexts."""
    mine = [f for f in flows if f.tenant == tenant][:VERIFY_SAMPLE]
    entry = {ENTRY_CONTEXT: files[ENTRY_FILE]} if ENTRY_FILE in files else {}
    return entry | {f.context: files[number_file(f)] for f in mine}
