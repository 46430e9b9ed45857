"""The incremental (AMI) dialplan update: parsing our generated dialplan and planning actions."""

from pathlib import Path

import pytest

from orchestrator.asterisk.incremental import NeedsFullReload, actions, parse, plan_update

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
    assert got[0] == {"Action": "DialplanExtensionAdd", "Context": "c", "Extension": "a", "Priority": "1",
                      "Application": "NoOp", "ApplicationData": "one", "Replace": "yes"}
    assert {"Action": "DialplanExtensionRemove", "Context": "c", "Extension": "b"} in got
    assert {"Action": "DialplanExtensionRemove", "Context": "c", "Extension": "a", "Priority": "2"} in got


def test_plan_update_orders_contexts_before_entry() -> None:
    old = golden("demo")
    new = dict(old)
    new["n-399.conf"] = "[svc-399]\nexten => s,1,NoOp(new)\n"
    new["entry.conf"] = old["entry.conf"].replace(
        "exten => _[0-9+].", "exten => 0399,1,Goto(svc-399,s,1)\nexten => _[0-9+].")
    update = plan_update(old, new)
    assert update.changed_files == ["entry.conf", "n-399.conf"]
    assert [a["Context"] for a in update.actions] == ["svc-399", "svc-entry"]
    assert update.contexts == ["svc-399", "svc-entry"]


def test_shared_files_need_a_full_reload() -> None:
    old = golden("demo")
    with pytest.raises(NeedsFullReload):
        plan_update(old, old | {"lib.conf": old["lib.conf"] + "\n[x]\nexten => s,1,NoOp()\n"})
    with pytest.raises(NeedsFullReload):
        plan_update({}, old)
