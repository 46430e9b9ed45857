"""Which entries of a plan document are parsed again (domain/digest.py, domain/partial.py)."""

from __future__ import annotations

import pytest

from orchestrator.domain.digest import entry_digest, numbers_digest, plan_delta, same_numbers, tenant_salt
from orchestrator.domain.partial import checked_changes
from orchestrator.domain.plan import parse_plan
from orchestrator.errors import PlanInvalid
from tests.plans import NOW, basis_number, tenant_plan


def doc() -> dict:
    return tenant_plan(basis_number(number="0800 100 0001"), basis_number(number="0800 100 0002"),
                       basis_number(number="0800 100 0003"))


def stored_from(document: dict, salt: str) -> dict[str, str]:
    e164 = ["+318001000001", "+318001000002", "+318001000003"]
    return {e: entry_digest(salt, entry) for e, entry in zip(e164, document["numbers"], strict=True)}


def test_unchanged_entries_are_skipped_and_a_changed_one_is_not() -> None:
    d = doc()
    salt = tenant_salt(d, "gen")
    stored = stored_from(d, salt)
    d["numbers"][1]["routings"]["main"][0]["ring_time"] = 25
    delta = plan_delta(d, salt, stored)
    assert delta.changed == [1]
    assert delta.unchanged == {"+318001000001": 0, "+318001000003": 2}


@pytest.mark.parametrize("change", ["tenant-level", "generator"])
def test_a_tenant_level_or_generator_change_parses_everything(change: str) -> None:
    d = doc()
    stored = stored_from(d, tenant_salt(d, "gen"))
    if change == "tenant-level":
        d["announcements"] = {"welcome": {"sound": "hello-world"}}
    salt = tenant_salt(d, "gen2" if change == "generator" else "gen")
    assert plan_delta(d, salt, stored).changed == [0, 1, 2]


def test_key_order_does_not_count_as_a_change() -> None:
    d = doc()
    salt = tenant_salt(d, "gen")
    stored = stored_from(d, salt)
    d["numbers"][0] = dict(reversed(list(d["numbers"][0].items())))
    assert plan_delta(d, salt, stored).changed == []


def test_a_repeated_entry_is_parsed_so_the_duplicate_is_reported() -> None:
    d = doc()
    salt = tenant_salt(d, "gen")
    stored = stored_from(d, salt)
    d["numbers"].append(dict(d["numbers"][0]))
    delta = plan_delta(d, salt, stored)
    assert delta.changed == [0, 3]
    with pytest.raises(PlanInvalid, match=r"numbers\[3\]\.number: \+318001000001 is already defined"):
        checked_changes(d, delta, NOW)


def test_errors_name_the_place_in_the_whole_document() -> None:
    d = doc()
    salt = tenant_salt(d, "gen")
    stored = stored_from(d, salt)
    d["numbers"][2]["routings"]["main"][0]["number"] = "0906 123 4567"  # forbidden destination
    with pytest.raises(PlanInvalid) as caught:
        checked_changes(d, plan_delta(d, salt, stored), NOW)
    assert [v.field for v in caught.value.violations] == ["numbers[2].routings.main[0].number"]

    d = doc()
    d["numbers"][1]["number"] = "0800 100 0001"  # the same number as the unchanged entry 0
    d["numbers"][2]["active"] = "nowhere"
    with pytest.raises(PlanInvalid) as caught:
        checked_changes(d, plan_delta(d, salt, stored), NOW)
    fields = sorted(v.field for v in caught.value.violations)
    assert fields[0] == "numbers[1].number" and fields[1].startswith("numbers[2].active")
    assert not any(f.startswith("numbers[0]") for f in fields)


def test_call_centre_inside_is_not_the_numbers_business() -> None:
    """Numbers only jump to queue (and skill) and hunt-group names: the rest of the call centre
    stays out of their digest, the names and skills are in it."""
    from orchestrator.store.call_centres import call_centre_json
    from tests.plans import tenant_plan

    base = {"tenant": "acme", "numbers": [],
            "agents": {"ann": {"number": "0201110001", "skills": {"billing": 3}}, "bob": {"number": "0201110002"}},
            "queues": {"desk": {"agents": ["ann"], "strategy": "fixed"}},
            "hunt_groups": {"sales": {"agents": ["bob"]}}}

    def salt(doc: dict) -> str:
        return tenant_salt(doc, "gen")

    same = {**base, "queues": {"desk": {"agents": ["ann", "bob"], "strategy": "ringall", "max_wait": 40}},
            "agents": {**base["agents"], "bob": {"number": "0201110003", "wrapup": 5}},
            "hunt_groups": {"sales": {"agents": ["ann"], "strategy": "circular"}}}
    assert salt(same) == salt(base)
    # The inside changed: apply renders the call centres again (the stored call centre differs).
    assert call_centre_json(parse_plan(tenant_plan() | same)) != call_centre_json(parse_plan(tenant_plan() | base))
    renamed = {**base, "queues": {"front": base["queues"]["desk"]}}
    new_skill = {**base, "agents": {**base["agents"], "ann": {"number": "0201110001", "skills": {"french": 3}}}}
    no_hunt = {**base, "hunt_groups": {}}
    ghost = {**base, "queues": {"desk": {"agents": ["ann", "ghost"]}}}
    salts = {salt(d) for d in (base, renamed, new_skill, no_hunt, ghost)}
    assert len(salts) == 5
    assert salt({**base, "queues": "not a mapping"}) != salt(base)


def test_a_list_as_applied_before_keeps_each_number_in_its_place() -> None:
    delta = same_numbers(["+318001", "+318002", "+318003"])
    assert delta.changed == [] and delta.total == 3
    assert delta.unchanged == {"+318001": 0, "+318002": 1, "+318003": 2}
    assert delta.order([]) == ["+318001", "+318002", "+318003"]


def test_the_order_of_a_partly_changed_list_names_every_place() -> None:
    document = {"tenant": "t", "numbers": [{"number": "a"}, {"number": "b"}, {"number": "c"}]}
    salt = "s"
    stored = {"+31a": entry_digest(salt, {"number": "a"}), "+31c": entry_digest(salt, {"number": "c"})}
    delta = plan_delta(document, salt, stored)
    assert delta.changed == [1]
    assert delta.order(["+31b"]) == ["+31a", "+31b", "+31c"]
    assert numbers_digest(salt, document) != numbers_digest(salt, {"numbers": document["numbers"][:2]})
    assert numbers_digest(salt, document) != numbers_digest("other", document)
