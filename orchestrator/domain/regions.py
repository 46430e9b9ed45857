"""Origin regions: where a caller is, as E.164 prefixes, from phonenumbers' data.

A region is written as a Dutch area code ("010", "0118"), "mobile" (Dutch mobile networks), a
country (ISO code "BE", "DE"), or "foreign" (any caller outside the Netherlands).
"""

from __future__ import annotations

import functools

import phonenumbers as pn

from orchestrator.domain.numbers import dutch_mobile_prefixes
from orchestrator.errors import NumberInvalid

FOREIGN = "foreign"
MOBILE = "mobile"


@functools.lru_cache(maxsize=1024)  # phonenumbers takes ~0.4 ms a code; a plan names the same few often
def _area_code_prefix(code: str) -> str:
    """'010' → '+3110', if 010 really is a Dutch geographic area code."""
    digits = code[1:]
    sample = pn.parse(f"+31{digits}{'1234567'[: 9 - len(digits)]}", None)
    length = pn.length_of_geographical_area_code(sample)
    if not pn.is_valid_number(sample) or length != len(digits):
        raise NumberInvalid(f"{code!r} is not a Dutch area code")
    return f"+31{digits}"


def region_prefixes(spec: str) -> tuple[str, ...]:
    """The E.164 prefixes a region spec stands for; ('!+31',) means 'not Dutch'."""
    s = spec.strip()
    if s.lower() == MOBILE:
        return dutch_mobile_prefixes()
    if s.lower() == FOREIGN:
        return ("!+31",)
    if s.isdigit() and s.startswith("0") and 3 <= len(s) <= 4:
        return (_area_code_prefix(s),)
    if len(s) == 2 and s.isalpha():
        cc = pn.country_code_for_region(s.upper())
        if cc == 0:
            raise NumberInvalid(f"{spec!r} is not a country code (ISO 3166, e.g. BE, DE)")
        if cc == 31:
            raise NumberInvalid("'NL' is not a region; use area codes or 'mobile'")
        return (f"+{cc}",)
    raise NumberInvalid(f"{spec!r} is not a region: use an area code (010), 'mobile', a country (BE) or 'foreign'")


def matches(caller: str, prefixes: tuple[str, ...]) -> bool:
    """Pure match used by the simulator; the dialplan does the same with substring compares."""
    if not caller:
        return False
    for p in prefixes:
        if p.startswith("!"):
            if not caller.startswith(p[1:]):
                return True
        elif caller.startswith(p):
            return True
    return False
