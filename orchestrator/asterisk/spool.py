"""Asterisk's call-recording spool on a RAM file system (tmpfs).

MixMonitor writes plain audio while a call is in progress, and the post-process moves the
finished file to ``done/`` where the recordings worker encrypts it (orchestrator/recordings).
With the whole spool on tmpfs that plain audio never reaches a disk: the worker reads it from
RAM and writes only ciphertext to the store. Both folders must be on the same mount, so that
the post-process's ``mv`` stays a rename and not a copy onto disk.

The mount needs CAP_SYS_ADMIN (root, or a container started with a tmpfs for this folder, which
is equally fine: any tmpfs mounted there counts). Without it the spool stays on disk and
``orchestrator asterisk status`` says so.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

from orchestrator.settings import spool_of

MOUNT_OPTIONS = "mode=0700,nosuid,nodev,noexec"


def spool_dir(instance_dir: Path) -> Path:
    """Asterisk's recording folder of one instance (host path; ${ASTSPOOLDIR}/monitor/svc-rec)."""
    return spool_of(instance_dir)


@dataclass(frozen=True)
class SpoolState:
    path: Path
    in_ram: bool
    why: str  # how it is mounted, or why it is on disk

    def describe(self) -> str:
        return f"tmpfs ({self.why})" if self.in_ram else f"on disk: {self.why}"


def _mount_of(path: Path) -> tuple[str, str] | None:
    """(file system type, options) of the mount whose mount point is exactly ``path``."""
    target = str(path.resolve())
    try:
        lines = Path("/proc/self/mountinfo").read_text().splitlines()
    except OSError:
        return None
    found = None
    for line in lines:  # the last mount on a point is the one in effect
        left, _, right = line.partition(" - ")
        fields = left.split()
        if len(fields) >= 5 and fields[4].replace("\\040", " ") == target:
            fs = right.split()
            found = (fs[0], fs[2] if len(fs) > 2 else "")
    return found


def state(path: Path) -> SpoolState:
    mount = _mount_of(path)
    if mount is not None and mount[0] == "tmpfs":
        size = next((o.removeprefix("size=") for o in mount[1].split(",") if o.startswith("size=")), "?")
        return SpoolState(path, True, f"size {size}")
    return SpoolState(path, False, "not a tmpfs mount point")


def ensure_in_ram(path: Path, size_mb: int) -> SpoolState:
    """Mount a tmpfs on ``path`` unless one is there already; ``size_mb`` 0 keeps it on disk.
    Files already in the folder (recordings from before) would be hidden by the mount, so a
    folder that is not empty is left on disk, with the reason."""
    if size_mb <= 0:
        return SpoolState(path, False, "SVC_RECORDING_SPOOL_MB=0")
    current = state(path)
    if current.in_ram:
        return current
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    if any(path.rglob("*.wav")):
        return SpoolState(path, False, "it holds recordings not yet taken by the recordings worker "
                                       "(run `orchestrator recordings ingest`, then start again)")
    try:
        proc = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_mb}m,{MOUNT_OPTIONS}", "svcnum-recordings",
                               str(path)], capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.SubprocessError) as exc:
        return SpoolState(path, False, f"mount failed: {exc}")
    if proc.returncode != 0:
        return SpoolState(path, False, f"mount refused: {(proc.stderr or proc.stdout).strip()[:200]}")
    return state(path)


def release(path: Path, *, only_if_empty: bool = False) -> bool:
    """Unmount the spool's tmpfs. ``only_if_empty``: keep it while it holds a recording (a stopped
    Asterisk leaves finished ones for the worker); otherwise what is in it is gone."""
    if not state(path).in_ram or (only_if_empty and any(path.rglob("*.wav"))):
        return False
    proc = subprocess.run(["umount", str(path)], capture_output=True, text=True, timeout=10, check=False)
    return proc.returncode == 0
