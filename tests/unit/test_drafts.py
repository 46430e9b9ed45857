import pytest

from orchestrator.domain.plan import parse_plan
from orchestrator.errors import NotFound, PlanInvalid
from orchestrator.services.drafts import drafted, promoted
from tests.plans import basis_number, tenant_plan


def live():
    return parse_plan(tenant_plan(basis_number(), test_number="088 999 0000"))


def test_draft_goes_on_the_test_number_only() -> None:
    draft_routings = basis_number()["routings"] | {"main": [{"number": "020 555 0099"}]}
    draft = parse_plan(tenant_plan(basis_number(routings=draft_routings), test_number="088 999 0000"))
    plan = drafted(live(), draft, "0800 1234567")
    by_number = {n.number: n for n in plan.numbers}
    assert by_number["+318001234567"].routings["main"][0].number == "+31205550001"  # live unchanged
    trial = by_number["+31889990000"]
    assert trial.routings["main"][0].number == "+31205550099" and trial.package == "premium"


def test_promote_moves_the_trial_to_the_live_number() -> None:
    draft_routings = basis_number()["routings"] | {"main": [{"number": "020 555 0099"}]}
    draft = parse_plan(tenant_plan(basis_number(routings=draft_routings), test_number="088 999 0000"))
    plan = promoted(drafted(live(), draft, "0800 1234567"), "0800 1234567")
    by_number = {n.number: n for n in plan.numbers}
    assert by_number["+318001234567"].routings["main"][0].number == "+31205550099"
    assert by_number["+318001234567"].package == "basis"  # keeps its own package


def test_no_test_number() -> None:
    with pytest.raises(PlanInvalid, match="no test number"):
        drafted(None, parse_plan(tenant_plan(basis_number())), "0800 1234567")


def test_test_number_must_be_088() -> None:
    with pytest.raises(PlanInvalid, match="not an 088 number"):
        drafted(None, parse_plan(tenant_plan(basis_number(), test_number="0800 7654321")), "0800 1234567")


def test_promote_without_trial() -> None:
    with pytest.raises(NotFound):
        promoted(live(), "0800 1234567")
