"""Draft call flows: tried on the tenant's lent 088 test number, then promoted to live numbers. Pure.

A draft of flow ``support`` is kept in the tenant's plan as flow ``support-draft`` and only the
test number runs it, so it is validated, compiled, loaded, simulated, kept in history and rolled
back like any flow, while no live number can reach it. ``promote`` makes the draft the flow
``support`` (replacing the live version, which every number on it then runs) and links the
numbers given to it; the test number keeps running it. Both work on plan documents (the plan
format), so the rules report a draft's errors at their place (``draft.blocks.main.exits.2``).
"""

from __future__ import annotations

import copy
import re
from typing import Any

from orchestrator.domain.fields import NAME_PATTERN
from orchestrator.domain.numbers import NumberKind, parse_service_number
from orchestrator.domain.rules import FLOW_EXCLUSIVE
from orchestrator.errors import NotFound, NumberInvalid, PlanInvalid, Violation

DRAFT_SUFFIX = "-draft"
DRAFT_FIELD = "draft"  # how violations inside the draft flow are named
_NAME = re.compile(NAME_PATTERN)


def draft_name(name: str) -> str:
    """The name flow ``name``'s draft has in the plan (checked: a flow name, not a draft's)."""
    if not _NAME.match(name) or name.endswith(DRAFT_SUFFIX):
        raise PlanInvalid([Violation("flow", f"{name[:60]!r} is not a flow name (a-z, 0-9, - and _, "
                                             f"not ending in {DRAFT_SUFFIX!r})")])
    drafted = name + DRAFT_SUFFIX
    if not _NAME.match(drafted):
        raise PlanInvalid([Violation("flow", f"{name!r} is too long to draft: at most "
                                             f"{40 - len(DRAFT_SUFFIX)} characters")])
    return drafted


def test_number_of(test_number: str | None) -> str:
    """The E.164 form of the tenant's lent 088 test number; an error naming ``test_number`` if none."""
    if test_number is None:
        raise PlanInvalid([Violation("test_number", "this tenant has no test number (a lent 088 number); "
                                                    "the operator lends one in the plan's test_number")])
    sid = parse_service_number(test_number)
    if sid.kind is not NumberKind.COMPANY:
        raise PlanInvalid([Violation("test_number", f"{test_number} is not an 088 number")])
    return sid.e164


def _e164(entry: Any) -> str | None:
    try:
        return parse_service_number(str(entry.get("number", ""))).e164 if isinstance(entry, dict) else None
    except (NumberInvalid, PlanInvalid):
        return None


def _on_test_number(document: dict[str, Any], test: str) -> str | None:
    return next((e.get("flow") for e in document.get("numbers", []) if _e164(e) == test), None)


def _runners(document: dict[str, Any], flow: str) -> list[str]:
    return [e164 for e in document.get("numbers", []) if e.get("flow") == flow and (e164 := _e164(e))]


def with_draft(live: dict[str, Any], name: str, flow: Any) -> dict[str, Any]:
    """The live plan document plus ``flow`` as the draft of flow ``name``, run by the test number
    only. A draft of another flow the test number ran before leaves; live numbers stay as they are."""
    drafted = draft_name(name)
    test = test_number_of(live.get("test_number"))
    if not isinstance(flow, dict):
        raise PlanInvalid([Violation(DRAFT_FIELD, "a flow is a mapping with start and blocks")])
    document = copy.deepcopy(live)
    flows: dict[str, Any] = document.setdefault("flows", {})
    if drafted in flows and set(_runners(document, drafted)) - {test}:
        raise PlanInvalid([Violation(f"flows.{drafted}", f"a live flow is called {drafted!r}, the name the draft "
                                                         f"of {name!r} takes; rename that flow first")])
    before = _on_test_number(document, test)
    if before and before != drafted and before.endswith(DRAFT_SUFFIX) and _runners(document, before) == [test]:
        flows.pop(before, None)  # the test number runs one draft at a time
    flows[drafted] = flow
    numbers = [e for e in document.get("numbers", []) if _e164(e) != test]
    document["numbers"] = [*numbers, {"number": test, "package": "premium", "flow": drafted}]
    return document


def draft_of(document: dict[str, Any], name: str) -> dict[str, Any]:
    """The draft of flow ``name`` in a plan document; NotFound when none was tried."""
    found = document.get("flows", {}).get(name + DRAFT_SUFFIX)
    if not isinstance(found, dict):
        raise NotFound(f"flow {name!r} has no draft: `orchestrator flow try {name} --file ...` one first")
    return found


def promoted(live: dict[str, Any], name: str, numbers: list[str]) -> dict[str, Any]:
    """The live plan document with the draft of ``name`` as flow ``name`` and ``numbers`` (the
    tenant's live numbers) running it. An error names each number that is not the tenant's."""
    drafted = draft_name(name)
    test = test_number_of(live.get("test_number"))
    document = copy.deepcopy(live)
    flow = draft_of(document, name)
    if not numbers and not _runners(document, name):
        raise PlanInvalid([Violation("numbers", f"no live number runs flow {name!r}: name the numbers "
                                                "that are to run it")])
    entries = {_e164(e): e for e in document.get("numbers", [])}
    violations: list[Violation] = []
    chosen: list[dict[str, Any]] = []
    for i, number in enumerate(numbers):
        try:
            e164 = parse_service_number(number).e164
        except NumberInvalid as exc:
            violations.append(Violation(f"numbers[{i}]", str(exc)))
            continue
        entry = entries.get(e164)
        if e164 == test:
            violations.append(Violation(f"numbers[{i}]", f"{number} is the test number; it runs the draft already"))
        elif entry is None:
            violations.append(Violation(f"numbers[{i}]", f"{number} is not a number of tenant "
                                                         f"{live.get('tenant')!r}"))
        else:
            chosen.append(entry)
    if violations:
        raise PlanInvalid(violations)
    flows = document["flows"]
    del flows[drafted]
    flows[name] = flow
    document.get("layout", {}).pop(drafted, None)
    for entry in chosen:
        for field in (*FLOW_EXCLUSIVE, "active"):
            entry.pop(field, None)
        entry["flow"] = name
    if test in entries:
        entries[test]["flow"] = name
    return document


def draft_violations(exc: PlanInvalid, name: str) -> PlanInvalid:
    """``exc`` with the draft's fields named as the user wrote them (``draft.blocks...``)."""
    prefix = f"flows.{name}{DRAFT_SUFFIX}"
    renamed = [Violation(DRAFT_FIELD + v.field[len(prefix):], v.rule)
               if v.field == prefix or v.field.startswith(prefix + ".") else v for v in exc.violations]
    return PlanInvalid(renamed)
