"""Standaard package: origin regions, weekly roster with Dutch holidays, percentage split."""

from collections import Counter
from datetime import datetime

import pytest

from orchestrator.domain.compile import compile_plan, holiday_dates
from orchestrator.domain.plan import AMSTERDAM, parse_plan
from orchestrator.domain.rules import check_plan
from orchestrator.domain.simulate import CallScenario, simulate
from orchestrator.errors import PlanInvalid
from tests.plans import NOW, basis_number, standaard_number, tenant_plan

HOLIDAYS = holiday_dates(NOW.date())


def violations(*numbers: dict) -> list[str]:
    try:
        plan = parse_plan(tenant_plan(*numbers))
    except PlanInvalid as exc:
        return [str(v) for v in exc.violations]
    return [str(v) for v in check_plan(plan, NOW)]


def one(*numbers: dict) -> str:
    found = violations(*numbers)
    assert len(found) == 1, found
    return found[0]


def flow(**overrides: object):
    return compile_plan(parse_plan(tenant_plan(standaard_number(**overrides))), {}, HOLIDAYS)[0]


def at(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=AMSTERDAM)


def test_valid_standaard_plan() -> None:
    assert violations(standaard_number()) == []


def test_basis_has_no_steps() -> None:
    msg = one(basis_number(regions={"exits": [], "other": "active"}))
    assert msg == "numbers[0].regions: not in the basis package (needs standaard or premium)"


def test_at_most_five_regions() -> None:
    areas = ["010", "020", "030", "040", "050", "070"]
    exits = [{"name": f"r{i}", "areas": [a], "to": "main"} for i, a in enumerate(areas)]
    msg = one(standaard_number(regions={"exits": exits, "other": "main"}))
    assert msg.startswith("numbers[0].regions.exits:") and "at most 5 regions" in msg


def test_premium_has_no_region_limit() -> None:
    areas = ["010", "020", "030", "040", "050", "070", "073"]
    exits = [{"name": f"r{i}", "areas": [a], "to": "main"} for i, a in enumerate(areas)]
    assert violations(standaard_number(package="premium", regions={"exits": exits, "other": "main"})) == []


def test_unknown_area_code() -> None:
    msg = one(standaard_number(regions={"exits": [{"name": "x", "areas": ["099"], "to": "main"}], "other": "main"}))
    assert msg.startswith("numbers[0].regions.exits[0].areas[0]:") and "not a Dutch area code" in msg


def test_at_most_three_roster_exits() -> None:
    roster = standaard_number()["rosters"]["office"] | {
        "exits": {"open": "spread", "weekend": "weekend", "closed": "closed", "lunch": "main"}}
    msg = one(standaard_number(rosters={"office": roster}))
    assert msg.startswith("numbers[0].rosters.office.exits:") and "at most 3 roster exits" in msg


def test_roster_ranges_must_not_overlap() -> None:
    roster = standaard_number()["rosters"]["office"] | {"week": {"mon": [
        {"start": "09:00", "end": "12:00", "exit": "open"}, {"start": "11:00", "end": "13:00", "exit": "open"}]}}
    msg = one(standaard_number(rosters={"office": roster}))
    assert "overlaps" in msg


def test_roster_range_must_end_after_start() -> None:
    week = {"mon": [{"start": "18:00", "end": "09:00", "exit": "open"}]}
    roster = standaard_number()["rosters"]["office"] | {"week": week}
    assert "not before its end" in one(standaard_number(rosters={"office": roster}))


def test_bad_clock() -> None:
    week = {"mon": [{"start": "25:00", "end": "18:00", "exit": "open"}]}
    roster = standaard_number()["rosters"]["office"] | {"week": week}
    assert one(standaard_number(rosters={"office": roster})).startswith("numbers[0].rosters.office.week.mon[0].start:")


@pytest.mark.parametrize(("shares", "message"), [
    ([70, 20], "sum to 90"),
    ([50, 60], "sum to 110"),
    ([100], "at least 2 destinations"),
])
def test_split_percentages(shares: list[int], message: str) -> None:
    split = [{"percent": p, "to": "main"} for p in shares]
    assert message in one(standaard_number(splits={"spread": split}))


def test_at_most_five_split_destinations() -> None:
    split = [{"percent": 10, "to": "main"}] * 4 + [{"percent": 20, "to": "main"}] * 3
    msg = one(standaard_number(splits={"spread": split}))
    assert "at most 5 destinations" in msg


def test_premium_split_unlimited() -> None:
    split = [{"percent": 10, "to": "main"}] * 10
    assert violations(standaard_number(package="premium", splits={"spread": split})) == []


def test_fixed_order() -> None:
    split = [{"percent": 50, "to": "office"}, {"percent": 50, "to": "main"}]
    msg = one(standaard_number(splits={"spread": split}))
    assert msg == ("numbers[0].splits.spread[0].to: a split step cannot lead to a roster "
                   "(order: regions → roster → split → routing)")


def test_unknown_target() -> None:
    assert "is not a routing, roster, split" in one(standaard_number(splits={
        "spread": [{"percent": 50, "to": "nowhere"}, {"percent": 50, "to": "main"}]}))


def test_regions_route_callers() -> None:
    f = flow()
    moment = at("2026-12-01 10:00")  # a Tuesday, office hours
    assert simulate(f, CallScenario("0101234567", moment)).answered_by == "+31105550011"
    assert simulate(f, CallScenario("0612345678", moment)).answered_by == "+31305550051"
    assert simulate(f, CallScenario("+4420123456", moment)).answered_by == "+3225550061"
    assert simulate(f, CallScenario("0301234567", moment)).answered_by == "+31205550091"  # other → active
    assert simulate(f, CallScenario("", moment)).answered_by == "+31205550091"  # withheld → other


@pytest.mark.parametrize(("when", "exit_name"), [
    ("2026-12-01 08:59", "closed"),
    ("2026-12-01 09:00", "open"),
    ("2026-12-01 17:59", "open"),
    ("2026-12-01 18:00", "closed"),
    ("2026-12-05 09:59", "closed"),  # Saturday
    ("2026-12-05 10:00", "weekend"),
    ("2026-12-06 12:00", "closed"),  # Sunday
    ("2027-03-29 10:00", "holiday"),  # Easter Monday 2027
    ("2025-04-26 10:00", "holiday"),  # King's Day 2025: 27 April was a Sunday
    ("2026-04-27 10:00", "holiday"),  # King's Day 2026
    ("2026-12-31 10:00", "holiday"),  # the tenant's own closed date
    ("2027-05-05 10:00", "holiday"),  # Liberation Day
    ("2026-04-03 10:00", "open"),  # Good Friday is a working day
])
def test_roster_exits(when: str, exit_name: str) -> None:
    r = simulate(flow(), CallScenario("0201234567", at(when)))
    assert [s["exit"] for s in r.steps if s["step"] == "roster"] == [exit_name]


def test_roster_is_wall_clock_across_dst() -> None:
    # 2026-10-25 03:00 CET is after the autumn change; 08:59 and 09:00 still mean local time.
    f = flow()
    before = simulate(f, CallScenario("0201234567", at("2026-10-26 08:59")))
    after = simulate(f, CallScenario("0201234567", at("2026-10-26 09:00")))
    assert [s["exit"] for s in before.steps if s["step"] == "roster"] == ["closed"]
    assert [s["exit"] for s in after.steps if s["step"] == "roster"] == ["open"]


def test_split_accuracy_over_10000_calls() -> None:
    f = flow()
    state: dict = {}
    got: Counter[str] = Counter()
    for _ in range(10_000):
        r = simulate(f, CallScenario("0201234567", at("2026-12-01 10:00"), split_state=state))
        state = r.split_state
        got[r.answered_by or ""] += 1
    assert abs(got["+31205550021"] / 100 - 70) <= 1
    assert abs(got["+31205550041"] / 100 - 30) <= 1


def test_split_destination_keeps_its_overflow() -> None:
    from orchestrator.domain.simulate import DestinationBehaviour

    r = simulate(flow(), CallScenario("0201234567", at("2026-12-01 10:00"),
                                      behaviour={"+31205550021": DestinationBehaviour.BUSY}))
    assert r.destinations == ["+31205550021", "+31205550031"]


def test_holidays_cover_a_decade() -> None:
    assert "20270329" in HOLIDAYS and "20360101" in HOLIDAYS and "20250426" in HOLIDAYS
