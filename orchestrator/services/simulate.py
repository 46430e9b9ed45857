"""Use case: what would happen to a call to a stored service number (CLI and API share it)."""

from __future__ import annotations

from dataclasses import replace

from orchestrator.domain.compile import compile_number, holiday_dates
from orchestrator.domain.simulate import CallScenario, SimulationResult, simulate
from orchestrator.errors import NotFound
from orchestrator.store import repository
from orchestrator.store.session import Session


def simulate_stored(session: Session, tenant: str, e164: str, scenario: CallScenario) -> SimulationResult:
    """Simulate ``scenario`` against the stored routing of ``e164``; its blacklist comes from the
    store. Announcements are reported by name (``tenant/name`` for uploads), not server paths."""
    plan = repository.load_plan(session, tenant)
    n = next((x for x in plan.numbers if x.number == e164), None)
    if n is None:
        raise NotFound(f"tenant {tenant!r} has no service number {e164}")
    sounds = {name: a.sound or f"{tenant}/{name}" for name, a in plan.announcements.items()}
    flow = compile_number(n, tenant, sounds, holiday_dates(scenario.at.date()))
    blacklist = frozenset(repository.blacklist(session, e164))
    return simulate(flow, replace(scenario, blacklist=blacklist))
