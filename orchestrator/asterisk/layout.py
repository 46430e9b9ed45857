"""Which Asterisk 22 runs an instance, and where that instance's files are: decided once.

Two modes:

* **system** -- an ``asterisk`` binary on the PATH reports version 22: it is used directly, the
  instance lives in ``state_dir/asterisk/<instance_name>``.
* **chroot** -- otherwise a Debian sid rootfs with Asterisk 22 in ``rootfs_cache/rootfs-22``
  (debootstrapped once, ~1 min, asterisk/install.py) and the instance inside it, in
  ``<rootfs>/srv/svcnum/<instance_name>-<hash of state_dir>``, because a chrooted Asterisk can only
  see files inside the rootfs. Several instances (test sessions, dev) share one rootfs.

Deciding runs ``asterisk -V`` once; a process resolves its ``Layout`` at start and passes the
``Paths`` on (the live controller, the API), rather than asking again.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from orchestrator.errors import AsteriskError
from orchestrator.settings import Paths, Settings

ROOTFS_NAME = "rootfs-22"


def run(cmd: list[str], *, timeout: float, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run a command; OS-level failures (missing binary, timeout) become AsteriskError."""
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env, check=False)
    except FileNotFoundError as exc:
        raise AsteriskError(f"cannot run {cmd[0]}: not installed") from exc
    except subprocess.TimeoutExpired as exc:
        raise AsteriskError(f"{' '.join(cmd)} did not finish within {timeout:.0f} s") from exc
    except OSError as exc:
        raise AsteriskError(f"cannot run {cmd[0]}: {exc}") from exc


def version_of(output: str) -> str | None:
    m = re.search(r"Asterisk (\d+\.\d+\.\d+\S*)", output)
    return m.group(1) if m else None


@dataclass(frozen=True)
class Layout:
    root: Path  # "/" in system mode, the rootfs in chroot mode
    system_binary: str | None  # the system Asterisk 22, or None (chroot mode)
    paths: Paths

    @property
    def chrooted(self) -> bool:
        return self.system_binary is None

    def asterisk_path(self, host_path: Path) -> str:
        """A host path as Asterisk sees it (without the rootfs prefix in chroot mode)."""
        if not self.chrooted:
            return str(host_path)
        try:
            rel = Path(os.path.abspath(host_path)).relative_to(self.root.resolve())
        except ValueError as exc:
            raise AsteriskError(f"{host_path} is outside the Asterisk rootfs {self.root}; "
                                "Asterisk cannot see it") from exc
        return "/" + str(rel)


def detect(settings: Settings) -> Layout:
    """The mode and the instance's paths (runs ``asterisk -V`` when there is a system Asterisk)."""
    binary = shutil.which("asterisk")
    version = None
    if binary is not None:
        with contextlib.suppress(AsteriskError):
            version = version_of(run([binary, "-V"], timeout=10).stdout)
    if version is not None and version.startswith("22."):
        return Layout(Path("/"), binary, Paths(settings.state_dir / "asterisk" / settings.instance_name))
    root = settings.rootfs_cache / ROOTFS_NAME
    # The hash keeps two checkouts (two state folders) with the same instance name apart.
    digest = hashlib.sha256(str(settings.state_dir.resolve()).encode()).hexdigest()[:8]
    return Layout(root, None, Paths(root / "srv" / "svcnum" / f"{settings.instance_name}-{digest}"))


def paths_for(settings: Settings) -> Paths:
    return detect(settings).paths
