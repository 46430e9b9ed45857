"""090x numbers: tariffs from the fixed lists, maximum call cost and duration, foreign callers."""

from datetime import datetime
from decimal import Decimal

import pytest

from orchestrator.domain import tariffs
from orchestrator.domain.compile import compile_plan
from orchestrator.domain.ir import Dial, Play
from orchestrator.domain.plan import AMSTERDAM, parse_plan
from orchestrator.domain.rules import check_plan
from orchestrator.domain.simulate import CallScenario, simulate
from orchestrator.errors import PlanInvalid
from tests.plans import NOW, basis_number, tenant_plan


def premium(**tariff: object) -> dict:
    return basis_number(number="0900 1234567", switches=[], tariff=tariff)


def violations(n: dict) -> list[str]:
    try:
        plan = parse_plan(tenant_plan(n))
    except PlanInvalid as exc:
        return [str(v) for v in exc.violations]
    return [str(v) for v in check_plan(plan, NOW)]


def test_valid_tariffs() -> None:
    assert violations(premium(per_call="0.50")) == []
    assert violations(premium(per_minute="0.15")) == []
    assert violations(premium(per_call="0.20", per_minute="1.00", max_call_cost="10.00")) == []


def test_unknown_per_call_tariff_lists_allowed_values() -> None:
    [msg] = violations(premium(per_call="0.65"))
    assert msg.startswith("numbers[0].tariff.per_call: €0.65 is not an allowed per-call tariff")
    assert "€0.10, €0.15" in msg and "€2.00" in msg


def test_unknown_per_minute_tariff() -> None:
    [msg] = violations(premium(per_minute="0.75", max_call_cost="10.00"))
    assert msg.startswith("numbers[0].tariff.per_minute: €0.75 is not an allowed per-minute tariff")
    assert "€1.20" in msg


def test_max_cost_required_above_15_cents_a_minute() -> None:
    assert violations(premium(per_minute="0.20")) == [
        "numbers[0].tariff.max_call_cost: required when the per-minute tariff is above €0.15"]


def test_090x_needs_a_tariff() -> None:
    [msg] = violations(basis_number(number="0906 1234", switches=[]))
    assert msg.startswith("numbers[0].tariff: a 0906 number needs an information tariff")


def test_0800_and_088_carry_no_tariff() -> None:
    for number in ("0800 7654321", "088 123 4567"):
        [msg] = violations(basis_number(number=number, tariff={"per_call": "0.50"}))
        assert "carry no information tariff" in msg


def test_warning_must_come_before_the_end() -> None:
    [msg] = violations(premium(per_call="0.10", max_duration=20, warning_before=30))
    assert msg.startswith("numbers[0].tariff.warning_before")


def test_max_duration_follows_from_max_cost() -> None:
    # (10.00 - 0.20) / 1.00 per minute = 9.8 minutes = 588 s
    assert tariffs.max_duration_seconds(Decimal("10.00"), Decimal("0.20"), Decimal("1.00")) == 588
    # (5.00 - 0) / 0.35 = 14.2857 minutes = 857.14 s, rounded down
    assert tariffs.max_duration_seconds(Decimal("5.00"), Decimal(0), Decimal("0.35")) == 857


def test_stricter_limit_wins_and_reaches_dial() -> None:
    plan = parse_plan(tenant_plan(premium(per_call="0.20", per_minute="1.00", max_call_cost="10.00",
                                          max_duration=300, warning_before=20)))
    flow = compile_plan(plan, {})[0]
    dials = [n for n in flow.nodes.values() if isinstance(n, Dial)]
    assert {(d.limit, d.warning) for d in dials} == {(300, 20)}


def test_tariff_announcement_first_and_foreign_blocked_by_default() -> None:
    plan = parse_plan(tenant_plan(premium(per_call="0.50") | {"announcements": {"welcome": "default-final"}}))
    flow = compile_plan(plan, {"@tariff/+319001234567": "/sounds/tariff-x"})[0]
    moment = datetime(2026, 12, 1, 10, tzinfo=AMSTERDAM)
    r = simulate(flow, CallScenario("0201234567", moment))
    plays = [s for s in r.steps if s["step"] == "play"]
    assert [p["detail"] for p in plays] == ["tariff", "welcome"]
    assert plays[0]["sound"] == "/sounds/tariff-x"
    assert isinstance(flow.nodes["tariff"], Play)
    assert simulate(flow, CallScenario("+4420794600", moment)).reason == "foreign"


def test_foreign_callers_after_opting_in() -> None:
    plan = parse_plan(tenant_plan(premium(per_call="0.50") | {"allow_foreign": True}))
    flow = compile_plan(plan, {})[0]
    r = simulate(flow, CallScenario("+4420794600", datetime(2026, 12, 1, 10, tzinfo=AMSTERDAM)))
    assert r.outcome == "answered"


def test_allow_foreign_only_on_090x() -> None:
    [msg] = violations(basis_number(allow_foreign=True))
    assert msg.startswith("numbers[0].allow_foreign")


@pytest.mark.parametrize(("per_call", "per_minute", "max_cost", "text"), [
    ("0.50", None, None, "Dit gesprek kost 50 cent per gesprek."),
    (None, "1.00", "10.00", "Dit gesprek kost 1 euro per minuut. De maximale gesprekskosten zijn 10 euro."),
    ("0.20", "1.10", "10.00",
     "Dit gesprek kost 1 euro 10 per minuut en 20 cent per gesprek. De maximale gesprekskosten zijn 10 euro."),
])
def test_announcement_text(per_call: str | None, per_minute: str | None, max_cost: str | None, text: str) -> None:
    def d(x: str | None) -> Decimal | None:
        return Decimal(x) if x else None

    assert tariffs.announcement_text(d(per_call), d(per_minute), d(max_cost)) == text
