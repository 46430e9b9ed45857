"""Which Asterisk 22 runs an instance, and where that instance's files are: decided once.

Two modes:

* **system** -- an ``asterisk`` binary on the PATH reports version 22: it is used directly, the
  instance lives in ``state_dir/asterisk/<instance_name>``.
* **chroot** -- otherwise a Debian sid rootfs with Asterisk 22 in ``rootfs_cache/rootfs-22``
  (debootstrapped once, ~1 min, asterisk/install.py) and the instance inside it (settings.Paths.of),
  because a chrooted Asterisk can only see files inside the rootfs. Several instances (test
  sessions, dev) share one rootfs.

Deciding runs ``asterisk -V`` once per process (cached); a process resolves its ``Layout`` at start
and passes the ``Paths`` on (the live controller, the API), rather than asking again.
"""

from __future__ import annotations

import contextlib
import functools
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


@functools.cache
def system_asterisk_22() -> str | None:
    """The path of an ``asterisk`` binary on the PATH that reports version 22, else None.
    Cached: ``asterisk -V`` takes ~50 ms and the answer does not change while we run."""
    binary = shutil.which("asterisk")
    if binary is None:
        return None
    with contextlib.suppress(AsteriskError):
        version = version_of(run([binary, "-V"], timeout=10).stdout)
        if version is not None and version.startswith("22."):
            return binary
    return None


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
        return self.paths.asterisk_path(host_path)


def detect(settings: Settings) -> Layout:
    """The mode and the instance's paths."""
    binary = system_asterisk_22()
    root = Path("/") if binary is not None else settings.rootfs_cache / ROOTFS_NAME
    return Layout(root, binary, Paths.of(settings, root))


def asterisk_root(settings: Settings) -> Path:
    """``/`` for the system's Asterisk 22, else the rootfs in the cache."""
    return detect(settings).root


def paths_for(settings: Settings) -> Paths:
    return detect(settings).paths
