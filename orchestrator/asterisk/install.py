"""Getting Asterisk 22 when the machine has none: a Debian sid rootfs by debootstrap (~1 min,
once; several instances share it). See asterisk/layout.py for the two modes."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable

from orchestrator.asterisk.layout import Layout
from orchestrator.errors import AsteriskError

PACKAGES = ("asterisk", "asterisk-modules", "asterisk-config", "asterisk-core-sounds-en-gsm", "faketime")
DEBIAN_MIRROR = "http://deb.debian.org/debian"
SUITE = "sid"  # bookworm/trixie have no Asterisk; sid has 22.x


def ensure_installed(layout: Layout, progress: Callable[[str], None]) -> None:
    root = layout.root
    if not layout.chrooted:
        progress(f"using the system Asterisk ({layout.system_binary})")
        return
    if (root / "usr" / "sbin" / "asterisk").exists():
        return
    if shutil.which("debootstrap") is None:
        raise AsteriskError(
            "no Asterisk 22 on this machine and debootstrap is missing to fetch one; "
            "run `make deps` (or apt-get install debootstrap)")
    root.parent.mkdir(parents=True, exist_ok=True)
    # Build next to the final place and rename when complete: a killed run leaves only a
    # temp folder behind, never a half rootfs that looks finished.
    tmp = root.parent / f".{root.name}.tmp-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    progress(f"getting Asterisk 22 (Debian {SUITE}) into {root}; takes about a minute ...")
    _debootstrap(tmp, progress)
    try:
        os.replace(tmp, root)
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        if not (root / "usr" / "sbin" / "asterisk").exists():  # else a concurrent run won the race
            raise AsteriskError(f"cannot move the new rootfs into {root}: {exc}") from exc
    progress(f"Asterisk 22 installed in {root}")


def _debootstrap(tmp: os.PathLike[str], progress: Callable[[str], None]) -> None:
    cmd = ["debootstrap", "--variant=minbase", f"--include={','.join(PACKAGES)}", SUITE, str(tmp), DEBIAN_MIRROR]
    try:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    except OSError as exc:
        raise AsteriskError(f"cannot run debootstrap: {exc}") from exc
    tail: list[str] = []
    assert proc.stdout is not None
    for line in proc.stdout:
        tail = (tail + [line.rstrip()])[-20:]
        if line.startswith("I: Retrieving") or line.startswith("I: Base system installed"):
            progress(line.strip())
    if proc.wait() != 0:
        shutil.rmtree(tmp, ignore_errors=True)
        raise AsteriskError("debootstrap failed:\n" + "\n".join(tail))
