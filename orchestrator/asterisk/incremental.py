"""Incremental dialplan update: push only the changed contexts over AMI, no full reload.

A full ``dialplan reload`` grows faster than linearly with the number of contexts (docs/asterisk.md:
1.4 s at 10,000 numbers), so a change to a few numbers is applied with AMI
``DialplanExtensionAdd`` / ``DialplanExtensionRemove`` instead. The same files are still written,
so a later full reload gives the same dialplan.

AMI takes numeric priorities only, no labels: labels are resolved to their priority numbers, and
Goto/GotoIf targets that name a label of the same extension are rewritten to the number. This
module is pure: text in, AMI actions out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any

SHARED_FILES = ("lib.conf", "holidays.conf", "recording.conf")  # a change here needs a full reload
MAX_INCREMENTAL_FILES = 200  # past this, one full reload is quicker than many AMI actions
_LINE = re.compile(r"^\s*(exten|same)\s*=>\s*(.*)$")
_PRIORITY = re.compile(r"^(\d+|n)(?:\((\w+)\))?$")


@dataclass(frozen=True)
class Priority:
    context: str
    exten: str
    number: int
    label: str | None
    app: str
    data: str


class NeedsFullReload(Exception):
    """The change cannot be pushed context by context; reload everything instead."""


def parse(text: str) -> list[Priority]:
    """Priorities of our generated dialplan (``exten => x,1,App(...)`` and ``same => n(label),...``)."""
    out: list[Priority] = []
    context = exten = ""
    last = 0
    for raw in text.splitlines():
        line = raw.split(";", 1)[0] if not raw.lstrip().startswith(("exten", "same")) else raw
        stripped = line.strip()
        if not stripped or stripped.startswith(";"):
            continue
        if stripped.startswith("[") and stripped.endswith("]"):
            context = stripped[1:-1]
            continue
        m = _LINE.match(line)
        if m is None:
            raise NeedsFullReload(f"unexpected dialplan line: {raw!r}")
        kind, rest = m.groups()
        if kind == "exten":
            exten, prio_text, command = rest.split(",", 2)
        else:
            prio_text, command = rest.split(",", 1)
        pm = _PRIORITY.match(prio_text.strip())
        if pm is None:
            raise NeedsFullReload(f"unexpected priority in {raw!r}")
        number = int(pm.group(1)) if pm.group(1) != "n" else last + 1
        app, _, data = command.partition("(")
        out.append(Priority(context, exten.strip(), number, pm.group(2), app.strip(), data[:-1] if data else ""))
        last = number
    return _resolve_labels(out)


def _resolve_labels(priorities: list[Priority]) -> list[Priority]:
    labels = {(p.context, p.exten, p.label): p.number for p in priorities if p.label}

    def target(p: Priority, t: str) -> str:
        number = labels.get((p.context, p.exten, t.strip()))
        return str(number) if number is not None and "," not in t else t

    out = []
    for p in priorities:
        data = p.data
        if p.app == "GotoIf":
            cond, sep, targets = data.rpartition("?")
            if sep:
                data = cond + "?" + ":".join(target(p, t) for t in targets.split(":"))
        elif p.app == "Goto":
            data = target(p, data)
        out.append(replace(p, data=data))
    return out


def _by_key(priorities: list[Priority]) -> dict[tuple[str, str, int], Priority]:
    return {(p.context, p.exten, p.number): p for p in priorities}


def actions(old_text: str, new_text: str) -> list[dict[str, Any]]:
    """AMI actions turning the contexts of ``old_text`` into those of ``new_text``."""
    old, new = _by_key(parse(old_text)), _by_key(parse(new_text))
    out: list[dict[str, Any]] = []
    for key, p in new.items():
        before = old.get(key)
        if before is None or (before.app, before.data) != (p.app, p.data):
            out.append({"Action": "DialplanExtensionAdd", "Context": p.context, "Extension": p.exten,
                        "Priority": str(p.number), "Application": p.app, "ApplicationData": p.data,
                        "Replace": "yes"})
    gone_extens = {(c, e) for c, e, _n in old} - {(c, e) for c, e, _n in new}
    for context, exten in sorted(gone_extens):
        out.append({"Action": "DialplanExtensionRemove", "Context": context, "Extension": exten})
    for context, exten, number in sorted(old.keys() - new.keys()):
        if (context, exten) not in gone_extens:
            out.append({"Action": "DialplanExtensionRemove", "Context": context, "Extension": exten,
                        "Priority": str(number)})
    return out


@dataclass(frozen=True)
class IncrementalPlan:
    actions: list[dict[str, Any]]
    changed_files: list[str]
    contexts: list[str]  # to verify afterwards


def plan_update(old_files: dict[str, str], new_files: dict[str, str]) -> IncrementalPlan:
    """What to push for going from the running files to the new ones; raises NeedsFullReload."""
    if not old_files:
        raise NeedsFullReload("nothing loaded yet")
    changed = sorted(name for name in new_files.keys() | old_files.keys()
                     if old_files.get(name) != new_files.get(name))
    if any(name in SHARED_FILES for name in changed):
        raise NeedsFullReload("the shared library or holidays changed")
    if len(changed) > MAX_INCREMENTAL_FILES:
        raise NeedsFullReload(f"{len(changed)} files changed")
    # New and changed numbers first, then the entry that sends calls to them; the entry's
    # removals before the contexts they pointed at.
    numbers = [name for name in changed if name != "entry.conf"]
    ordered: list[dict[str, Any]] = []
    for name in numbers:
        ordered.extend(a for a in actions(old_files.get(name, ""), new_files.get(name, ""))
                       if a["Action"] == "DialplanExtensionAdd")
    if "entry.conf" in changed:
        ordered.extend(actions(old_files.get("entry.conf", ""), new_files.get("entry.conf", "")))
    for name in numbers:
        if name not in new_files:  # a number that left: its context goes as a whole
            ordered.extend({"Action": "Command", "Command": f"dialplan remove context {context}"}
                           for context in sorted({p.context for p in parse(old_files[name])}))
            continue
        ordered.extend(a for a in actions(old_files.get(name, ""), new_files.get(name, ""))
                       if a["Action"] == "DialplanExtensionRemove")
    contexts = sorted({p.context for name in changed if name in new_files for p in parse(new_files[name])})
    return IncrementalPlan(ordered, changed, contexts)
