"""Which Asterisk runs an instance, decided once per process: the system's Asterisk 22 when one is
on the PATH, else the chrooted Debian rootfs (asterisk/runtime.py). The answer fixes every path
(settings.Paths), so commands ask here instead of building an AsteriskRuntime to learn them."""

from __future__ import annotations

import contextlib
import functools
import re
import shutil
import subprocess
from pathlib import Path

from orchestrator.settings import Paths, Settings

ROOTFS_NAME = "rootfs-22"


@functools.cache
def system_asterisk_22() -> str | None:
    """The path of an ``asterisk`` binary on the PATH that reports version 22, else None.
    Cached: ``asterisk -V`` takes ~50 ms and the answer does not change while we run."""
    binary = shutil.which("asterisk")
    if binary is None:
        return None
    with contextlib.suppress(OSError, subprocess.TimeoutExpired):
        out = subprocess.run([binary, "-V"], capture_output=True, text=True, timeout=10, check=False).stdout
        m = re.search(r"Asterisk (\d+)\.\d+\.\d+", out)
        if m and m.group(1) == "22":
            return binary
    return None


def asterisk_root(settings: Settings) -> Path:
    """``/`` for the system's Asterisk 22, else the rootfs in the cache."""
    return Path("/") if system_asterisk_22() is not None else settings.rootfs_cache / ROOTFS_NAME


def paths_for(settings: Settings) -> Paths:
    return Paths.of(settings, asterisk_root(settings))
