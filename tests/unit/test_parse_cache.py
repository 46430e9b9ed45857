"""The phone-number parsers are cached (benchmarks, issue 9): same answers, errors every time."""

from __future__ import annotations

import pytest

from orchestrator.domain.numbers import NumberKind, parse_destination, parse_service_number
from orchestrator.errors import NumberInvalid


@pytest.mark.parametrize("text", ["0800 1234567", "+31 800 1234567", "0900-1234562"])
def test_service_number_answers_are_stable(text: str) -> None:
    first = parse_service_number(text)
    assert parse_service_number(text) == first
    assert first.kind in (NumberKind.FREEPHONE, NumberKind.PREMIUM_0900)


def test_destinations_are_stable() -> None:
    assert parse_destination("020 555 0001") == parse_destination("020 555 0001") == "+31205550001"


@pytest.mark.parametrize("text", ["112", "0906 1234567", "not a number", ""])
def test_bad_destinations_raise_every_time(text: str) -> None:
    for _ in range(3):
        with pytest.raises(NumberInvalid):
            parse_destination(text)


def test_bad_service_numbers_raise_every_time() -> None:
    for _ in range(3):
        with pytest.raises(NumberInvalid):
            parse_service_number("020 12")
