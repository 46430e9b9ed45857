"""Plan builders shared by unit and end-to-end tests."""

from __future__ import annotations

import copy
from datetime import datetime
from typing import Any

from orchestrator.domain.plan import AMSTERDAM

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=AMSTERDAM)


def basis_number(**overrides: Any) -> dict[str, Any]:
    n: dict[str, Any] = {
        "number": "0800 1234567",
        "package": "basis",
        "routings": {
            "main": [
                {"number": "020 555 0001", "ring_time": 20},
                {"number": "020 555 0002", "ring_time": 15},
                {"number": "+44 20 7946 0001"},
            ],
            "evening": [{"number": "010 555 0001"}],
        },
        "active": "main",
        # Far ahead: a plan is refused once a switch moment lies in the past, whenever the tests run.
        "switches": [{"at": "2099-12-24 17:30", "routing": "evening"}],
        "blocking": {"anonymous": True, "foreign": False, "mobile": False},
    }
    n.update(copy.deepcopy(overrides))
    return n


def tenant_plan(*numbers: dict[str, Any], **extra: Any) -> dict[str, Any]:
    plan: dict[str, Any] = {"tenant": "acme", "numbers": list(numbers) or [basis_number()]}
    plan.update(extra)
    return plan


def standaard_number(**overrides: Any) -> dict[str, Any]:
    """A Standaard number using every step: regions → roster → split → routings."""
    n: dict[str, Any] = {
        "number": "0800 7654321",
        "package": "standaard",
        "routings": {
            "rotterdam": [{"number": "010 555 0011"}],
            "amsterdam-a": [{"number": "020 555 0021"}, {"number": "020 555 0031"}],
            "amsterdam-b": [{"number": "020 555 0041"}],
            "mobile": [{"number": "030 555 0051"}],
            "abroad": [{"number": "+32 2 555 0061"}],
            "closed": [{"number": "020 555 0071"}],
            "weekend": [{"number": "020 555 0081"}],
            "main": [{"number": "020 555 0091"}],
        },
        "active": "main",
        "regions": {
            "exits": [
                {"name": "rotterdam", "areas": ["010"], "to": "rotterdam"},
                {"name": "amsterdam", "areas": ["020"], "to": "office"},
                {"name": "mobile", "areas": ["mobile"], "to": "mobile"},
                {"name": "abroad", "areas": ["foreign"], "to": "abroad"},
            ],
            "other": "active",
        },
        "rosters": {
            "office": {
                "week": {d: [{"start": "09:00", "end": "18:00", "exit": "open"}]
                         for d in ("mon", "tue", "wed", "thu", "fri")}
                | {"sat": [{"start": "10:00", "end": "14:00", "exit": "weekend"}]},
                "exits": {"open": "spread", "weekend": "weekend", "closed": "closed"},
                "outside": "closed",
                "holiday": "closed",
                "closed_dates": ["2026-12-31"],
            },
        },
        "splits": {"spread": [{"percent": 70, "to": "amsterdam-a"}, {"percent": 30, "to": "amsterdam-b"}]},
    }
    n.update(copy.deepcopy(overrides))
    return n
