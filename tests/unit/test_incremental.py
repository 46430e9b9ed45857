"""The incremental (AMI) dialplan update: parsing our generated dialplan and planning actions."""

from copy import deepcopy
from dataclasses import replace
from pathlib import Path

from orchestrator.asterisk.push import (
    MAX_INCREMENTAL_FILES,
    Add,
    Change,
    Parsed,
    Priority,
    Remove,
    Retire,
    actions,
    contexts_of,
    incremental_actions,
    parse,
)
from orchestrator.domain.flow_compile import compile_flows
from orchestrator.domain.plan import parse_plan
from orchestrator.generate.render import Renderer
from orchestrator.services.decision import ApplyDecision, Facts
from tests.flow_plans import flow_plan

GOLDEN = Path(__file__).resolve().parents[1] / "golden"


def golden(name: str) -> dict[str, str]:
    return {p.name: p.read_text() for p in (GOLDEN / name).glob("*.conf")}


def test_parse_counts_every_priority_and_resolves_labels() -> None:
    lib = golden("demo")["lib.conf"]
    prios = parse(lib)
    caller = [p for p in prios if p.context == "svc-lib" and p.exten == "caller"]
    assert [p.number for p in caller] == list(range(1, len(caller) + 1))
    intl = next(p.number for p in caller if p.label == "prefix1")
    assert caller[3].app == "GotoIf" and caller[3].data.endswith(f"?{intl}")
    assert sum(1 for ln in lib.splitlines() if ln.lstrip().startswith(("exten", "same"))) == len(prios)


def test_gotoif_with_colons_in_the_condition() -> None:
    text = ("[c]\nexten => x,1,GotoIf($[\"${A:0:2}\" = \"00\"]?yes:no)\n"
            " same => n(no),NoOp()\n same => n(yes),NoOp()\n")
    first = parse(text)[0]
    assert first.data == '$["${A:0:2}" = "00"]?3:2'


def test_goto_to_other_extension_is_kept() -> None:
    text = "[c]\nexten => x,1,GotoIf($[1]?r1d1,1:end,1)\n"
    assert parse(text)[0].data == "$[1]?r1d1,1:end,1"


def test_no_change_no_actions() -> None:
    for text in golden("standaard").values():
        assert actions(text, text) == []


def test_changed_priority_replaced_and_shorter_extension_trimmed() -> None:
    old = "[c]\nexten => a,1,NoOp(1)\n same => n,NoOp(2)\nexten => b,1,NoOp(b)\n"
    new = "[c]\nexten => a,1,NoOp(one)\n"
    got = actions(old, new)
    assert got[0] == Add("c", "a", 1, "NoOp", "one")
    assert Remove("c", "b") in got
    assert Remove("c", "a", 2) in got


def test_incremental_push_orders_contexts_before_entry_and_parses_each_text_once() -> None:
    old = golden("demo")
    new = dict(old)
    new["n-399.conf"] = "[svc-399]\nexten => s,1,NoOp(new)\n"
    new["entry.conf"] = old["entry.conf"].replace(
        "exten => _[0-9+].", "exten => 0399,1,Goto(svc-399,s,1)\nexten => _[0-9+].")
    change = Change.between(old, new, old.keys() | new.keys())
    assert change.names == ["entry.conf", "n-399.conf"]
    calls: list[str] = []
    parsed = Parsed()

    def counting(text: str) -> list[Priority]:
        calls.append(text)
        return parsed(text)

    steps = incremental_actions(change, counting)
    assert [a.context for a in steps] == ["svc-399", "svc-entry"]
    assert sorted(contexts_of(change.new, counting)) == ["svc-399", "svc-entry"]
    assert len(parsed._done) == 4  # old and new entry, no old number (""), new number: each parsed once


def test_shared_files_or_many_files_need_a_full_reload() -> None:
    incremental = ApplyDecision(render_changed_only=True, full_reload=None)
    assert incremental.for_change(["lib.conf"]).full_reload == "the shared library or holidays changed"
    many = [f"n-{i}.conf" for i in range(MAX_INCREMENTAL_FILES + 1)]
    assert incremental.for_change(many).full_reload == f"{len(many)} files changed"
    assert incremental.for_change(many[:3]).full_reload is None


def test_the_decision_trusts_the_files_only_when_the_database_committed_them() -> None:
    base = Facts(full_asked=False, committed_dir="/etc/svc-versions/b", committed_generator="g", loaded=True,
                 link=Path("/etc/svc-versions/b"), build="g", salt_matches=True)
    assert ApplyDecision.decide(base) == ApplyDecision(True, None, None)
    crashed = ApplyDecision.decide(replace(base, link=Path("/etc/svc-versions/c")))
    assert not crashed.render_changed_only
    assert crashed.full_reload == "the files on disk are not the version this database committed"
    offline = ApplyDecision.decide(replace(base, loaded=False))
    assert offline.render_changed_only and offline.full_reload is not None
    assert ApplyDecision.decide(replace(base, committed_dir=None)).full_reload == "first apply this database sees"
    salt = ApplyDecision.decide(replace(base, salt_matches=False))
    assert not salt.render_changed_only and salt.full_reload is None


def test_a_flow_change_loads_the_new_version_whole_then_switches_then_retires_the_old() -> None:
    """A call sees one version of a flow: the new version context is complete before the flow's
    entry names it, and the old one is only retired (removed once no call is in it)."""
    doc = flow_plan("acme")
    changed = deepcopy(doc)
    changed["flows"]["support"]["blocks"]["main"]["exits"]["1"] = "billing"

    def rendered(d: dict) -> dict[str, str]:
        [flow] = compile_flows("acme", parse_plan(d).flows, {}, frozenset())
        return Renderer().flow(flow)

    old, new = rendered(doc), rendered(changed)
    change = Change.between(old, new, old.keys() | new.keys())
    steps = incremental_actions(change, Parsed())
    old_version = {p.context for p in parse(old["fl-acme-support.conf"])} - {"fl-acme-support"}
    new_version = {p.context for p in parse(new["fl-acme-support.conf"])} - {"fl-acme-support"}
    assert len(old_version) == len(new_version) == 1 and old_version != new_version
    [switch] = [i for i, s in enumerate(steps) if s.context == "fl-acme-support"]
    assert all(isinstance(s, Add) and s.fresh and s.context in new_version for s in steps[:switch])
    assert len(steps[:switch]) == len(parse(new["fl-acme-support.conf"])) - 1  # the whole version
    assert steps[switch] == Add("fl-acme-support", "start", 1, "Goto", f"{next(iter(new_version))},start,1")
    assert steps[switch + 1:] == [Retire(next(iter(old_version)))]
    # Moving a box in the builder is no change: the same version, nothing to push.
    moved = deepcopy(doc)
    moved["layout"] = {"support": {"main": {"x": 1, "y": 2}}}
    assert rendered(moved) == old
