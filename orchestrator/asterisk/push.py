"""How generated files reach Asterisk: the one owner of "full reload or context by context".

Incremental dialplan update: push only the changed contexts over AMI, no full reload.

A call flow changes atomically for callers: its blocks live in a version context named after
their digest (generate/render.py), so a change loads a whole new context nobody can reach yet,
then replaces the one priority of the flow's entry context that names the version in force, then
retires the old version: removed once no call is in it (GROUP svcflow counts them), else kept and
retried at the next apply (``Loaded.kept``). A call therefore runs one version from start to end.

A full ``dialplan reload`` grows faster than linearly with the number of contexts (DESIGN.md:
1.4 s at 10,000 numbers), so a change to a few numbers is applied with AMI
``DialplanExtensionAdd`` / ``DialplanExtensionRemove`` instead. The same files are still written,
so a later full reload gives the same dialplan.

AMI takes numeric priorities only, no labels: labels are resolved to their priority numbers, and
Goto/GotoIf targets that name a label of the same extension are rewritten to the number. This
part is pure (text in, AMI actions out); ``load`` runs them and then checks what Asterisk runs
(``dialplan show``), not what the files say. Each changed file is parsed once per apply
(``Parsed``).
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field, replace

from orchestrator.asterisk.ami import Ami
from orchestrator.domain.naming import ENTRY_FILE, FLOW_GROUP, is_flow_context
from orchestrator.errors import ApplyFailed

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
            raise ApplyFailed(f"unexpected dialplan line: {raw!r}")
        kind, rest = m.groups()
        if kind == "exten":
            exten, prio_text, command = rest.split(",", 2)
        else:
            prio_text, command = rest.split(",", 1)
        pm = _PRIORITY.match(prio_text.strip())
        if pm is None:
            raise ApplyFailed(f"unexpected priority in {raw!r}")
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


class Parsed:
    """Parsed texts of one apply, each parsed once however often the planner and the verifier ask."""

    def __init__(self) -> None:
        self._done: dict[int, tuple[str, list[Priority]]] = {}

    def __call__(self, text: str) -> list[Priority]:
        hit = self._done.get(id(text))
        if hit is None or hit[0] is not text:
            hit = (text, parse(text))
            self._done[id(text)] = hit
        return hit[1]


def _by_key(priorities: list[Priority]) -> dict[tuple[str, str, int], Priority]:
    return {(p.context, p.exten, p.number): p for p in priorities}


@dataclass(frozen=True)
class Add:
    """Add (or replace) one priority. ``fresh``: into a context the running dialplan does not
    route to yet (a new number or flow version), so the order of such steps does not matter."""

    context: str
    exten: str
    priority: int
    app: str
    data: str
    fresh: bool = False


@dataclass(frozen=True)
class Remove:
    """Remove one priority, or (``priority`` None) the whole extension."""

    context: str
    exten: str
    priority: int | None = None


@dataclass(frozen=True)
class DropContext:
    context: str


@dataclass(frozen=True)
class Retire:
    """Remove a flow's context once no call is in it (calls may still run an old version)."""

    context: str


Step = Add | Remove | DropContext | Retire


def _leaving(context: str) -> Step:
    return Retire(context) if is_flow_context(context) else DropContext(context)


def actions(old_text: str, new_text: str, parsed: Callable[[str], list[Priority]] = parse) -> list[Step]:
    """The steps turning the contexts of ``old_text`` into those of ``new_text``: a context that
    is gone leaves whole (a flow's old version once its calls are done)."""
    old, new = _by_key(parsed(old_text)), _by_key(parsed(new_text))
    old_contexts, new_contexts = {c for c, _e, _n in old}, {c for c, _e, _n in new}
    out: list[Step] = []
    for key, p in new.items():
        before = old.get(key)
        if before is None or (before.app, before.data) != (p.app, p.data):
            out.append(Add(p.context, p.exten, p.number, p.app, p.data, fresh=p.context not in old_contexts))
    gone_extens = {(c, e) for c, e, _n in old if c in new_contexts} - {(c, e) for c, e, _n in new}
    for context, exten in sorted(gone_extens):
        out.append(Remove(context, exten))
    for context, exten, number in sorted(old.keys() - new.keys()):
        if context in new_contexts and (context, exten) not in gone_extens:
            out.append(Remove(context, exten, number))
    out.extend(_leaving(c) for c in sorted(old_contexts - new_contexts))
    return out


@dataclass(frozen=True)
class Change:
    """What an apply changes in the dialplan: the running text and the new text of each file that
    differs (absent: the file is new, or leaves)."""

    old: Mapping[str, str]
    new: Mapping[str, str]
    names: list[str] = field(default_factory=list)

    @staticmethod
    def between(old: Mapping[str, str], new: Mapping[str, str], names: Collection[str]) -> Change:
        changed = sorted(n for n in names if old.get(n) != new.get(n))
        return Change({n: old[n] for n in changed if n in old}, {n: new[n] for n in changed if n in new}, changed)


def incremental_actions(change: Change, parsed: Callable[[str], list[Priority]]) -> list[Step]:
    """The AMI actions of an incremental push, in a safe order: new contexts (numbers, flow
    versions) first, whole; then changes to contexts calls run through (a flow's entry switching
    to its new version); then the entry that sends calls to new numbers; the entry's removals
    before the contexts it pointed at go; old flow versions are retired last."""
    files = [name for name in change.names if name != ENTRY_FILE]
    pairs = {name: actions(change.old.get(name, ""), change.new.get(name, ""), parsed) for name in change.names}
    adds = [a for name in files for a in pairs[name] if isinstance(a, Add)]
    ordered: list[Step] = [a for a in adds if a.fresh]
    ordered.extend(a for a in adds if not a.fresh)
    ordered.extend(pairs.get(ENTRY_FILE, []))
    ordered.extend(a for name in files for a in pairs[name] if isinstance(a, Remove | DropContext))
    ordered.extend(a for name in files for a in pairs[name] if isinstance(a, Retire))
    return ordered


# --- loading into Asterisk ------------------------------------------------------------------

Progress = Callable[[str], None]
# A full reload takes ~1.4 s at 10,000 numbers and ~15 s at 50,000 on an idle machine
# (docs/apply.md, "Asterisk facts") and grows faster than linearly: the timeout grows with the contexts.
RELOAD_BASE_S = 30.0
RELOAD_PER_CONTEXT_S = 0.004
_SHOW = re.compile(r"^\s*(?:'(?P<exten>[^']*)'\s*=>)?\s*(?:\[(?P<label>[^\]]*)\])?\s*(?P<prio>\d+)\.\s"
                   r"(?P<command>.*?)\s+\[[^\]]*\]\s*$")
_JUMPS = ("Goto", "GotoIf")  # their targets are labels in the file, numbers once pushed over AMI


@dataclass(frozen=True)
class Loaded:
    how: str  # "incremental", "full reload" or "unchanged"
    seconds: float
    verified: int  # contexts whose running priorities were compared with the files
    kept: tuple[str, ...] = ()  # retired flow versions calls are still in (retire them later)


def reload_timeout(contexts: int) -> float:
    return RELOAD_BASE_S + RELOAD_PER_CONTEXT_S * contexts


async def reload_dialplan(ami: Ami, contexts: int = 0) -> float:
    started = time.monotonic()
    out = await ami.dialplan_reload(timeout=reload_timeout(contexts))
    if "Dialplan reloaded" not in out and out.strip():
        raise ApplyFailed(f"dialplan reload answered: {out.strip()[:200]}")
    return time.monotonic() - started


def _running(output: str) -> dict[tuple[str, int], tuple[str, str]]:
    """(extension, priority) -> (application, data) as ``dialplan show <context>`` prints them."""
    out: dict[tuple[str, int], tuple[str, str]] = {}
    exten = ""
    for line in output.splitlines():
        m = _SHOW.match(line)
        if m is None:
            continue
        exten = m.group("exten") if m.group("exten") is not None else exten
        app, _, data = m.group("command").partition("(")
        out[(exten, int(m.group("prio")))] = (app.strip(), data[:-1] if data.endswith(")") else data)
    return out


def _same(expected: Priority, running: tuple[str, str] | None) -> bool:
    if running is None or running[0] != expected.app:
        return False
    return expected.app in _JUMPS or running[1] == expected.data


async def verify(ami: Ami, texts: Mapping[str, str], parsed: Callable[[str], list[Priority]]) -> int:
    """Check Asterisk runs what was written: each context in ``texts`` (context -> the file text
    defining it) has exactly the generated priorities, application and data."""
    for context, text in texts.items():
        out = await ami.dialplan_show(context)
        if f"'{context}'" not in out:
            raise ApplyFailed(f"after loading, Asterisk has no context {context}: {out.strip()[:200]}")
        running = _running(out)
        expected = [p for p in parsed(text) if p.context == context]
        if len(running) != len(expected):
            raise ApplyFailed(f"context {context}: Asterisk runs {len(running)} priorities, the generated "
                              f"file has {len(expected)}")
        for p in expected:
            if not _same(p, running.get((p.exten, p.number))):
                raise ApplyFailed(f"context {context}: Asterisk runs {running.get((p.exten, p.number))} at "
                                  f"{p.exten},{p.number}; the generated file says {p.app}({p.data})")
    return len(texts)


async def _run(ami: Ami, step: Step) -> None:
    match step:
        case Add():
            await ami.extension_add(step.context, step.exten, step.priority, step.app, step.data)
        case Remove():
            await ami.extension_remove(step.context, step.exten, step.priority)
        case DropContext():
            await ami.remove_context(step.context)
        case Retire():
            raise AssertionError("retired contexts go through retire()")


PIPELINE = 64  # fresh priorities sent before waiting for Asterisk's answers (it handles them in order)


def _fresh(step: Step) -> bool:
    return isinstance(step, Add) and step.fresh


async def _run_all(ami: Ami, steps: list[Step]) -> None:
    """Run the steps in order; priorities into fresh contexts are pipelined (nothing routes
    there yet, so their order is free), the rest one at a time."""
    i = 0
    while i < len(steps):
        step = steps[i]
        if _fresh(step):
            batch: list[Step] = []
            while i < len(steps) and len(batch) < PIPELINE and _fresh(steps[i]):
                batch.append(steps[i])
                i += 1
            await asyncio.gather(*(_run(ami, s) for s in batch))
            continue
        await _run(ami, step)
        i += 1


async def retire(ami: Ami, contexts: Collection[str]) -> tuple[str, ...]:
    """Remove the contexts no call is in; return those still in use (retry them later)."""
    kept = []
    for context in sorted(set(contexts)):
        if await ami.group_count(context, FLOW_GROUP) > 0:
            kept.append(context)
        else:
            await ami.remove_context(context, missing_ok=True)
    return tuple(kept)


def contexts_of(files: Mapping[str, str], parsed: Callable[[str], list[Priority]]) -> dict[str, str]:
    """Context -> the text defining it, for every context of ``files``."""
    return {p.context: text for text in files.values() for p in parsed(text)}


async def load(ami: Ami, change: Change, *, full: str | None, checks: Mapping[str, str], contexts: int,
               parsed: Callable[[str], list[Priority]], progress: Progress,
               retiring: Collection[str] = ()) -> Loaded:
    """Load a change into Asterisk: context by context over AMI, or a full reload when ``full``
    gives a reason (the apply's decision). ``checks`` are the contexts a full reload verifies
    (an incremental push verifies every context it touched); ``contexts`` sizes the timeout.
    ``retiring``: old flow versions an earlier push kept for their calls (a full reload removes
    them: it loads only what the files hold)."""
    started = time.monotonic()
    if full is not None:
        progress(f"full reload ({full})")
        seconds = await reload_dialplan(ami, contexts)
        return Loaded("full reload", seconds, await verify(ami, checks, parsed))
    steps = incremental_actions(change, parsed)
    loaded = contexts_of(change.new, parsed)
    await _run_all(ami, [s for s in steps if not isinstance(s, Retire)])
    seconds = time.monotonic() - started
    # A context loaded again (a flow changed back to an earlier version) is in use, not retiring.
    kept = await retire(ami, ({s.context for s in steps if isinstance(s, Retire)} | set(retiring)) - loaded.keys())
    if not change.names:
        return Loaded("unchanged", 0.0, 0, kept)
    checked = await verify(ami, loaded, parsed)
    progress(f"pushed {len(change.names)} changed files ({len(steps)} AMI actions) without a full reload"
             + (f"; {len(kept)} earlier flow versions stay for the calls still in them" if kept else ""))
    return Loaded("incremental", seconds, checked, kept)
