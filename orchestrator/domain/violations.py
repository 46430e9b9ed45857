"""Pydantic's validation errors as our Violations, each named by the path of its field
(``numbers[0].routings.main``): the one translation, for plans and for API request bodies."""

from __future__ import annotations

from pydantic import ValidationError

from orchestrator.errors import Violation


def field_path(loc: tuple[int | str, ...], empty: str) -> str:
    """``("numbers", 0, "routings")`` -> ``numbers[0].routings``; ``empty`` names the whole input."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or empty


def violations_of(exc: ValidationError, whole: str) -> list[Violation]:
    """Every error of ``exc``; ``whole`` names the input when an error concerns all of it."""
    return [Violation(field_path(tuple(e["loc"]), whole),
                      "unknown field" if e["type"] == "extra_forbidden" else e["msg"].removeprefix("Value error, "))
            for e in exc.errors()]
