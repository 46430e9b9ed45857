"""Generated dialplan on disk: one folder per version, switched atomically.

``<etc>/svc`` is a symlink to ``<etc>/svc-versions/<version>``. A new version is written into a
temporary folder, synced, renamed into place, and the symlink replaced with ``os.replace`` --
Asterisk, reading ``svc/*.conf`` at reload, sees either the whole old or the whole new set.
Rolling back is pointing the symlink back.
"""

from __future__ import annotations

import contextlib
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

    def read_current(self) -> dict[str, str]:
        cur = self.current()
        if cur is None:
            return {}
        return {p.name: p.read_text() for p in sorted(cur.glob("*.conf"))}

    def read(self, names: list[str]) -> dict[str, str]:
        """The current version's text of the given files (those it has)."""
        cur = self.current()
        if cur is None:
            return {}
        out = {}
        for name in names:
            with contextlib.suppress(FileNotFoundError):
                out[name] = (cur / name).read_text()
        return out

    def write_changes(self, changed: dict[str, str], removed: set[str]) -> WrittenVersion:
        """A new version that is the current one with ``changed`` files (re)written and ``removed``
        ones left out; every other file is hard-linked, so the cost follows the change, not the
        size of the deployment."""
        current = self.current()
        if current is None:
            raise AsteriskError("no current dialplan version to change; write a complete one")
        try:
            names = [e.name for e in os.scandir(current) if e.is_file()]
        except OSError as exc:
            raise AsteriskError(f"cannot list {current}: {exc}") from exc
        keep = [n for n in names if n not in changed and n not in removed]
        return self._write(changed, current, keep, len(keep) + len(changed))

    def write(self, files: dict[str, str], unchanged_files: dict[str, str] | None = None) -> WrittenVersion:
        """Write a complete new version and make it the active one. Files whose text equals
        ``unchanged_files`` (what the current version holds) are hard-linked, not rewritten."""
        current = self.current()
        unchanged = unchanged_files or {}
        same = [n for n, text in files.items() if current is not None and unchanged.get(n) == text]
        return self._write({n: t for n, t in files.items() if n not in same}, current, same, len(files))

    def _write(self, texts: dict[str, str], link_from: Path | None, links: list[str], count: int) -> WrittenVersion:
        """The new version: ``texts`` written, ``links`` (names in ``link_from``) hard-linked."""
        try:
            self.versions.mkdir(parents=True, exist_ok=True)
            self._adopt_plain_folder()
            digest = hashlib.sha256()
            for fname in sorted(texts):  # the name says what was written, and when
                digest.update(fname.encode() + b"\0" + texts[fname].encode() + b"\0")
            digest.update("\0".join(sorted(links)).encode())
            name = f"{time.strftime('%Y%m%dT%H%M%S')}-{digest.hexdigest()[:10]}"
            final = self.versions / name
            if final.exists():  # same content within the same second: reuse it
                return self._switch(final, count)
            tmp = self.versions / f".{name}.tmp"
            shutil.rmtree(tmp, ignore_errors=True)
            tmp.mkdir()
            if links:
                assert link_from is not None
                # Directory fds: 10,000 links without building 20,000 paths.
                src_fd, dst_fd = os.open(link_from, os.O_RDONLY), os.open(tmp, os.O_RDONLY)
                try:
                    for fname in links:
                        os.link(fname, fname, src_dir_fd=src_fd, dst_dir_fd=dst_fd)
                finally:
                    os.close(src_fd)
                    os.close(dst_fd)
            for fname, text in texts.items():
                with open(tmp / fname, "w") as fh:
                    fh.write(text)
                    fh.flush()
                    os.fsync(fh.fileno())
            os.replace(tmp, final)
            return self._switch(final, count)
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
