"""Generated dialplan on disk: one folder per version, switched atomically.

``<etc>/svc`` is a symlink to ``<etc>/svc-versions/<version>``. A new version is written into a
temporary folder, synced, renamed into place, and the symlink replaced with ``os.replace`` --
Asterisk, reading ``svc/*.conf`` at reload, sees either the whole old or the whole new set.
Rolling back is pointing the symlink back.

Writing a version (``stage``) and making it the active one (``switch``) are separate steps, so an
apply can switch only once it is about to load the version into Asterisk. The journal
(``<etc>/svc-journal``) is written before the link or Asterisk is touched and removed once the
database committed: a journal left behind marks a crashed apply (docs/apply.md).

Number files (``n-<digits>.conf``) live in 100 buckets by their last two digits. A bucket is a
folder under ``<etc>/svc-buckets`` that never changes once written; a version links to its
buckets (``nb-07 -> ../../svc-buckets/nb-07-<version>``) and ``numbers.conf`` includes them.
Changing one number writes one new bucket (hard links to the bucket's other files, the new
file) and a version of ~100 symlinks: 10,000 numbers cost 100 links, not 10,000.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import functools
import hashlib
import json
import os
import shutil
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from orchestrator.errors import AsteriskError

KEEP_VERSIONS = 20
JOURNAL = "svc-journal"
RETIRING = "svc-retiring"  # old flow versions Asterisk still runs for calls inside them (push.py)
LOCK = "svc-apply.lock"  # one apply at a time per Asterisk (CLI and API processes alike)
NUMBERS_FILE = "numbers.conf"  # includes the buckets; managed here, never part of a file set
TOP = ""  # bucket key of the files at the version's top level


@functools.lru_cache(maxsize=256)
def _has_buckets(version: Path) -> bool:
    # Every version written with buckets has the numbers file; versions are immutable, so ask once.
    return (version / NUMBERS_FILE).exists()


_COUNT_LINE = "; the number buckets of this version (generated): "


def _bucket_files(version: Path) -> int | None:
    """How many number files the version's buckets hold, as its numbers file says (None: an
    older version that does not say, or unreadable)."""
    try:
        with open(version / NUMBERS_FILE) as fh:
            first = fh.readline()
    except OSError:
        return None
    count = first.removeprefix(_COUNT_LINE).split(" ", 1)[0]
    return int(count) if first.startswith(_COUNT_LINE) and count.isdigit() else None


@functools.lru_cache(maxsize=256)
def _bucket_targets(version: Path) -> frozenset[str]:
    """The bucket folders a version links to (versions are immutable: read once per process)."""
    return frozenset(os.path.basename(os.readlink(link.path)) for link in os.scandir(version)
                     if link.name.startswith("nb-") and link.is_symlink())


def bucket_of(name: str) -> str:
    """``nb-67`` for ``n-318001234567.conf``; TOP for every other file."""
    if name.startswith("n-") and name.endswith(".conf") and len(name) > 9:
        return f"nb-{name[-7:-5]}"
    return TOP


@dataclass(frozen=True)
class WrittenVersion:
    name: str
    path: Path
    previous: Path | None  # what the symlink pointed at when it was written, for rollback
    files: int


class DialplanFiles:
    def __init__(self, etc_dir: Path) -> None:
        self.etc_dir = etc_dir
        self.link = etc_dir / "svc"
        self.versions = etc_dir / "svc-versions"
        self.buckets = etc_dir / "svc-buckets"

    def current(self) -> Path | None:
        if self.link.is_symlink():
            return self.link.resolve()
        return None

    @staticmethod
    def locate(version: Path, name: str) -> Path:
        """Where file ``name`` of a version is (flat in versions written before the buckets)."""
        bucket = bucket_of(name)
        return version / bucket / name if bucket and _has_buckets(version) else version / name

    def read_current(self, names: tuple[str, ...] | None = None) -> dict[str, str]:
        """The active version's dialplan files (``*.conf``), or only the named files."""
        cur = self.current()
        if cur is None:
            return {}
        if names is not None:
            return self.read(list(names))
        return {name: self.locate(cur, name).read_text() for name in sorted(self._list(cur))
                if name.endswith(".conf")}

    def read(self, names: list[str]) -> dict[str, str]:
        """The current version's text of the given files (those it has)."""
        cur = self.current()
        if cur is None:
            return {}
        out = {}
        for name in names:
            with contextlib.suppress(FileNotFoundError, NotADirectoryError):
                out[name] = self.locate(cur, name).read_text()
        return out

    def stage_changes(self, changed: dict[str, str], removed: Collection[str], *,
                      private: Collection[str] = ()) -> WrittenVersion:
        """A new version (not active yet) that is the current one with ``changed`` files
        (re)written and ``removed`` ones left out; every other file is linked, so the cost follows
        the change, not the size of the deployment. ``private`` files are owner-readable only."""
        current = self.current()
        if current is None:
            raise AsteriskError("no current dialplan version to change; write a complete one")
        if _has_buckets(current) and not any(bucket_of(n) for n in (*changed, *removed)):
            # No number file changes (a flow, the entry, a call centre): every bucket is shared as
            # it is, so the numbers' files are neither listed nor counted.
            try:
                top = [e.name for e in os.scandir(current) if e.is_file() and not e.name.startswith("nb-")
                       and e.name != NUMBERS_FILE and e.name not in changed and e.name not in removed]
            except OSError as exc:
                raise AsteriskError(f"cannot list {current}: {exc}") from exc
            return self._write(changed, current, top, private, shared_buckets=True)
        keep = [n for n in self._list(current) if n not in changed and n not in removed]
        return self._write(changed, current, keep, private)

    def stage(self, files: dict[str, str], unchanged_files: dict[str, str] | None = None, *,
              private: Collection[str] = ()) -> WrittenVersion:
        """A complete new version (not active yet). Files whose text equals ``unchanged_files``
        (what the current version holds) are linked, not rewritten."""
        current = self.current()
        unchanged = unchanged_files or {}
        same = [n for n, text in files.items() if current is not None and unchanged.get(n) == text]
        return self._write({n: t for n, t in files.items() if n not in same}, current, same, private)

    def write_changes(self, changed: dict[str, str], removed: Collection[str], *,
                      private: Collection[str] = ()) -> WrittenVersion:
        """``stage_changes`` and make the new version the active one."""
        return self.switch(self.stage_changes(changed, removed, private=private))

    def write(self, files: dict[str, str], unchanged_files: dict[str, str] | None = None, *,
              private: Collection[str] = ()) -> WrittenVersion:
        """``stage`` a complete version and make it the active one."""
        return self.switch(self.stage(files, unchanged_files, private=private))

    def switch(self, version: WrittenVersion) -> WrittenVersion:
        """Make a staged version the active one (atomic: Asterisk sees the old or the new set)."""
        self.point_to(version.path)
        return version

    def _list(self, version: Path) -> list[str]:
        """Every file of a version, bucket files included, by plain name."""
        try:
            out: list[str] = []
            for entry in os.scandir(version):
                if entry.name.startswith("nb-") and entry.is_dir():
                    out.extend(e.name for e in os.scandir(entry.path))
                elif entry.is_file() and entry.name != NUMBERS_FILE:
                    out.append(entry.name)
            return out
        except OSError as exc:
            raise AsteriskError(f"cannot list {version}: {exc}") from exc

    def _write(self, texts: dict[str, str], base: Path | None, keep: list[str],
               private: Collection[str], *, shared_buckets: bool = False) -> WrittenVersion:
        """The new version: ``texts`` written, ``keep`` (names in ``base``) linked from there.
        ``shared_buckets``: ``texts`` and ``keep`` are top-level files only; every bucket of
        ``base`` is linked unchanged."""
        try:
            self.versions.mkdir(parents=True, exist_ok=True)
            self.buckets.mkdir(parents=True, exist_ok=True)
            self._adopt_plain_folder()
            base = self.current() if base is None else base
            if base is not None and keep and not _has_buckets(base):
                # A version from before the buckets (flat): its kept files are written anew, once.
                texts = {**{f: self.locate(base, f).read_text() for f in keep}, **texts}
                keep = []
            shared: dict[str, str] = {}
            if shared_buckets:
                assert base is not None
                shared = {e.name: os.readlink(e.path) for e in os.scandir(base)
                          if e.name.startswith("nb-") and e.is_symlink()}
            digest = hashlib.sha256()
            for fname in sorted(texts):  # the name says what was written, and when
                digest.update(fname.encode() + b"\0" + texts[fname].encode() + b"\0")
            digest.update("\0".join(sorted(keep)).encode())
            digest.update("\0".join(f"{b}>{t}" for b, t in sorted(shared.items())).encode())
            name = f"{time.strftime('%Y%m%dT%H%M%S')}-{digest.hexdigest()[:10]}"
            final = self.versions / name
            in_buckets = None if not shared or base is None else _bucket_files(base)
            if in_buckets is None:
                in_buckets = sum(len(os.listdir(base / b)) for b in shared if base is not None)
            count = len(texts) + len(keep) + in_buckets
            if final.exists():  # same content within the same second: reuse it
                return WrittenVersion(name, final, self.current(), count)
            tmp = self.versions / f".{name}.tmp"
            shutil.rmtree(tmp, ignore_errors=True)
            tmp.mkdir()
            buckets = self._fill_version(tmp, final, name, base, texts, keep, shared, private)
            includes = "".join(f'#include "svc/{b}/*.conf"\n' for b in buckets)
            # The count spares the next change of no number file listing 100 buckets to count them.
            number_files = count - sum(1 for f in (*texts, *keep) if bucket_of(f) == TOP)
            (tmp / NUMBERS_FILE).write_text(f"{_COUNT_LINE}{number_files} number files\n{includes}")
            _fsync_dir(tmp)
            os.replace(tmp, final)
            _fsync_dir(self.versions)
            return WrittenVersion(name, final, self.current(), count)
        except OSError as exc:
            raise AsteriskError(f"cannot write the dialplan files under {self.etc_dir}: {exc}") from exc

    def _fill_version(self, tmp: Path, final: Path, name: str, base: Path | None, texts: dict[str, str],
                      keep: list[str], shared: dict[str, str], private: Collection[str]) -> list[str]:
        """Fill the version folder ``tmp`` (to become ``final``): top-level files written or
        linked, and a link per bucket — to ``shared``'s target, to ``base``'s bucket when nothing
        in it changed, else to a new bucket folder. Returns the buckets."""
        new_texts: dict[str, dict[str, str]] = defaultdict(dict)
        kept: dict[str, list[str]] = defaultdict(list)
        for fname, text in texts.items():
            new_texts[bucket_of(fname)][fname] = text
        for fname in keep:
            kept[bucket_of(fname)].append(fname)
        before: dict[str, int] = defaultdict(int)
        if base is not None and keep and not shared:
            for fname in self._list(base):
                before[bucket_of(fname)] += 1
        _fill(tmp, base, kept[TOP], new_texts[TOP], private)
        buckets = sorted((set(new_texts) | set(kept) | set(shared)) - {TOP})
        for bucket in buckets:
            if bucket in shared:
                target = shared[bucket]
            elif not new_texts[bucket] and base is not None and len(kept[bucket]) == before[bucket]:
                target = os.readlink(base / bucket)  # the bucket is unchanged: share it
            else:
                folder = self.buckets / f"{bucket}-{name}"
                shutil.rmtree(folder, ignore_errors=True)
                folder.mkdir()
                _fill(folder, None if base is None else base / bucket, kept[bucket], new_texts[bucket], private)
                target = os.path.relpath(folder, final)
            os.symlink(target, tmp / bucket)
        return buckets

    def point_to(self, target: Path) -> None:
        tmp_link = self.etc_dir / ".svc.new"
        if tmp_link.is_symlink() or tmp_link.exists():
            tmp_link.unlink()
        os.symlink(os.path.relpath(target, self.etc_dir), tmp_link)
        os.replace(tmp_link, self.link)
        _fsync_dir(self.etc_dir)  # the switch survives a power cut before the database commits

    @contextlib.asynccontextmanager
    async def lock(self) -> AsyncIterator[None]:
        """Hold the apply lock (flock: released by the kernel when a killed process dies)."""
        self.etc_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.etc_dir / LOCK, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            await asyncio.to_thread(fcntl.flock, fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)

    # --- the journal of an apply in progress -----------------------------------------------

    def begin(self, entry: dict[str, Any]) -> None:
        """Record (durably) that an apply is about to change the link and what Asterisk runs."""
        path = self.etc_dir / JOURNAL
        tmp = path.with_name(f".{JOURNAL}.tmp")
        try:
            with open(tmp, "w") as fh:
                json.dump(entry, fh)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
            _fsync_dir(self.etc_dir)
        except OSError as exc:
            raise AsteriskError(f"cannot write the apply journal {path}: {exc}") from exc

    def journal(self) -> dict[str, Any] | None:
        """The entry of an apply that began and never finished (crashed), or None."""
        try:
            data = json.loads((self.etc_dir / JOURNAL).read_text())
        except FileNotFoundError:
            return None
        except (OSError, ValueError):
            return {"unreadable": True}  # a crash while writing it: still a crash to repair
        return data if isinstance(data, dict) else {"unreadable": True}

    def end(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            (self.etc_dir / JOURNAL).unlink()

    # --- old flow versions kept in Asterisk for their calls (asterisk/push.py) -------------------

    def retiring(self) -> list[str]:
        """Contexts an earlier push kept because calls were still in them; [] when unreadable
        (then they stay in Asterisk's memory until its next full reload: harmless)."""
        try:
            data = json.loads((self.etc_dir / RETIRING).read_text())
        except (OSError, ValueError):
            return []
        return [str(c) for c in data] if isinstance(data, list) else []

    def set_retiring(self, contexts: Collection[str]) -> None:
        path = self.etc_dir / RETIRING
        try:
            if not contexts:
                path.unlink(missing_ok=True)
                return
            tmp = path.with_name(f".{RETIRING}.tmp")
            tmp.write_text(json.dumps(sorted(contexts)))
            os.replace(tmp, path)
        except OSError as exc:
            raise AsteriskError(f"cannot write {path}: {exc}") from exc

    def _adopt_plain_folder(self) -> None:
        """First run: the runtime created a plain (empty) ``svc`` folder; keep it as a version."""
        if self.link.is_dir() and not self.link.is_symlink():
            initial = self.versions / "00000000T000000-initial"
            if initial.exists():
                shutil.rmtree(initial)
            os.replace(self.link, initial)
            self.point_to(initial)

    def prune(self, keep: int = KEEP_VERSIONS, *, also: Collection[Path] = ()) -> None:
        """Drop all but the newest ``keep`` versions (never the active one nor those in ``also``)
        and the ``.tmp`` folders of writes that never finished (a crashed apply)."""
        if not self.versions.is_dir():
            return
        current = self.current()
        for leftover in self.versions.glob(".*.tmp"):
            shutil.rmtree(leftover, ignore_errors=True)
        versions = sorted(p for p in self.versions.iterdir() if p.is_dir() and not p.name.startswith("."))
        for old in versions[:-keep]:
            if old != current and old not in also:
                shutil.rmtree(old, ignore_errors=True)
        if not self.buckets.is_dir():
            return
        used = {target for v in self.versions.iterdir() if v.is_dir() and not v.name.startswith(".")
                for target in _bucket_targets(v)}
        for folder in self.buckets.iterdir():
            if folder.name not in used and not folder.name.startswith("."):
                shutil.rmtree(folder, ignore_errors=True)


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fill(folder: Path, source: Path | None, links: list[str], texts: dict[str, str],
          private: Collection[str]) -> None:
    """Hard-link ``links`` from ``source`` into ``folder`` and write ``texts`` there (synced)."""
    if links:
        assert source is not None
        # Directory fds: many links without building many paths.
        src_fd, dst_fd = os.open(source, os.O_RDONLY), os.open(folder, os.O_RDONLY)
        try:
            for fname in links:
                os.link(fname, fname, src_dir_fd=src_fd, dst_dir_fd=dst_fd)
        finally:
            os.close(src_fd)
            os.close(dst_fd)
    for fname, text in texts.items():
        mode = 0o600 if fname in private else 0o666  # the latter less the umask, as open() does
        with open(os.open(folder / fname, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode), "w") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
