"""What reports keep of a caller: a keyed hash (for unique and repeat callers) and an origin
(for the origins report). Pure.

The hash is HMAC-SHA256 with a per-tenant key derived from the installation's caller-hash key
(``SVC_CALLER_HASH_KEY``): the same caller gets a different hash at another tenant, and a copy of
the database alone does not give the numbers back (Dutch numbers are few enough to try them all
against a plain hash; not without the key)."""

from __future__ import annotations

import hashlib
import hmac
from functools import lru_cache

import phonenumbers as pn

from orchestrator.domain.numbers import dutch_mobile_prefixes

WITHHELD = "withheld"
MOBILE = "mobile"
DUTCH_OTHER = "NL"  # Dutch but not geographic or mobile (085, 088, 0900 ...)
UNKNOWN = "unknown"  # not a number phonenumbers can place


def tenant_key(master: str, tenant: str) -> bytes:
    """The tenant's hashing key: HMAC of the tenant's name under the installation key."""
    return hmac.new(master.encode(), f"caller-hash:{tenant}".encode(), hashlib.sha256).digest()


def caller_hash(key: bytes, caller: str) -> str:
    """Hex HMAC-SHA256 of the E.164 caller; "" for a withheld caller (never counted as unique)."""
    if not caller:
        return ""
    return hmac.new(key, caller.encode(), hashlib.sha256).hexdigest()


@lru_cache(maxsize=1)
def _mobile() -> tuple[str, ...]:
    return dutch_mobile_prefixes()


@lru_cache(maxsize=65536)
def origin_of(caller: str) -> str:
    """'010' (a Dutch area code), 'mobile', 'NL' (other Dutch), an ISO country ('BE'), 'withheld'."""
    if not caller:
        return WITHHELD
    if caller.startswith("+31"):
        if caller.startswith(_mobile()):
            return MOBILE
        try:
            number = pn.parse(caller, None)
        except pn.NumberParseException:
            return DUTCH_OTHER
        length = pn.length_of_geographical_area_code(number)
        return "0" + caller[3:3 + length] if length else DUTCH_OTHER
    try:
        region = pn.region_code_for_number(pn.parse(caller, None))
    except pn.NumberParseException:
        return UNKNOWN
    return region or UNKNOWN
