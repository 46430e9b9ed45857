"""The caller-ID normaliser: one table, read by the simulator (``normalize``, ``withheld``) and
rendered into the dialplan (lib.conf.j2, context svc-lib, extension caller), so that blocking,
blacklists, regions and recording decide on the same E.164 form in both.

A caller number arrives in many forms: ``+31 20 …``, ``0031…``, ``+0031…``, ``++31…``, ``31…``,
national ``020…``, with a stray trunk zero after the country code (``+31(0)20…``), with spaces,
dashes, dots or commas. The steps, in order:

1. keep the digits only (every ``+`` and every other character goes: a ``+`` adds nothing the
   digits do not already say, and ``++31`` or ``+0031`` are the same number as ``+31``);
2. the first ``PREFIX_RULES`` entry whose prefix starts the digits replaces that prefix;
3. zeros right after a country code of ``stray_zero_codes()`` go (a trunk prefix written in the
   international form: ``+31(0)20…``, ``+44(0)20…``; no number of those countries starts with 0);
4. fewer than ``MIN_DIGITS`` or more than ``MAX_DIGITS`` digits, or a leading ``0`` (no country
   code starts with 0), is no caller number at all: the caller counts as withheld.
   ``SHORT_CALLERS`` are the exceptions (emergency services call from 112).

"Withheld" is decided first by the network: Asterisk's presentation (``CALLERID(num-pres)``,
set from ``Privacy`` when a P-Asserted-Identity is trusted) or a ``Privacy`` header of the
INVITE other than ``none``; then by step 4. See docs/callerid.md.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass
from functools import cache

import phonenumbers as pn


@dataclass(frozen=True)
class PrefixRule:
    prefix: str  # the digits start with this ...
    replace: str  # ... and it becomes this
    why: str


PREFIX_RULES: tuple[PrefixRule, ...] = (
    PrefixRule("00", "", "international access code: 0031…, +0031…"),
    PrefixRule("0", "31", "Dutch trunk prefix: 020…, (+)06…"),
)
# Anything else already starts with a country code: +31…, ++31…, 31….

# E.164 allows 15 digits at most; the shortest numbers in use (from phonenumbers' metadata: a
# country code plus its shortest national number) are MIN_DIGITS long.
MAX_DIGITS = 15
# Short numbers that do call (digits after step 3): emergency services and 113 (suicide
# prevention) call from these. Recording and the blocks must know them, so they are kept.
SHORT_CALLERS: tuple[str, ...] = ("112", "113", "31112", "31113")

# Privacy header values that hide nothing; anything else withholds the number (as Asterisk
# itself does for a P-Asserted-Identity, res_pjsip_caller_id). Compared after lower-casing and
# keeping only the letters, as the dialplan does (FILTER(a..z, TOLOWER(…))).
PRIVACY_SHOWN: tuple[str, ...] = ("", "none")
PRIVACY_LETTERS = string.ascii_lowercase


@cache
def min_digits() -> int:
    """The shortest E.164 number of any country, by phonenumbers' metadata."""
    lengths = []
    for cc, regions in pn.COUNTRY_CODE_TO_REGION_CODE.items():
        for region in regions:
            md = (pn.PhoneMetadata.metadata_for_nongeo_region(cc) if region == pn.REGION_CODE_FOR_NON_GEO_ENTITY
                  else pn.PhoneMetadata.metadata_for_region(region))
            if md is not None and md.general_desc is not None:
                lengths += [len(str(cc)) + n for n in md.general_desc.possible_length if n > 0]
    return min(lengths)


@cache
def stray_zero_codes() -> tuple[str, ...]:
    """Country codes whose every country dials a national trunk prefix 0 that is not part of the
    number (so ``+CC 0…`` is a mistake for ``+CC …``), by phonenumbers' metadata. Italy (0 is
    part of the number) and others without that trunk prefix are not among them."""
    codes = []
    for cc, regions in pn.COUNTRY_CODE_TO_REGION_CODE.items():
        metas = [pn.PhoneMetadata.metadata_for_region(r) for r in regions if r != pn.REGION_CODE_FOR_NON_GEO_ENTITY]
        if metas and all(m is not None and m.national_prefix == "0" and not _may_start_with_zero(m) for m in metas):
            codes.append(str(cc))
    return tuple(sorted(codes))


def _may_start_with_zero(md: pn.PhoneMetadata) -> bool:
    desc = md.general_desc
    pattern = re.compile((desc.national_number_pattern if desc else None) or "")
    return any(pattern.fullmatch("0" + d * k) for d in "126" for k in range(3, 14))


def _digits(raw: str) -> str:
    return "".join(ch for ch in raw if ch in string.digits)


def normalize(raw: str) -> str:
    """A presented caller number in E.164, or "" when it is no usable number (withheld)."""
    d = _digits(raw)
    for rule in PREFIX_RULES:
        if d.startswith(rule.prefix):
            d = rule.replace + d[len(rule.prefix):]
            break
    for n in (1, 2, 3):  # country codes are prefix-free: at most one can match
        if d[:n] in stray_zero_codes():
            while d[n:n + 1] == "0":  # every one, so that a normal form stays as it is
                d = d[:n] + d[n + 1:]
            break
    if d in SHORT_CALLERS:
        return "+" + d
    if not min_digits() <= len(d) <= MAX_DIGITS or d.startswith("0"):
        return ""
    return "+" + d


def privacy_withholds(header: str) -> bool:
    """Whether a Privacy header value asks for the number not to be shown."""
    lowered = header.translate(str.maketrans(string.ascii_uppercase, string.ascii_lowercase))
    return "".join(ch for ch in lowered if ch in PRIVACY_LETTERS) not in PRIVACY_SHOWN


def withheld(raw: str, *, presentation_withheld: bool = False, privacy: str = "") -> bool:
    """The network's presentation first, then the number itself."""
    return presentation_withheld or privacy_withholds(privacy) or normalize(raw) == ""
