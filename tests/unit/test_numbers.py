import pytest

from orchestrator.domain.numbers import (
    NumberKind,
    dutch_mobile_prefixes,
    parse_destination,
    parse_service_number,
)
from orchestrator.errors import NumberInvalid


@pytest.mark.parametrize(
    ("text", "kind", "e164", "national"),
    [
        ("0800 1234567", NumberKind.FREEPHONE, "+318001234567", "08001234567"),
        ("0900-1234567", NumberKind.PREMIUM_0900, "+319001234567", "09001234567"),
        ("0906 1234", NumberKind.PREMIUM_0906, "+319061234", "09061234"),
        ("0909 1234567", NumberKind.PREMIUM_0909, "+319091234567", "09091234567"),
        ("088 123 4567", NumberKind.COMPANY, "+31881234567", "0881234567"),
        ("020 123 4567", NumberKind.LOCAL, "+31201234567", "0201234567"),
        ("116123", NumberKind.SHORT_116, "+31116123", "116123"),
        ("14020", NumberKind.SHORT_14, "+3114020", "14020"),
        ("1888", NumberKind.SHORT_18, "+311888", "1888"),
        ("+800 1234 5678", NumberKind.UIFN, "+80012345678", "+80012345678"),
        ("+1 800 555 1234", NumberKind.INTERNATIONAL_FREEPHONE, "+18005551234", "+18005551234"),
    ],
)
def test_service_number_kinds(text: str, kind: NumberKind, e164: str, national: str) -> None:
    parsed = parse_service_number(text)
    assert (parsed.kind, parsed.e164, parsed.national) == (kind, e164, national)


@pytest.mark.parametrize("text", ["06 12345678", "abc", "0800 12", "+44 20 7946 0001", "112"])
def test_not_a_service_number(text: str) -> None:
    with pytest.raises(NumberInvalid):
        parse_service_number(text)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("112", "emergency"),
        ("0906 1234", "0906 and 0909"),
        ("0909 1234567", "0906 and 0909"),
        ("+31 909 1234567", "0906 and 0909"),
        ("0612", "not a valid"),
        ("hello", "not a phone number"),
    ],
)
def test_forbidden_destinations(text: str, message: str) -> None:
    with pytest.raises(NumberInvalid, match=message):
        parse_destination(text)


def test_destinations_dutch_and_foreign() -> None:
    assert parse_destination("06 1234 5678") == "+31612345678"
    assert parse_destination("0900 1234567") == "+319001234567"  # 0900 is allowed
    assert parse_destination("+32 2 555 12 12") == "+3225551212"


def test_mobile_prefixes_come_from_metadata() -> None:
    prefixes = dutch_mobile_prefixes()
    assert "+3161" in prefixes and "+3168" in prefixes
    assert "+3166" not in prefixes  # 066 is pagers, not mobile
    assert not any(p.startswith("+3120") for p in prefixes)
