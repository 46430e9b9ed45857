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
        "switches": [{"at": "2026-12-24 17:30", "routing": "evening"}],
        "blocking": {"anonymous": True, "foreign": False, "mobile": False},
    }
    n.update(copy.deepcopy(overrides))
    return n


def tenant_plan(*numbers: dict[str, Any], **extra: Any) -> dict[str, Any]:
    plan: dict[str, Any] = {"tenant": "acme", "numbers": list(numbers) or [basis_number()]}
    plan.update(extra)
    return plan
