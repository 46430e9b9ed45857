"""Every Basis rule has a test that provokes its error, naming the field."""

from datetime import datetime

import pytest

from orchestrator.domain.plan import AMSTERDAM, parse_plan
from orchestrator.domain.rules import check_plan
from orchestrator.errors import PlanInvalid
from tests.plans import NOW, basis_number, tenant_plan


def violations(*numbers: dict, **extra: object) -> list[str]:
    try:
        plan = parse_plan(tenant_plan(*numbers, **extra))
    except PlanInvalid as exc:
        return [str(v) for v in exc.violations]
    return [str(v) for v in check_plan(plan, NOW)]


def one(*numbers: dict, **extra: object) -> str:
    found = violations(*numbers, **extra)
    assert len(found) == 1, found
    return found[0]


def test_valid_plan_has_no_violations() -> None:
    assert violations(basis_number()) == []


def test_at_most_five_routings() -> None:
    routings = {f"r{i}": [{"number": f"020 555 000{i}"}] for i in range(6)}
    msg = one(basis_number(routings=routings, active="r0", switches=[]))
    assert msg.startswith("numbers[0].routings:") and "at most 5 routings" in msg


def test_active_routing_must_exist() -> None:
    assert one(basis_number(active="nope")) == (
        "numbers[0].active: names routing 'nope', which is not defined"
    )


def test_at_most_three_destinations_per_routing() -> None:
    dests = [{"number": f"020 555 000{i}"} for i in range(4)]
    msg = one(basis_number(routings={"main": dests}, switches=[]))
    assert msg.startswith("numbers[0].routings.main:") and "at most 3 destinations" in msg


def test_at_most_five_future_switch_moments() -> None:
    switches = [{"at": f"2026-12-{d:02d} 09:00", "routing": "evening"} for d in range(1, 7)]
    msg = one(basis_number(switches=switches))
    assert msg.startswith("numbers[0].switches:") and "at most 5 switch moments" in msg


def test_switch_moment_in_the_past() -> None:
    msg = one(basis_number(switches=[{"at": "2026-11-01 09:00", "routing": "evening"}]))
    assert msg.startswith("numbers[0].switches[0].at:") and "not in the future" in msg


def test_switch_moment_minute_precision() -> None:
    msg = one(basis_number(switches=[{"at": "2026-12-24 17:30:15", "routing": "evening"}]))
    assert msg.startswith("numbers[0].switches[0].at:")


def test_switch_moment_that_does_not_exist_in_amsterdam() -> None:
    msg = one(basis_number(switches=[{"at": "2027-03-28 02:30", "routing": "evening"}]))
    assert "does not exist in Europe/Amsterdam" in msg


def test_switch_moment_is_amsterdam_time() -> None:
    plan = parse_plan(tenant_plan(basis_number()))
    at = plan.numbers[0].switches[0].at
    assert at == datetime(2099, 12, 24, 17, 30, tzinfo=AMSTERDAM)
    assert plan.numbers[0].switches[0].epoch == 4101813000  # 16:30 UTC


def test_switch_moment_names_unknown_routing() -> None:
    msg = one(basis_number(switches=[{"at": "2026-12-24 17:30", "routing": "ghost"}]))
    assert msg.startswith("numbers[0].switches[0].routing:")


@pytest.mark.parametrize("bad", ["112", "0906 1234", "0909 1234567", "not-a-number"])
def test_forbidden_or_malformed_destination(bad: str) -> None:
    msg = one(basis_number(routings={"main": [{"number": bad}]}, switches=[]))
    assert msg.startswith("numbers[0].routings.main[0].number:")


def test_mobile_blocking_only_on_0800() -> None:
    msg = one(basis_number(number="088 123 4567", blocking={"mobile": True}))
    assert msg == "numbers[0].blocking.mobile: blocking mobile callers is only possible on 0800 numbers"


def test_mobile_blocking_allowed_on_0800() -> None:
    assert violations(basis_number(blocking={"mobile": True})) == []


def test_malformed_blacklist_entry() -> None:
    msg = one(basis_number(blocking={"blacklist": ["+31 6 1234"]}))
    assert msg.startswith("numbers[0].blocking.blacklist[0]:")


def test_unknown_announcement() -> None:
    msg = one(basis_number(announcements={"welcome": "hello"}))
    assert msg == "numbers[0].announcements.welcome: announcement 'hello' is not defined in this plan"


def test_declared_announcement_is_accepted() -> None:
    found = violations(
        basis_number(announcements={"welcome": "hello"}),
        announcements={"hello": {"sound": "hello-world"}},
    )
    assert found == []


def test_max_concurrent_calls_positive() -> None:
    msg = one(basis_number(max_concurrent_calls=0))
    assert msg.startswith("numbers[0].max_concurrent_calls:")


def test_unknown_field_is_named() -> None:
    assert one(basis_number(roster={})) == "numbers[0].roster: unknown field"


def test_duplicate_service_number() -> None:
    msg = one(basis_number(), basis_number(number="0800-123 45 67"))
    assert msg.startswith("numbers[1].number:") and "already defined" in msg


def test_all_violations_reported_at_once() -> None:
    found = violations(basis_number(active="nope", max_concurrent_calls=0), basis_number(number="12"))
    assert len(found) >= 2
