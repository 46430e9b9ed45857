"""Change one service number of a tenant's plan without sending the whole plan (the API's
``PUT`` / ``DELETE /tenants/{t}/numbers/{n}``).

The plan the tenant last applied (kept with its version for rollback) gets the one entry
replaced, added or taken out, and is applied like any plan: only that entry is parsed, checked
and rendered (domain/digest.py), and the new version is in ``history`` like any other. Which
entry is the number's comes from the stored per-entry digests, so 50,000 entries are not parsed
to find it.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

from orchestrator.domain.digest import plan_delta, tenant_salt
from orchestrator.domain.numbers import parse_service_number
from orchestrator.errors import NotFound, NumberInvalid, PlanInvalid, Violation
from orchestrator.generate.render import generator_digest
from orchestrator.services.apply import ApplyReport, ApplyTarget, apply_document
from orchestrator.services.apply_guards import OPERATOR_GUARDS, ApplyGuards
from orchestrator.store import tenants as tenant_store
from orchestrator.store import versions as version_store
from orchestrator.store.session import Session


def entry_index(session: Session, document: dict[str, Any], e164: str) -> int | None:
    """Where ``e164``'s entry is in ``document``: by the digests stored at the last apply; entries
    without one (none, normally) are parsed."""
    entries = document.get("numbers") or []
    delta = plan_delta(document, tenant_salt(document, generator_digest()),
                       version_store.number_digests(session, str(document.get("tenant"))))
    if e164 in delta.unchanged:
        return delta.unchanged[e164]
    for i in delta.changed:
        try:
            if parse_service_number(str(entries[i].get("number", ""))).e164 == e164:
                return i
        except (NumberInvalid, AttributeError):
            continue
    return None


def _entry_number(entry: Any) -> str:
    if not isinstance(entry, dict) or not isinstance(entry.get("number"), str):
        raise PlanInvalid([Violation("number", "a service number entry is an object with its 'number'")])
    try:
        return parse_service_number(entry["number"]).e164
    except NumberInvalid as exc:
        raise PlanInvalid([Violation("number", str(exc))]) from exc


async def put_number(session: Session, target: ApplyTarget, tenant: str, e164: str, entry: Any, *,
                     now: datetime, base_dir: Path | None = None,
                     guards: ApplyGuards = OPERATOR_GUARDS) -> tuple[ApplyReport, bool]:
    """Replace (or add) the entry of ``e164``; returns the report and whether it was added. Whether
    the number is the tenant's to use is the apply's check (``guards``)."""
    if _entry_number(entry) != e164:
        raise PlanInvalid([Violation("number", f"the entry is for {entry['number']!r}, the URL for {e164}")])
    document = version_store.applied_document(session, tenant)
    numbers = list(document.get("numbers") or [])
    index = entry_index(session, document, e164)
    added = index is None
    position = len(numbers) if index is None else index
    numbers[position:position + 1] = [entry]
    report = await _apply(session, target, {**document, "numbers": numbers}, position, now, base_dir,
                          f"number {e164} {'added' if added else 'changed'}", guards)
    return report, added


async def delete_number(session: Session, target: ApplyTarget, tenant: str, e164: str, *,
                        now: datetime, guards: ApplyGuards = OPERATOR_GUARDS) -> ApplyReport:
    document = version_store.applied_document(session, tenant)
    index = entry_index(session, document, e164) if tenant_store.number_owner(session, e164) == tenant else None
    if index is None:
        raise NotFound(f"tenant {tenant!r} has no service number {e164}")
    numbers = list(document["numbers"])
    del numbers[index]
    # Removing this one number is what was asked for: no confirmation on top.
    return await _apply(session, target, {**document, "numbers": numbers}, None, now, None, f"number {e164} removed",
                        replace(guards, allow_removal=True))


async def _apply(session: Session, target: ApplyTarget, document: dict[str, Any], position: int | None,
                 now: datetime, base_dir: Path | None, summary: str, guards: ApplyGuards) -> ApplyReport:
    try:
        return await apply_document(document, session, target, now=now, base_dir=base_dir, summary=summary,
                                    guards=guards)
    except PlanInvalid as exc:
        if position is None:
            raise
        # The client sent one entry: name fields from there, not from the whole plan.
        prefix = f"numbers[{position}]"
        raise PlanInvalid([Violation(v.field.removeprefix(prefix).lstrip(".") or "entry", v.rule)
                           if v.field.startswith(prefix) else v for v in exc.violations]) from exc
