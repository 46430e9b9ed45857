"""Which numbers of a plan document changed since the last apply. Pure.

Parsing, checking and compiling 10,000 numbers takes seconds (phonenumbers and pydantic), so an
apply that changes one number should not redo it for the other 9,999. Each number entry of the
document gets a digest: the canonical JSON of the entry, salted with the tenant-level part of the
document (announcements, test number, ...) and the generator's own digest (templates and compiler
source). An entry whose digest was stored at the last apply compiles to the same dialplan as
then, so it is neither parsed, checked nor rendered again.

A digest that differs for an unchanged number (say the entry was written as ``0800 123 4567``
last time and ``+318001234567`` now) only costs speed: the number is compiled again, its file
comes out the same and is left alone.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson

_CANONICAL = orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS


def canonical(value: Any) -> bytes:
    """Stable JSON: sorted keys, no whitespace; decimals (and anything else odd) as their text.
    orjson: 10,000 entries in ~20 ms, where the json module takes ~150 ms."""
    return orjson.dumps(value, option=_CANONICAL, default=str)


def as_stored(document: Any) -> str:
    """A plan document as history keeps it: JSON in the document's own order. Not ``canonical``:
    the order of a flow's regions and a number's steps decides which matches first, so a rollback
    must get them back as they were."""
    return orjson.dumps(document, option=orjson.OPT_NON_STR_KEYS, default=str).decode()


CALL_CENTRE_KEYS = ("agents", "queues", "hunt_groups")
FLOW_KEYS = ("flows", "layout")


def call_centre_signature(document: Mapping[str, Any]) -> Any:
    """What a number's dialplan and checks take from the call centre: the names of the queues
    (with the skills their agents have) and of the hunt groups. Numbers only jump into
    ``svcq-<tenant>,<queue>,1(<skill>)``; agents, strategies, limits and schedules live in the
    call-centre file. A part that is not shaped as expected is taken whole (parsing reports it)."""
    agents, queues, hunts = (document.get(k) or {} for k in CALL_CENTRE_KEYS)
    if not (isinstance(agents, dict) and isinstance(queues, dict) and isinstance(hunts, dict)):
        return {k: document.get(k) for k in CALL_CENTRE_KEYS}
    skills: dict[str, Any] = {}
    for name, queue in queues.items():
        members = queue.get("agents") if isinstance(queue, dict) else None
        if not isinstance(members, list) or not all(isinstance(a, str) for a in members):
            return {k: document.get(k) for k in CALL_CENTRE_KEYS}
        have: set[str] = set()
        for a in members:
            agent = agents.get(a)
            agent_skills = agent.get("skills") if isinstance(agent, dict) else None
            if isinstance(agent_skills, dict):
                have.update(str(k) for k in agent_skills)
            elif agent is None or agent_skills is not None:
                have.add(f"\0{a}")  # unknown agent or odd skills: the signature must move with it
        skills[str(name)] = sorted(have)
    return {"queues": skills, "hunt_groups": sorted(str(h) for h in hunts)}


def tenant_salt(document: Mapping[str, Any], generator: str, extra: str = "") -> str:
    """Digest of everything in the document but its numbers and the call centre's inside, plus
    what generates the dialplan. ``extra`` carries what the document only names (e.g. the state
    of announcement files)."""
    rest = {k: v for k, v in document.items()
            if k != "numbers" and k not in CALL_CENTRE_KEYS and k not in FLOW_KEYS}
    rest["call_centre"] = call_centre_signature(document)
    # A number's dialplan names its flow's context only: the flows' inside is rendered into the
    # flows' own files (apply renders those every time), and the builder layout is no routing.
    flows = document.get("flows")
    rest["flow_names"] = sorted(flows) if isinstance(flows, dict) else flows
    return hashlib.sha256(f"{generator}\0{extra}\0".encode() + canonical(rest)).hexdigest()


def entry_digest(salt: str, entry: Any) -> str:
    return hashlib.sha256(salt.encode() + b"\0" + canonical(entry)).hexdigest()


def numbers_digest(salt: str, document: Mapping[str, Any]) -> str:
    """One digest of the whole list of number entries (one orjson call for 10,000 entries): the
    same list under the same salt means every entry is as stored (``same_numbers``)."""
    return hashlib.sha256(salt.encode() + b"\0" + canonical(document.get("numbers"))).hexdigest()


@dataclass(frozen=True)
class PlanDelta:
    """How a document relates to what was stored at the last apply."""

    changed: list[int]  # indexes into document["numbers"] to parse, check and compile
    unchanged: dict[str, int]  # E.164 -> index of the entries that stay as stored
    digests: list[str]  # digest of every entry, by index (empty when ``same_numbers`` made it)

    @property
    def total(self) -> int:
        """Entries in the document (a repeated one is among ``changed``)."""
        return len(self.changed) + len(self.unchanged)

    def order(self, changed_numbers: list[str]) -> list[str]:
        """The E.164 of every entry by place, given those of the changed entries (parsed)."""
        out = [""] * self.total
        for e164, i in self.unchanged.items():
            out[i] = e164
        for e164, i in zip(changed_numbers, self.changed, strict=True):
            out[i] = e164
        return out


def same_numbers(order: list[str]) -> PlanDelta:
    """Every entry is as applied last time (``numbers_digest`` matched): ``order`` is the E.164
    of each by place, as that apply stored it. No entry needs a digest."""
    return PlanDelta(changed=[], unchanged={e164: i for i, e164 in enumerate(order)}, digests=[])


def plan_delta(document: Mapping[str, Any], salt: str, stored: Mapping[str, str]) -> PlanDelta:
    """Split the document's numbers into changed and unchanged. ``stored`` maps E.164 to the
    digest stored at the last successful apply of this tenant."""
    entries = document.get("numbers") or []
    if not isinstance(entries, list):
        return PlanDelta(changed=[], unchanged={}, digests=[])  # parsing reports the shape error
    by_digest = {d: e164 for e164, d in stored.items()}
    # entry_digest of each entry, the salted prefix hashed once (10,000 entries: ~10% faster)
    prefix = hashlib.sha256(salt.encode() + b"\0")
    dumps, option = orjson.dumps, _CANONICAL

    def digest(entry: Any) -> str:
        h = prefix.copy()
        h.update(dumps(entry, option=option, default=str))
        return h.hexdigest()

    digests = [digest(e) for e in entries]
    seen = Counter(digests)
    changed: list[int] = []
    unchanged: dict[str, int] = {}
    for i, d in enumerate(digests):
        e164 = by_digest.get(d)
        # A repeated entry is a duplicate number: parse it so the rules report it.
        if e164 is None or seen[d] > 1:
            changed.append(i)
        else:
            unchanged[e164] = i
    return PlanDelta(changed=changed, unchanged=unchanged, digests=digests)
