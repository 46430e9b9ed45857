"""Lint generated dialplan with asterisklint before Asterisk sees it.

Asterisk's own ``dialplan reload`` accepts almost anything (an unknown application, a broken
expression, a Goto to nowhere surface only when a call hits them), so apply runs asterisklint
over the files it is about to write, next to the shared library they call into. A finding stops
the apply before anything is written or loaded.
"""

from __future__ import annotations

import hashlib
import logging
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from orchestrator.domain.flow_ir import VERSION_DIGITS
from orchestrator.domain.naming import ENTRY_FILE
from orchestrator.errors import DialplanLintFailed
from orchestrator.generate.files import is_number_file

log = logging.getLogger(__name__)

ENTRY = "[general]\n[globals]\n"
_CONTEXT = re.compile(r"^\[([^\]]+)\]", re.M)
_DIGITS = re.compile(r"[0-9]+")
_VERSION = re.compile(rf"(?<=[a-z0-9_-])\.[0-9a-f]{{{VERSION_DIGITS}}}\b")  # fl-<tenant>-<flow>.<digest>
_GOTO = re.compile(r"Goto\((svc-[0-9]+),s,1\)")


def linter() -> str:
    here = Path(sys.executable).with_name("asterisklint")
    found = str(here) if here.exists() else shutil.which("asterisklint")
    if found is None:
        raise DialplanLintFailed("asterisklint is not installed (pip package asterisklint-jjs)")
    return found


def _stubs(files: dict[str, str]) -> str:
    """Contexts the entry jumps to that are not among ``files``: numbers unchanged by this apply,
    linted when they were written. Stubbed, so the entry's Gotos to them are not findings."""
    entry = files.get(ENTRY_FILE, "")
    defined = {m.group(1) for text in files.values() for m in _CONTEXT.finditer(text)}
    targets = sorted({m.group(1) for m in _GOTO.finditer(entry)} - defined)
    return "".join(f"[{c}]\nexten => s,1,NoOp(unchanged)\n" for c in targets)


def representatives(files: dict[str, str]) -> dict[str, str]:
    """One number file per shape, and one entry line per shape. asterisklint takes ~8 ms per
    number file (80 s for 10,000); numbers from the same templates that differ only in their
    digits (numbers, ring times, dates) cannot differ in what it checks: applications, syntax,
    labels, jumps into the shared library."""
    out: dict[str, str] = {}
    shapes: set[str] = set()
    for name in sorted(files):
        text = files[name]
        if is_number_file(name):
            shape = _DIGITS.sub("0", text)
            if shape in shapes:
                continue
            shapes.add(shape)
        elif name == ENTRY_FILE:
            seen: set[str] = set()
            lines = []
            for line in text.splitlines(keepends=True):
                key = _DIGITS.sub("0", line)
                if key not in seen or not line.startswith("exten"):
                    seen.add(key)
                    lines.append(line)
            text = "".join(lines)
        out[name] = text
    return out


def _blank(text: str) -> str:
    return _DIGITS.sub("0", _VERSION.sub(".v", text))


def shape_key(files: dict[str, str]) -> str:
    """What a lint result depends on: the files with their digits (and the digests naming flow
    versions, which the renderer writes consistently) blanked out."""
    h = hashlib.sha256()
    for name, text in sorted((_blank(n), _blank(t)) for n, t in files.items()):
        h.update(name.encode() + b"\0" + text.encode() + b"\0")
    return h.hexdigest()


class LintCache:
    """Shapes asterisklint found clean before (a few hundred hex lines in one file): changing a
    ring time or a destination does not change the shape, and costs no lint run."""

    KEEP = 500

    def __init__(self, path: Path) -> None:
        self.path = path

    def known(self) -> list[str]:
        try:
            return self.path.read_text().split()
        except FileNotFoundError:
            return []

    def add(self, key: str) -> None:
        keys = [k for k in self.known() if k != key][-(self.KEEP - 1):] + [key]
        tmp = self.path.with_name(f".{self.path.name}.tmp")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp.write_text("\n".join(keys) + "\n")
            tmp.replace(self.path)
        except OSError as exc:  # only a speed-up is lost: the next apply lints again
            log.warning("cannot remember the clean lint in %s: %s", self.path, exc)


def lint_dialplan(files: dict[str, str], cache: LintCache | None = None, timeout: float = 120.0) -> None:
    """Raise DialplanLintFailed with asterisklint's findings for ``files`` (name -> text)."""
    if not files:
        return
    files = representatives(files)
    key = shape_key(files)
    if cache is not None and key in cache.known():
        return
    _run(files, timeout)
    if cache is not None:
        cache.add(key)


def _run(files: dict[str, str], timeout: float) -> None:
    stubs = _stubs(files)
    if stubs:
        files = files | {"~unchanged.conf": stubs}
    with tempfile.TemporaryDirectory(prefix="svc-lint-") as tmp:
        root = Path(tmp)
        (root / "svc").mkdir()
        for name, text in files.items():
            (root / "svc" / name).write_text(text)
        includes = "".join(f'#include "svc/{name}"\n' for name in sorted(files))
        (root / "extensions.conf").write_text(ENTRY + includes)
        proc = subprocess.run([linter(), "dialplan-check", "--asterisk-version", "22", "extensions.conf"],
                              cwd=root, capture_output=True, text=True, timeout=timeout)
    findings = (proc.stdout + proc.stderr).strip()
    if proc.returncode != 0 or findings:
        raise DialplanLintFailed("asterisklint found problems in the generated dialplan:\n"
                                 + findings.replace(str(root), "")[:4000])
