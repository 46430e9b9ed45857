"""Use case: what would happen to a call to a stored service number (CLI and API share it)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from orchestrator.domain.compile import compile_number, holiday_dates
from orchestrator.domain.flow_compile import compile_flows
from orchestrator.domain.flow_simulate import parse_keys, simulate_number
from orchestrator.domain.simulate import CallScenario, SimulationResult, simulate
from orchestrator.errors import NotFound
from orchestrator.store import blacklists as blacklist_store
from orchestrator.store import flows as flow_store
from orchestrator.store import plans as plan_store
from orchestrator.store.session import Session


def simulate_stored(session: Session, tenant: str, e164: str, scenario: CallScenario) -> SimulationResult:
    """Simulate ``scenario`` against the stored routing of ``e164``; its blacklist comes from the
    store. Announcements are reported by name (``tenant/name`` for uploads), not server paths."""
    plan = plan_store.load_plan(session, tenant)
    n = next((x for x in plan.numbers if x.number == e164), None)
    if n is None:
        raise NotFound(f"tenant {tenant!r} has no service number {e164}")
    sounds = {name: a.sound or f"{tenant}/{name}" for name, a in plan.announcements.items()}
    flow = compile_number(n, tenant, sounds, holiday_dates(scenario.at.date()))
    blacklist = frozenset(blacklist_store.blacklist(session, e164))
    return simulate(flow, replace(scenario, blacklist=blacklist))


def simulate_flow_stored(session: Session, tenant: str, e164: str, scenario: CallScenario,
                         keys: str) -> dict[str, Any]:
    """As ``simulate_stored``, following a Premium number into its call flow with the caller's
    ``keys`` ("1,2,123456#"; "-" = a timeout). The lists come from the store."""
    plan = plan_store.load_plan(session, tenant)
    n = next((x for x in plan.numbers if x.number == e164), None)
    if n is None:
        raise NotFound(f"tenant {tenant!r} has no service number {e164}")
    sounds = {name: a.sound or f"{tenant}/{name}" for name, a in plan.announcements.items()}
    holidays = holiday_dates(scenario.at.date())
    number = compile_number(n, tenant, sounds, holidays)
    flows = {f.name: f for f in compile_flows(tenant, plan.flows, sounds, holidays)}
    lists = {name: frozenset(flow_store.list_entries(session, tenant, name)) for name in plan.lists}
    blacklist = frozenset(blacklist_store.blacklist(session, e164))
    return simulate_number(number, flows, replace(scenario, blacklist=blacklist), parse_keys(keys), lists, holidays)
