"""Names Asterisk knows our objects by: contexts, AstDB families, queues and generated files.

The compiler, the renderer, the templates (as the Jinja global ``names``) and the services that
talk to Asterisk spell them from here, so a name changes in one place. Pure.
"""

from __future__ import annotations

import hashlib

# --- contexts -------------------------------------------------------------------------------
ENTRY_CONTEXT = "svc-entry"  # the carrier's calls arrive here
LIB_CONTEXT = "svc-lib"
# A call flow's contexts: ``fl-<tenant>-<flow>`` (what numbers jump into; one priority switching to
# the version in force) and one ``fl-<tenant>-<flow>.<digest>`` per version of its blocks.
FLOW_CONTEXT_PREFIX = "fl-"
FLOW_GROUP = "svcflow"  # GROUP() category: the flow version (context) each call is in


def is_flow_context(context: str) -> bool:
    return context.startswith(FLOW_CONTEXT_PREFIX)


def number_context(digits: str) -> str:
    """A service number's own context (digits of its E.164 form)."""
    return f"svc-{digits}"


def queue_context(tenant: str) -> str:
    return f"svcq-{tenant}"


def hunt_context(tenant: str) -> str:
    return f"svch-{tenant}"


def agent_context(tenant: str) -> str:
    return f"svca-{tenant}"


def phone_context(tenant: str) -> str:
    """Where calls from the tenant's agent phones go: only the agent state codes."""
    return f"svce-{tenant}"


# --- AstDB families -------------------------------------------------------------------------
AGENT_FAMILY = "svc-agent"  # svc-agent/<tenant>/<agent> = available | logged-out | unavailable:<reason>


def blacklist_family(e164: str) -> str:
    """svc-bl/<digits>/<caller E.164> = BLACKLISTED: the caller is refused on that number."""
    return f"svc-bl/{e164.lstrip('+')}"


BLACKLISTED = "1"  # the value (lib.conf.j2's svc-activeblock writes the same)


def night_family(tenant: str) -> str:
    return f"svc-night/{tenant}"


# A percentage split's state: one ticket counter, key SPLIT_TICKET_KEY of its family. The family
# name carries a tag of the percentages, so changing them starts a fresh counter.
SPLIT_TICKET_KEY = "t"
SPLIT_GROUP_PREFIX = "svcsplit-"  # GROUP() category of a split's tickets; other categories: svc, svcflow


def split_family(*parts: str) -> str:
    """``svc-split/<digits>/<node>-<tag>`` (a number's split) or
    ``svc-split/flow/<tenant>/<flow>/<block>-<tag>`` (a flow's split block, shared by its numbers)."""
    return "/".join(("svc-split", *parts))


def split_group(family: str) -> str:
    """The GROUP() category (and LOCK() name) of a split's tickets: short and made of [a-z0-9-]
    whatever the family (Asterisk cuts a category at 79 characters and splits group@category at
    the first '@'); distinct from the per-number limit's ``svc`` and the flows' ``svcflow``.
    Decimal digits only after the prefix: the lint cache (generate/lint.py) blanks digits, so
    numbers and flows that differ only in their split's family keep one shape and one lint."""
    return f"{SPLIT_GROUP_PREFIX}{int(hashlib.sha1(family.encode()).hexdigest()[:15], 16):019d}"


# --- queues and endpoints -------------------------------------------------------------------
def asterisk_queue_name(tenant: str, queue: str, skill: str | None = None) -> str:
    return f"{tenant}.{queue}" + (f".{skill}" if skill else "")


def agent_endpoint(tenant: str, endpoint: str) -> str:
    """The PJSIP name of an agent's phone. Neither part can hold a dot, so the name parses back
    and two tenants (or a tenant and the carrier trunk) never share one."""
    return f"{tenant}.{endpoint}"


# --- generated files ------------------------------------------------------------------------
ENTRY_FILE = "entry.conf"
LIB_FILE = "lib.conf"
HOLIDAYS_FILE = "holidays.conf"
RECORDING_FILE = "recording.conf"
AGENT_CODES_FILE = "agentcodes.conf"
# Not dialplan: written into the same versioned folder, but included by queues.conf,
# musiconhold.conf and pjsip.conf (extensions.conf includes svc/*.conf, hence the other extension).
QUEUES_FILE = "queues.inc"
MOH_FILE = "moh.inc"
PJSIP_FILE = "pjsip.inc"  # the agent phones


def number_file_name(e164: str) -> str:
    return f"n-{e164.lstrip('+')}.conf"


def call_centre_file(tenant: str) -> str:
    return f"cc-{tenant}.conf"
