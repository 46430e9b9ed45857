from orchestrator.domain.diff import changed_numbers, diff_plans, render_changes
from orchestrator.domain.plan import parse_plan
from tests.plans import basis_number, standaard_number, tenant_plan


def plan(*numbers: dict):
    return parse_plan(tenant_plan(*numbers))


def test_new_tenant_lists_new_numbers() -> None:
    text = render_changes(diff_plans(None, plan(basis_number())))
    assert text.splitlines()[0] == "0800 123 4567: new"


def test_routing_change_in_words() -> None:
    old = plan(basis_number())
    new_routings = basis_number()["routings"] | {"main": [{"number": "020 555 0009", "ring_time": 25}]}
    new = plan(basis_number(routings=new_routings, max_concurrent_calls=3))
    text = render_changes(diff_plans(old, new))
    assert "0800 123 4567:" in text
    assert "routing 'main' now rings +31205550009 (25 s) instead of +31205550001 (20 s)" in text
    assert "at most 3 simultaneous calls instead of unlimited" in text


def test_office_hours_change_in_words() -> None:
    old = plan(standaard_number())
    roster = standaard_number()["rosters"]["office"]
    roster["week"]["mon"] = [{"start": "09:00", "end": "17:30", "exit": "open"}]
    new = plan(standaard_number(rosters={"office": roster}))
    text = render_changes(diff_plans(old, new))
    assert "roster 'office' on mon: 09:00-17:30 open instead of 09:00-18:00 open" in text


def test_removed_and_unchanged_numbers() -> None:
    old = plan(basis_number(), basis_number(number="0800 7654321"))
    new = plan(basis_number())
    changes = diff_plans(old, new)
    assert [(c.number, c.kind) for c in changes] == [("+318007654321", "removed")]
    assert changed_numbers(new, new) == set()
    assert render_changes([]) == "No changes."
