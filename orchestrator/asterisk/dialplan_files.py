"""Generated dialplan on disk: one folder per version, switched atomically.

``<etc>/svc`` is a symlink to ``<etc>/svc-versions/<version>``. A new version is written into a
temporary folder, synced, renamed into place, and the symlink replaced with ``os.replace`` --
Asterisk, reading ``svc/*.conf`` at reload, sees either the whole old or the whole new set.
Rolling back is pointing the symlink back.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from orchestrator.errors import AsteriskError

KEEP_VERSIONS = 20


@dataclass(frozen=True)
class WrittenVersion:
    name: str
    path: Path
    previous: Path | None  # what the symlink pointed at before, for rollback
    files: int


class DialplanFiles:
    def __init__(self, etc_dir: Path) -> None:
        self.etc_dir = etc_dir
        self.link = etc_dir / "svc"
        self.versions = etc_dir / "svc-versions"

    def current(self) -> Path | None:
        if self.link.is_symlink():
            return self.link.resolve()
        return None

    def read_current(self, names: tuple[str, ...] | None = None) -> dict[str, str]:
        """The active version's dialplan files (``*.conf``), or the named other files in it."""
        cur = self.current()
        if cur is None:
            return {}
        paths = sorted(cur.glob("*.conf")) if names is None else [cur / n for n in names if (cur / n).exists()]
        return {p.name: p.read_text() for p in paths}

    def write(self, files: dict[str, str], unchanged_files: dict[str, str] | None = None) -> WrittenVersion:
        """Write a complete new version and make it the active one. Files whose text equals
        ``unchanged_files`` (what the current version holds) are hard-linked, not rewritten."""
        try:
            self.versions.mkdir(parents=True, exist_ok=True)
            self._adopt_plain_folder()
            digest = hashlib.sha256()
            for name in sorted(files):
                digest.update(name.encode() + b"\0" + files[name].encode() + b"\0")
            name = f"{time.strftime('%Y%m%dT%H%M%S')}-{digest.hexdigest()[:10]}"
            final = self.versions / name
            if final.exists():  # same content within the same second: reuse it
                return self._switch(final, len(files))
            tmp = self.versions / f".{name}.tmp"
            shutil.rmtree(tmp, ignore_errors=True)
            tmp.mkdir()
            current = self.current()
            unchanged = unchanged_files or {}
            for fname, text in files.items():
                if current is not None and unchanged.get(fname) == text:
                    os.link(current / fname, tmp / fname)  # a large deployment rewrites only what changed
                    continue
                with open(tmp / fname, "w") as fh:
                    fh.write(text)
                    fh.flush()
                    os.fsync(fh.fileno())
            os.replace(tmp, final)
            return self._switch(final, len(files))
        except OSError as exc:
            raise AsteriskError(f"cannot write the dialplan files under {self.etc_dir}: {exc}") from exc

    def _switch(self, target: Path, count: int) -> WrittenVersion:
        previous = self.current()
        self.point_to(target)
        return WrittenVersion(target.name, target, previous, count)

    def point_to(self, target: Path) -> None:
        tmp_link = self.etc_dir / ".svc.new"
        if tmp_link.is_symlink() or tmp_link.exists():
            tmp_link.unlink()
        os.symlink(os.path.relpath(target, self.etc_dir), tmp_link)
        os.replace(tmp_link, self.link)

    def _adopt_plain_folder(self) -> None:
        """First run: the runtime created a plain (empty) ``svc`` folder; keep it as a version."""
        if self.link.is_dir() and not self.link.is_symlink():
            initial = self.versions / "00000000T000000-initial"
            if initial.exists():
                shutil.rmtree(initial)
            os.replace(self.link, initial)
            self.point_to(initial)

    def prune(self, keep: int = KEEP_VERSIONS) -> None:
        current = self.current()
        versions = sorted(p for p in self.versions.iterdir() if p.is_dir() and not p.name.startswith("."))
        for old in versions[:-keep]:
            if old != current:
                shutil.rmtree(old, ignore_errors=True)
