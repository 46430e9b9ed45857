"""Phone numbers: parsing, the kind of a service number, and which destinations are allowed.

All classification comes from ``phonenumbers`` (Google's libphonenumber metadata), never from a
hand-typed table, so it follows the numbering plan when the package is updated.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from functools import cache, lru_cache

import phonenumbers as pn
from phonenumbers import PhoneNumberType, shortnumberinfo

from orchestrator.domain import callerid
from orchestrator.errors import NumberInvalid

NL = "NL"


class NumberKind(StrEnum):
    FREEPHONE = "0800"
    PREMIUM_0900 = "0900"
    PREMIUM_0906 = "0906"
    PREMIUM_0909 = "0909"
    COMPANY = "088"
    LOCAL = "local"
    SHORT_116 = "116"
    SHORT_14 = "14"
    SHORT_18 = "18"
    INTERNATIONAL_FREEPHONE = "international-freephone"
    UIFN = "uifn"

    @property
    def is_premium_rate(self) -> bool:
        return self in (NumberKind.PREMIUM_0900, NumberKind.PREMIUM_0906, NumberKind.PREMIUM_0909)


@dataclass(frozen=True)
class ServiceNumberId:
    """A service number in its two forms. ``national`` is what a Dutch caller dials."""

    e164: str
    national: str
    kind: NumberKind

    @property
    def digits(self) -> str:
        """E.164 without the '+': safe in Asterisk context names."""
        return self.e164.lstrip("+")


def _parse(text: str) -> pn.PhoneNumber:
    cleaned = text.strip()
    if not cleaned or len(cleaned) > 32:
        raise NumberInvalid(f"{text!r} is not a phone number")
    try:
        return pn.parse(cleaned, NL)
    except pn.NumberParseException as exc:
        raise NumberInvalid(f"{text!r} is not a phone number ({exc})") from exc


def _national_digits(num: pn.PhoneNumber) -> str:
    return str(num.national_number)


# Both parsers are pure functions of the text and cost ~0.1 ms each in phonenumbers; one apply parses
# the same numbers several times (plan, rules, store, reload from the store), and destinations repeat
# across numbers. Bounded caches (a few MB); errors are not cached, so bad input raises every time.
PARSE_CACHE = 1 << 16


@lru_cache(maxsize=PARSE_CACHE)
def parse_service_number(text: str) -> ServiceNumberId:
    """Parse a number that callers dial to reach us, and tell its kind."""
    num = _parse(text)
    nsn = _national_digits(num)
    if num.country_code == 800:
        if not pn.is_valid_number(num):
            raise NumberInvalid(f"{text!r} is not a valid UIFN (+800 and 8 digits)")
        e164 = pn.format_number(num, pn.PhoneNumberFormat.E164)
        return ServiceNumberId(e164, e164, NumberKind.UIFN)
    if num.country_code != 31:
        if pn.is_valid_number(num) and pn.number_type(num) == PhoneNumberType.TOLL_FREE:
            e164 = pn.format_number(num, pn.PhoneNumberFormat.E164)
            return ServiceNumberId(e164, e164, NumberKind.INTERNATIONAL_FREEPHONE)
        raise NumberInvalid(
            f"{text!r}: a foreign service number must be a toll-free number of its country"
        )
    short = shortnumberinfo.is_valid_short_number_for_region(num, NL)
    if short or (nsn.startswith("14") and pn.is_valid_number(num)):
        if nsn.startswith("116"):
            kind = NumberKind.SHORT_116
        elif nsn.startswith("14"):
            kind = NumberKind.SHORT_14
        elif nsn.startswith("18"):
            kind = NumberKind.SHORT_18
        else:
            raise NumberInvalid(f"{text!r}: only 116, 14 and 18 short numbers can be service numbers")
        return ServiceNumberId(f"+31{nsn}", nsn, kind)
    if not pn.is_valid_number(num):
        raise NumberInvalid(f"{text!r} is not a valid Dutch number")
    kinds = {
        "800": NumberKind.FREEPHONE,
        "900": NumberKind.PREMIUM_0900,
        "906": NumberKind.PREMIUM_0906,
        "909": NumberKind.PREMIUM_0909,
        "88": NumberKind.COMPANY,
    }
    found = next((k for prefix, k in kinds.items() if nsn.startswith(prefix)), None)
    if found is not None:
        kind = found
    else:
        if pn.number_type(num) not in (PhoneNumberType.FIXED_LINE, PhoneNumberType.FIXED_LINE_OR_MOBILE):
            raise NumberInvalid(f"{text!r} cannot be a service number (not 0800/090x/088/local/short)")
        kind = NumberKind.LOCAL
    return ServiceNumberId(f"+31{nsn}", f"0{nsn}", kind)


@lru_cache(maxsize=PARSE_CACHE)
def parse_destination(text: str) -> str:
    """Parse a destination number and return it in E.164. 0906, 0909 and 112 are never allowed."""
    if shortnumberinfo.is_emergency_number(text.strip(), NL):
        raise NumberInvalid(f"{text!r}: emergency numbers (112) cannot be a destination")
    num = _parse(text)
    if num.country_code == 31:
        nsn = _national_digits(num)
        if nsn.startswith("906") or nsn.startswith("909"):
            raise NumberInvalid(f"{text!r}: 0906 and 0909 numbers cannot be a destination")
    if not pn.is_valid_number(num):
        raise NumberInvalid(f"{text!r} is not a valid phone number")
    return pn.format_number(num, pn.PhoneNumberFormat.E164)


def parse_caller(text: str) -> str:
    """A caller number as ops type it (blacklists, simulator), in E.164: the form the dialplan
    computes for a call from it (domain/callerid.py), so a blacklist entry matches the call in
    whatever form it is presented.

    Dutch numbers must be valid; foreign ones only of a possible length, because callers come
    from every network in the world and validity data lags behind new ranges abroad.
    """
    if len(text) > 64:
        raise NumberInvalid(f"{text[:20]!r}…: too long for a phone number")
    e164 = callerid.normalize(text)
    if not e164:
        raise NumberInvalid(f"{text!r} is not a phone number (no caller number can be read from it)")
    try:
        num = pn.parse(e164, None)
    except pn.NumberParseException as exc:
        raise NumberInvalid(f"{text!r} is not a phone number ({exc})") from exc
    ok = pn.is_valid_number(num) if num.country_code == 31 else pn.is_possible_number(num)
    if not ok:
        raise NumberInvalid(f"{text!r} is not a possible phone number")
    return e164


@cache
def dutch_mobile_prefixes() -> tuple[str, ...]:
    """E.164 prefixes of Dutch mobile numbers, derived from phonenumbers' metadata.

    Probes every 3-digit start after +31 with a typical-length number; prefixes are then merged
    so the dialplan needs only a handful of comparisons.
    """
    found: list[str] = []
    for head in range(100, 1000):
        for length in (9, 11):
            sample = f"{head}{'0' * (length - 3)}"
            num = pn.parse(f"+31{sample}", None)
            if pn.is_valid_number(num) and pn.number_type(num) == PhoneNumberType.MOBILE:
                found.append(f"+31{head}")
                break
    return _merge_prefixes(found)


def _merge_prefixes(prefixes: list[str]) -> tuple[str, ...]:
    """Replace ten siblings (+3161 … +3169? all present) by their parent, repeatedly."""
    current = set(prefixes)
    changed = True
    while changed:
        changed = False
        parents = {p[:-1] for p in current if len(p) > 4}
        for parent in sorted(parents):
            children = {parent + d for d in "0123456789"}
            if children <= current:
                current -= children
                current.add(parent)
                changed = True
    return tuple(sorted(current))
