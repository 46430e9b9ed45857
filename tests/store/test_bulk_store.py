"""The set-based store (issue 9, benchmarks): plans larger than one IN-list chunk round-trip
exactly; conflicts and live blacklist entries behave as before."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from sqlmodel import Session

from orchestrator.domain.plan import parse_plan
from orchestrator.errors import StoreError
from orchestrator.store import blacklists as blacklist_store
from orchestrator.store import plans as repo
from orchestrator.store.engine import CHUNK, make_engine
from tests.plans import basis_number, standaard_number, tenant_plan


@pytest.fixture
def engine(db_url: str):
    return make_engine(db_url)


def many(count: int, start: int = 1000000, **overrides: Any) -> list[dict[str, Any]]:
    numbers = []
    for i in range(count):
        n = basis_number(**overrides)
        n["number"] = f"0800{start + i:07d}"
        numbers.append(n)
    return numbers


def test_more_numbers_than_one_chunk_round_trip_in_order(engine) -> None:
    count = CHUNK * 2 + 7
    numbers = many(count, blocking={"anonymous": True, "blacklist": ["0201111111", "0612345678"]})
    numbers[3] = copy.deepcopy(numbers[3]) | {"active": "evening"}
    numbers.append(standaard_number())
    plan = parse_plan(tenant_plan(*numbers))
    with Session(engine) as s:
        repo.save_plan(s, plan)
        repo.save_plan(s, plan)  # replacing a stored plan deletes the old rows first
        s.commit()
    with Session(engine) as s:
        assert repo.load_plan(s, "acme") == plan
        assert len(blacklist_store.blacklists(s)) == count


def test_a_large_plan_is_replaced_and_reloaded(engine) -> None:
    """No statement carries one parameter per row any more: at 50,000 numbers (100,000 routings)
    such id lists exceed PostgreSQL's 65,535 bound parameters and SQLite's default 32,766."""
    plan = parse_plan(tenant_plan(*many(3000)))
    with Session(engine) as s:
        repo.save_plan(s, plan)
        repo.save_plan(s, plan)
        loaded = repo.load_plan(s, "acme")
    assert len(loaded.numbers) == 3000 and loaded.numbers[-1] == plan.numbers[-1]


def test_conflict_found_in_a_later_chunk(engine) -> None:
    with Session(engine) as s:
        repo.save_plan(s, parse_plan(tenant_plan(*many(3, start=9000000))))
        other = tenant_plan(*many(CHUNK + 1), *many(1, start=9000002))
        other["tenant"] = "globex"
        with pytest.raises(StoreError, match=r"\+318009000002 belongs to tenant 'acme'"):
            repo.save_plan(s, parse_plan(other))


def test_live_entries_stay_plan_entries_follow_the_plan(engine) -> None:
    numbers = many(CHUNK + 2, blocking={"blacklist": ["0201111111"]})
    with Session(engine) as s:
        repo.save_plan(s, parse_plan(tenant_plan(*numbers)))
        last = "+31800" + str(1000000 + CHUNK + 1)
        assert blacklist_store.blacklist_add(s, last, "+31612345678", source="dtmf")
        assert blacklist_store.blacklist_add(s, last, "+31201111112", source="api")
        # The plan drops its own entries: live ones stay, plan ones go.
        repo.save_plan(s, parse_plan(tenant_plan(*many(CHUNK + 2))))
        assert blacklist_store.blacklist(s, last) == ["+31201111112", "+31612345678"]
        # A live entry the plan also lists is not stored twice.
        repo.save_plan(s, parse_plan(tenant_plan(*many(CHUNK + 2, blocking={"blacklist": ["0612345678"]}))))
        assert blacklist_store.blacklist(s, last) == ["+31201111112", "+31612345678"]
        # A number that left the plan takes its live entries with it.
        repo.save_plan(s, parse_plan(tenant_plan(*many(CHUNK + 1))))
        assert blacklist_store.blacklist(s, last) == []
