"""The store against a real SQLite file (the default database) and a real PostgreSQL."""

from datetime import datetime

import pytest
from sqlmodel import Session

from orchestrator.domain.plan import AMSTERDAM, parse_plan
from orchestrator.errors import NotFound, StoreError
from orchestrator.store import blacklists as blacklist_store
from orchestrator.store import plans as repo
from orchestrator.store.engine import make_engine
from tests.plans import basis_number, tenant_plan


@pytest.fixture
def engine(db_url: str):
    return make_engine(db_url)


def test_plan_round_trips(engine) -> None:
    plan = parse_plan(tenant_plan(
        basis_number(blocking={"anonymous": True, "blacklist": ["06 12345678"]},
                     announcements={"welcome": "hi"}, max_concurrent_calls=4),
        announcements={"hi": {"sound": "hello-world", "text": "Hallo"}},
    ))
    with Session(engine) as s:
        repo.save_plan(s, plan)
        s.commit()
    with Session(engine) as s:
        assert repo.load_plan(s, "acme") == plan


def test_export_folds_passed_switch_moments(engine) -> None:
    plan = parse_plan(tenant_plan(basis_number()))
    with Session(engine) as s:
        repo.save_plan(s, plan)
        s.commit()
        later = repo.load_plan(s, "acme", now=datetime(2099, 12, 25, tzinfo=AMSTERDAM))
    assert later.numbers[0].active == "evening" and later.numbers[0].switches == []


def test_a_switch_moment_after_2038_is_stored(engine) -> None:
    """switchmoment.at_epoch is 64-bit (migration 0006): PostgreSQL's INTEGER ended 2038-01-19."""
    plan = parse_plan(tenant_plan(basis_number(switches=[{"at": "2040-02-29 08:00", "routing": "evening"}])))
    with Session(engine) as s:
        repo.save_plan(s, plan)
        s.commit()
        loaded = repo.load_plan(s, "acme", now=datetime(2039, 1, 1, tzinfo=AMSTERDAM))
    assert [(m.at, m.routing) for m in loaded.numbers[0].switches] == [
        (datetime(2040, 2, 29, 8, 0, tzinfo=AMSTERDAM), "evening")]


def test_live_blacklist_entries_survive_a_plan_apply(engine) -> None:
    plan = parse_plan(tenant_plan(basis_number(blocking={"blacklist": ["0201111111"]})))
    with Session(engine) as s:
        repo.save_plan(s, plan)
        assert blacklist_store.blacklist_add(s, "+318001234567", "+31612345678", source="dtmf")
        assert not blacklist_store.blacklist_add(s, "+318001234567", "+31612345678", source="dtmf")
        repo.save_plan(s, parse_plan(tenant_plan(basis_number())))
        assert blacklist_store.blacklist(s, "+318001234567") == ["+31612345678"]


def test_uncommitted_save_leaves_nothing(engine) -> None:
    with Session(engine) as s:
        repo.save_plan(s, parse_plan(tenant_plan(basis_number())))
        s.rollback()
    with Session(engine) as s, pytest.raises(NotFound):
        repo.load_plan(s, "acme")


def test_a_number_cannot_move_between_tenants_silently(engine) -> None:
    with Session(engine) as s:
        repo.save_plan(s, parse_plan(tenant_plan(basis_number())))
        other = tenant_plan(basis_number())
        other["tenant"] = "globex"
        with pytest.raises(StoreError, match="belongs to tenant 'acme'"):
            repo.save_plan(s, parse_plan(other))


def test_every_field_round_trips(engine) -> None:
    """Standaard steps, tariffs and options survive the database: a field the store forgets
    would silently change routing after the next apply."""
    from tests.plans import standaard_number

    premium = basis_number(number="0900 1234567", switches=[], allow_foreign=True,
                           recording={"policy": "on_demand", "announce": "hi"},
                           tariff={"per_call": "0.20", "per_minute": "1.00", "max_call_cost": "10.00",
                                   "max_duration": 300, "warning_before": 20, "announcement": "hi"})
    call_centre = {  # issue 6: stored as one JSON document per tenant
        "agents": {"ann": {"number": "020 111 0001", "skills": {"billing": 4}, "wrapup": 15},
                   "cat": {"endpoint": "cat-desk"}},
        "queues": {"support": {"tier": "premium", "strategy": "uniform", "agents": ["ann", "cat"], "max_waiting": 100,
                               "full": "queue:support/billing", "comfort": "hi", "announce_position": True,
                               "night": {"to": "hunt:sales", "week": {"sun": [{"start": "00:00", "end": "24:00"}]}}}},
        "hunt_groups": {"sales": {"strategy": "circular", "agents": ["cat"], "no_answer": "020 555 0009"}},
    }
    plan = parse_plan(tenant_plan(standaard_number(), premium, announcements={"hi": {"sound": "hello-world"}},
                                  test_number="088 999 0000", recording_retention="7y", **call_centre))
    with Session(engine) as s:
        repo.save_plan(s, plan)
        s.commit()
    with Session(engine) as s:
        loaded = repo.load_plan(s, "acme")
    assert loaded == plan
    assert set(type(plan.numbers[0]).model_fields) == {
        "number", "package", "routings", "active", "switches", "blocking", "announcements",
        "max_concurrent_calls", "tariff", "allow_foreign", "start", "regions", "rosters", "splits", "recording",
        "flow"}, (
        "a new plan field: store it in store/plans.py and extend this test")
    assert set(type(plan).model_fields) == {"tenant", "test_number", "announcements", "numbers",
                                           "recording_retention", "agents", "queues", "hunt_groups",
                                           "flows", "layout", "lists"}


def test_flows_round_trip(engine) -> None:
    """Issue 15: flows, their layout, the list names and a number's flow survive the database."""
    from tests.flow_plans import flow_plan

    plan = parse_plan(flow_plan())
    with Session(engine) as s:
        repo.save_plan(s, plan)
        s.commit()
    with Session(engine) as s:
        assert repo.load_plan(s, "flowco") == plan
