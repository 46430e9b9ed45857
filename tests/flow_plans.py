"""Premium plans with call flows, shared by the unit, golden and e2e tests.

``timeout``: the menus' and inputs' wait for a key (also between digits). The golden files use 2 s;
the e2e tests a wait that is long next to the spacing of the replayed keys (see tests/harness/keys.py)."""

from __future__ import annotations

from typing import Any


def support_flow(timeout: int = 2) -> dict[str, Any]:
    """A menu three levels deep with a back key, an input with the 11-check and list
    membership, and decisions in unusual order (time before region, split before a menu)."""
    beep = {"sound": "beep"}
    return {
        "start": "hours",
        "blocks": {
            "hours": {"type": "time", "params": {
                "week": {d: [{"start": "00:00", "end": "24:00", "exit": "open"}]
                         for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")},
                "ranges": [{"start": "2030-07-01 00:00", "end": "2030-07-02 00:00", "exit": "closed"}]},
                "exits": {"open": "where", "closed": "bye"}},
            "where": {"type": "region", "params": {"regions": {"ams": ["020"], "abroad": ["foreign"]}},
                      "exits": {"ams": "spread", "abroad": "bye", "other": "main"}},
            "spread": {"type": "split", "params": {"shares": {"a": 50, "b": 50}},
                       "exits": {"a": "main", "b": "main"}},
            "main": {"type": "menu", "params": {"prompt": beep, "timeout": timeout, "invalid_prompt": beep},
                     "exits": {"1": "sales", "2": "sub", "3": "member", "failed": "sorry"}},
            "sub": {"type": "menu", "params": {"prompt": beep, "timeout": timeout, "back": "*", "invalid_prompt": beep},
                    "exits": {"1": "deeper", "2": "billing", "failed": "sorry"}},
            "deeper": {"type": "menu", "params": {"prompt": beep, "timeout": timeout, "back": "*",
                                                  "invalid_prompt": beep},
                       "exits": {"1": "sales", "9": "billing", "failed": "hangup"}},
            "member": {"type": "input", "params": {"prompt": beep, "min_digits": 9, "max_digits": 9, "timeout": timeout,
                                                   "invalid_prompt": beep,
                                                   "checks": {"elfproef": True, "list": "members"},
                                                   "save_as": "member"},
                       "exits": {"valid": "vip", "invalid": "sorry", "timeout": "main"}},
            "vip": {"type": "set", "params": {"priority_from": "member", "values": {"tier": "gold"}},
                    "exits": {"next": "billing"}},
            "sales": {"type": "dial", "params": {"destinations": [{"number": "+31205550011", "ring_time": 5}]},
                      "exits": {"failed": "sorry"}},
            "billing": {"type": "dial", "params": {"destinations": [
                {"number": "+31205550023", "ring_time": 5}, {"number": "+31205550031", "ring_time": 5}]},
                "exits": {"failed": "sorry"}},
            "sorry": {"type": "play", "params": {"prompt": {"sound": "vm-goodbye"}}, "exits": {"next": "bye"}},
            "bye": {"type": "hangup"},
        },
    }


def flow_plan(tenant: str = "flowco", timeout: int = 2) -> dict[str, Any]:
    return {
        "tenant": tenant,
        "lists": ["members"],
        "flows": {"support": support_flow(timeout)},
        "layout": {"support": {"main": {"x": 10, "y": 20}}},
        "numbers": [
            {"number": "0800 300 0001", "package": "premium", "flow": "support"},
            {"number": "0800 300 0002", "package": "premium", "flow": "support", "blocking": {"anonymous": True}},
        ],
    }


def intake_flow(timeout: int = 2) -> dict[str, Any]:
    """Decisions in another order: a split first, then region, then time; a card number with the
    Luhn check; a goto into the support flow."""
    beep = {"sound": "beep"}
    return {
        "start": "spread",
        "blocks": {
            "spread": {"type": "split", "params": {"shares": {"x": 30, "y": 70}},
                       "exits": {"x": "choose", "y": "where"}},
            "where": {"type": "region", "params": {"regions": {"ams": ["020"], "rdam": ["010"]}},
                      "exits": {"ams": "hours", "rdam": "card", "other": "choose"}},
            "hours": {"type": "time", "params": {
                "week": {d: [{"start": "00:00", "end": "24:00", "exit": "open"}]
                         for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")},
                "ranges": [{"start": "2030-07-01 00:00", "end": "2030-07-02 00:00", "exit": "closed"}]},
                "exits": {"open": "choose", "closed": "hangup"}},
            "choose": {"type": "menu", "params": {"prompt": beep, "timeout": timeout, "tries": 2,
                                                  "invalid_prompt": beep},
                       "exits": {"1": "card", "2": "jump", "#": "bye", "failed": "hangup"}},
            "card": {"type": "input", "params": {"prompt": beep, "min_digits": 4, "max_digits": 16, "timeout": timeout,
                                                 "invalid_prompt": beep, "checks": {"luhn": True}},
                     "exits": {"valid": "skill", "invalid": "choose", "timeout": "hangup"}},
            "skill": {"type": "set", "params": {"values": {"card": "yes"}}, "exits": {"next": "desk"}},
            "desk": {"type": "dial", "params": {"destinations": [{"number": "+31205550041", "ring_time": 5}]},
                     "exits": {"failed": "hangup"}},
            "jump": {"type": "goto", "params": {"flow": "support"}},
            "bye": {"type": "hangup"},
        },
    }


def mixed_plan(tenant: str, timeout: int = 2) -> dict[str, Any]:
    plan = flow_plan(tenant, timeout)
    plan["flows"]["intake"] = intake_flow(timeout)
    plan["numbers"].append({"number": "088 300 0003", "package": "premium", "flow": "intake"})
    plan["numbers"].append({"number": "0800 300 0004", "package": "premium", "flow": "intake",
                            "blocking": {"foreign": True}})
    return plan


def menus_flow(count: int, timeout: int = 2) -> dict[str, Any]:
    """A chain of ``count`` menus: key 1 goes one deeper, * goes back; the last one's 1 dials."""
    blocks: dict[str, Any] = {}
    for i in range(count):
        nxt = f"m{i + 1}" if i + 1 < count else "desk"
        params: dict[str, Any] = {"prompt": {"sound": "beep"}, "timeout": timeout}
        if i:
            params["back"] = "*"
        blocks[f"m{i}"] = {"type": "menu", "params": params, "exits": {"1": nxt, "failed": "hangup"}}
    blocks["desk"] = {"type": "dial", "params": {"destinations": [{"number": "+31205550011", "ring_time": 5}]},
                      "exits": {"failed": "hangup"}}
    return {"start": "m0", "blocks": blocks}
