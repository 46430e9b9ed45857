"""apply lints the files it is about to write (orchestrator/asterisk/lint.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestrator.domain.compile import compile_plan
from orchestrator.domain.plan import parse_plan
from orchestrator.errors import DialplanLintFailed
from orchestrator.generate.lint import lint_dialplan
from orchestrator.generate.render import render_dialplan
from tests.plans import basis_number, tenant_plan


def test_generated_dialplan_passes() -> None:
    lint_dialplan(render_dialplan(compile_plan(parse_plan(tenant_plan(basis_number())), {})))


@pytest.mark.parametrize("text, finding", [
    ("[svc-x]\nexten => s,1,NoSuchApplication(1)\n", "NoSuchApplication"),
    ("[svc-x]\nexten => s,1,Goto(nowhere,s,1)\n", "nowhere"),
    ("[svc-x]\nexten => s,1,GotoIf($[1 = 1]?yes:no)\n", "yes"),
])
def test_a_defect_stops_the_apply(text: str, finding: str) -> None:
    with pytest.raises(DialplanLintFailed, match=finding):
        lint_dialplan({"n-x.conf": text})


def test_the_entry_may_point_at_numbers_that_were_not_rendered_again() -> None:
    files = render_dialplan(compile_plan(parse_plan(tenant_plan(basis_number())), {}))
    entry_only = {name: text for name, text in files.items() if not name.startswith("n-")}
    lint_dialplan(entry_only)  # the number's context exists in Asterisk already


def test_one_file_per_shape_is_linted() -> None:
    from orchestrator.generate.lint import representatives

    numbers = [basis_number(number=f"0800 100 00{i:02d}") for i in range(20)]
    numbers.append(basis_number(number="0800 100 0099", max_concurrent_calls=2))  # another shape
    files = render_dialplan(compile_plan(parse_plan(tenant_plan(*numbers)), {}))
    picked = representatives(files)
    assert sorted(n for n in picked if n.startswith("n-")) == ["n-318001000000.conf", "n-318001000099.conf"]
    assert picked["entry.conf"].count("exten =>") < files["entry.conf"].count("exten =>")
    lint_dialplan(files)
    broken = files | {"n-318001000007.conf": files["n-318001000007.conf"].replace("Dial(", "Dail(", 1)}
    with pytest.raises(DialplanLintFailed, match="Dail"):
        lint_dialplan(broken)  # a defect changes the shape, so it is linted


def test_a_shape_found_clean_is_not_linted_again(tmp_path: Path) -> None:
    from orchestrator.generate.lint import LintCache

    cache = LintCache(tmp_path / "clean")
    files = render_dialplan(compile_plan(parse_plan(tenant_plan(basis_number())), {}))
    lint_dialplan(files, cache)
    assert len(cache.known()) == 1
    other_ring_time = render_dialplan(compile_plan(parse_plan(tenant_plan(basis_number(
        routings={"main": [{"number": "020 555 0001", "ring_time": 25}], "evening": [{"number": "010 555 0001"}]})
    )), {}))
    lint_dialplan(other_ring_time, cache)
    lint_dialplan(render_dialplan(compile_plan(parse_plan(tenant_plan(basis_number(number="0800 7654321"))), {})),
                  cache)
    assert len(cache.known()) == 2  # a new number of the same shape: a hit; a shorter routing: a new shape
    broken = {"n-x.conf": "[svc-x]\nexten => s,1,NoSuchApplication(1)\n"}
    with pytest.raises(DialplanLintFailed):
        lint_dialplan(broken, cache)
    with pytest.raises(DialplanLintFailed):
        lint_dialplan(broken, cache)  # findings are never cached


def test_numbers_and_flows_that_differ_only_in_their_split_s_names_share_a_shape() -> None:
    """A split's GROUP() category is derived from its AstDB family (number digits, tenant, flow):
    it must stay digits, or every such number and flow is a shape of its own, linted each apply."""
    from orchestrator.domain.flow_compile import compile_flows
    from orchestrator.generate.lint import representatives, shape_key
    from orchestrator.generate.render import Renderer
    from tests.plans import standaard_number

    numbers = [standaard_number(number=f"0800 765 43{i:02d}") for i in range(5)]
    files = render_dialplan(compile_plan(parse_plan(tenant_plan(*numbers)), {}))
    assert len([n for n in representatives(files) if n.startswith("n-")]) == 1

    flow = {"start": "spread", "blocks": {
        "spread": {"type": "split", "params": {"shares": {"a": 70, "b": 30}}, "exits": {"a": "bye", "b": "bye"}},
        "bye": {"type": "hangup"}}}
    shapes = set()
    for tenant, name in (("acme", "f001"), ("acme", "f002"), ("other", "f001")):
        [compiled] = compile_flows(tenant, {name: parse_plan({"tenant": tenant, "flows": {name: flow},
                                                               "numbers": []}).flows[name]}, {})
        text = next(iter(Renderer("carrier").flow(compiled).values()))
        shapes.add(shape_key({"flow.conf": text.replace(tenant, "t").replace(name, "f")}))
    assert len(shapes) == 1
