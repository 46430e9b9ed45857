"""The local Asterisk 22: lay out one instance, configure, start, stop, talk to its CLI.

Which Asterisk (system or chroot) and where the instance lives: asterisk/layout.py; getting
Asterisk when the machine has none: asterisk/install.py.

Every writable Asterisk folder (etc, var/lib, var/log, var/spool, var/run) is per instance, so
instances never touch each other's state. Asterisk runs daemonised (it survives the CLI process
that started it); its pid file in the instance's var/run is how we find it again.

Optionally Asterisk starts under libfaketime reading a clock file (``up(faketime_file=...)``):
the tests move that clock (tests/harness/clock.py) to try schedules and holidays without
waiting. Only the wall clock is faked (``DONT_FAKE_MONOTONIC=1``) so timers and timeouts inside
Asterisk keep their real length. When this process itself runs under libfaketime with a fixed
offset (the tests run at a chosen moment: tests/harness/at.py), Asterisk gets the same offset, so
the two never disagree on the time.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from functools import cached_property
from pathlib import Path
from typing import Any

from orchestrator.asterisk import install, spool
from orchestrator.asterisk.layout import Layout, detect, run, version_of
from orchestrator.errors import AsteriskError, AsteriskUnavailable
from orchestrator.settings import Paths, Settings

LIBFAKETIME = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1"
BOOT_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0
REPO_CONF_DIR = Path(__file__).resolve().parents[2] / "asterisk_conf"
PLACEHOLDER = re.compile(r"@([A-Z_]+)@")
_OFFSET = re.compile(r"([+-])(\d+)s?")


def inherited_clock_offset() -> int:
    """Seconds this process's wall clock is shifted by libfaketime (``FAKETIME=+Ns``), 0 when it
    is not: Asterisk started from here gets the same shift. Any other FAKETIME form (an absolute
    or frozen time) is refused: Asterisk could not follow it."""
    spec = os.environ.get("FAKETIME", "")
    if not spec or "faketime" not in os.environ.get("LD_PRELOAD", ""):
        return 0
    m = _OFFSET.fullmatch(spec.strip())
    if m is None:
        raise AsteriskError(f"FAKETIME={spec!r}: only a fixed offset in seconds (+Ns) is passed on to Asterisk")
    return int(m.group(2)) * (1 if m.group(1) == "+" else -1)


class AsteriskRuntime:
    def __init__(self, settings: Settings, progress: Callable[[str], None] = lambda s: None) -> None:
        self.settings = settings
        self.progress = progress

    # ------------------------------------------------------------------ layout

    @cached_property
    def layout(self) -> Layout:
        """Decided once, lazily (it runs ``asterisk -V``): paths are needed before any start."""
        return detect(self.settings)

    @property
    def paths(self) -> Paths:
        return self.layout.paths

    @property
    def chrooted(self) -> bool:
        return self.layout.chrooted

    @property
    def root(self) -> Path:
        return self.layout.root

    @property
    def instance_dir(self) -> Path:
        return self.paths.instance

    @property
    def etc_dir(self) -> Path:
        return self.paths.etc

    @property
    def generated_dir(self) -> Path:
        """Where the generated dialplan lives (managed by DialplanFiles: a symlink to a version)."""
        return self.paths.generated

    @property
    def sounds_dir(self) -> Path:
        return self.paths.sounds

    @property
    def log_file(self) -> Path:
        return self.paths.log_file

    @property
    def clock_file(self) -> Path:
        """The suggested libfaketime clock file for ``up(faketime_file=...)`` (inside the rootfs)."""
        return self.paths.run_dir / "faketime"

    @property
    def pid_file(self) -> Path:
        return self.paths.run_dir / "asterisk.pid"

    @property
    def _conf_file(self) -> Path:
        return self.etc_dir / "asterisk.conf"

    @property
    def clock_record(self) -> Path:
        """Which clock file the running Asterisk reads, so another process can move the clock too."""
        return self.paths.run_dir / "clock-file"

    def asterisk_path(self, host_path: Path) -> str:
        """A host path as Asterisk sees it (without the rootfs prefix in chroot mode)."""
        return self.layout.asterisk_path(host_path)

    def _asterisk_cmd(self) -> list[str]:
        conf = self.asterisk_path(self._conf_file)
        # A cluster node has its own network namespace (its own address); the CLI socket is a file,
        # so `-rx` reaches it from anywhere, but starting it must happen inside.
        netns = ["ip", "netns", "exec", self.settings.netns] if self.settings.netns else []
        if self.chrooted:
            return [*netns, "chroot", str(self.root), "/usr/sbin/asterisk", "-C", conf]
        assert self.layout.system_binary is not None
        return [*netns, self.layout.system_binary, "-C", conf]

    # ------------------------------------------------------------------ install

    def ensure_installed(self) -> None:
        install.ensure_installed(self.layout, self.progress)

    # ------------------------------------------------------------------ configuration

    def placeholders(self) -> dict[str, str]:
        s = self.settings
        return {
            "SIP_PORT": str(s.sip_port), "AMI_PORT": str(s.ami_port), "HTTP_PORT": str(s.http_port),
            "BIND_HOST": s.bind_host, "AMI_PERMIT": s.ami_permit or s.bind_host,
            "AMI_USER": s.ami_user, "AMI_SECRET": s.ami_secret,
            "ARI_USER": s.ari_user, "ARI_SECRET": s.ari_secret,
            "CARRIER_HOST": s.carrier_host, "CARRIER_PORT": str(s.carrier_port),
            "RTP_START": str(s.rtp_start), "RTP_END": str(s.rtp_end),
            "ACTIVE_BLOCK_CODE": s.active_block_code,
            "RECORDING_KEEP_CODE": s.recording_keep_code,
            "RECORDING_START_CODE": s.recording_start_code,
            "RECORDING_STOP_CODE": s.recording_stop_code,
            "RECORDING_PAUSE_CODE": s.recording_pause_code,
            "INSTANCE_DIR": self.asterisk_path(self.instance_dir),
            "EDGE_COUNT_URL": s.edge_count_url,
            "SYSTEM_NAME": s.system_name,
        }

    def prepare(self) -> None:
        """Create the instance folders and (re)write the static configuration into etc_dir."""
        values = self.placeholders()
        try:
            for sub in ("etc", "var/lib", "var/log/cdr-csv", "var/spool", "var/run"):
                (self.instance_dir / sub).mkdir(parents=True, exist_ok=True)
            self.sounds_dir.mkdir(parents=True, exist_ok=True)
            # First start: a generated folder with one harmless file. The glob include
            # `svc/*.conf` must match at least one file, or pbx_config declines to load.
            if self.settings.dialplan_from is not None:
                self._link_shared_dialplan(self.settings.dialplan_from)
            elif not self.generated_dir.exists():
                self.generated_dir.mkdir()
                (self.generated_dir / "00-initial.conf").write_text("; no plan applied yet\n")
            for src in sorted(REPO_CONF_DIR.glob("*.conf")):
                text = self._fill(src.read_text(), values, src.name)
                self._write_atomic(self.etc_dir / src.name, text, mode=0o600)
            for src in sorted(REPO_CONF_DIR.glob("*.sh")):  # MixMonitor post-process (svc-rec-done.sh)
                self._write_atomic(self.etc_dir / src.name, src.read_text(), mode=0o755)
            if self.chrooted:
                self._write_hosts()
        except OSError as exc:
            raise AsteriskError(f"cannot prepare the Asterisk instance in {self.instance_dir}: {exc}") from exc

    def _link_shared_dialplan(self, etc_dir: Path) -> None:
        """``svc`` -> the other instance's ``svc`` link (relative: the same inside a chroot)."""
        target = os.path.relpath(etc_dir / "svc", self.etc_dir)
        if self.generated_dir.is_symlink() and os.readlink(self.generated_dir) == target:
            return
        if self.generated_dir.exists() and not self.generated_dir.is_symlink():
            raise AsteriskError(f"{self.generated_dir} is a folder of its own; this node was meant to load "
                                f"the dialplan of {etc_dir}")
        tmp = self.generated_dir.with_name(".svc-link.tmp")
        tmp.unlink(missing_ok=True)
        tmp.symlink_to(target)
        os.replace(tmp, self.generated_dir)

    @staticmethod
    def _fill(text: str, values: dict[str, str], name: str) -> str:
        def one(m: re.Match[str]) -> str:
            try:
                return values[m.group(1)]
            except KeyError:
                raise AsteriskError(f"asterisk_conf/{name}: unknown placeholder {m.group(0)}") from None

        return PLACEHOLDER.sub(one, text)

    def _write_hosts(self) -> None:
        # Without our host name in the rootfs' /etc/hosts every call blocked on DNS look-ups.
        host = socket.gethostname()
        text = f"127.0.0.1\tlocalhost\n127.0.1.1\t{host}\n::1\tlocalhost ip6-localhost ip6-loopback\n"
        hosts = self.root / "etc" / "hosts"
        if not hosts.exists() or hosts.read_text() != text:
            self._write_atomic(hosts, text, mode=0o644)

    @staticmethod
    def _write_atomic(path: Path, text: str, mode: int) -> None:
        tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
        with open(tmp, "w") as fh:
            fh.write(text)
        os.chmod(tmp, mode)
        os.replace(tmp, path)

    # ------------------------------------------------------------------ process

    def _pid(self) -> int | None:
        """The pid of this instance's running Asterisk, or None."""
        try:
            pid = int(self.pid_file.read_text().strip())
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
            status = Path(f"/proc/{pid}/status").read_text()
        except (OSError, ValueError):
            return None
        # Guard against a recycled pid, and a zombie nobody reaped (containers without an init).
        if "asterisk" not in cmdline or self.asterisk_path(self._conf_file) not in cmdline:
            return None
        if re.search(r"^State:\s+Z", status, re.M):
            return None
        return pid

    def is_running(self) -> bool:
        return self._pid() is not None

    def rx(self, command: str, timeout: float = 15.0) -> str:
        """Run one CLI command in the running Asterisk and return its output."""
        proc = run(self._asterisk_cmd() + ["-rx", command], timeout=timeout)
        out = proc.stdout + proc.stderr
        if proc.returncode != 0 or "Unable to connect to remote asterisk" in out:
            raise AsteriskUnavailable(f"Asterisk CLI not reachable ({self.instance_dir}): {out.strip()}")
        return proc.stdout

    def up(self, faketime_file: Path | None = None) -> None:
        """Start Asterisk (if not running) and return once it is fully booted and AMI answers."""
        if self.is_running():
            return
        if not self._conf_file.exists():
            self.prepare()
        for stale in (self.pid_file, self.instance_dir / "var" / "run" / "asterisk.ctl", self.clock_record):
            stale.unlink(missing_ok=True)
        env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "HOME": "/root", "LANG": "C.UTF-8"}
        cmd = self._asterisk_cmd()
        offset = inherited_clock_offset()
        # Set through env(1) right before the binary (inside the chroot), so only Asterisk
        # gets the preload, not the host's chroot(8).
        if faketime_file is not None:
            seen = self.asterisk_path(faketime_file)
            if not faketime_file.exists():  # a movable clock starts at this process's time
                self._write_atomic(faketime_file, f"{offset:+d}s\n", mode=0o644)
            self._write_atomic(self.clock_record, str(faketime_file), mode=0o644)
            cmd[-3:-3] = ["/usr/bin/env", f"LD_PRELOAD={LIBFAKETIME}", f"FAKETIME_TIMESTAMP_FILE={seen}",
                          "FAKETIME_CACHE_DURATION=1", "DONT_FAKE_MONOTONIC=1"]
        elif offset:
            cmd[-3:-3] = ["/usr/bin/env", f"LD_PRELOAD={LIBFAKETIME}", f"FAKETIME={offset:+d}s",
                          "DONT_FAKE_MONOTONIC=1"]
        self._spool_to_ram()
        started = time.monotonic()
        startup_log = self.instance_dir / "var" / "log" / "startup.log"
        try:
            with open(startup_log, "w") as out:
                # Without -f Asterisk daemonises: the parent exits once the child is on its way.
                proc = subprocess.run(cmd, stdout=out, stderr=subprocess.STDOUT, env=env, timeout=BOOT_TIMEOUT,
                                      start_new_session=True, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise AsteriskError(f"cannot start Asterisk: {exc}") from exc
        if proc.returncode != 0:
            raise AsteriskError(f"Asterisk exited with {proc.returncode} at start:\n{self._log_tail(startup_log)}")
        self._wait_booted(started)
        self.progress(f"Asterisk is up in {time.monotonic() - started:.1f} s (pid {self._pid()})")

    def _spool_to_ram(self) -> None:
        where = spool.ensure_in_ram(self.paths.spool, self.settings.recording_spool_mb)
        if where.in_ram:
            self.progress(f"recording spool in RAM: {where.describe()}")
        else:
            self.progress(f"warning: recording spool {where.describe()}; plain audio of calls in progress "
                          f"is written to disk until the recordings worker encrypts it")

    def release_spool(self) -> bool:
        """Unmount the recording spool's tmpfs (its content is lost): for removing an instance."""
        return spool.release(self.paths.spool)

    def _wait_booted(self, started: float) -> None:
        deadline = started + BOOT_TIMEOUT
        booted = False
        while time.monotonic() < deadline:
            if not booted:
                try:
                    self.rx("core waitfullybooted", timeout=max(1.0, deadline - time.monotonic()))
                    booted = True
                except AsteriskError:
                    pid_written = self.pid_file.exists()
                    if pid_written and self._pid() is None:
                        break  # it died
            if booted:
                try:
                    with socket.create_connection((self.settings.bind_host, self.settings.ami_port), timeout=1):
                        return
                except OSError:
                    pass
            time.sleep(0.1)
        what = "AMI did not accept connections" if booted else "Asterisk did not finish booting"
        with contextlib.suppress(AsteriskError):
            self.down()
        startup = self._log_tail(self.instance_dir / "var" / "log" / "startup.log")
        raise AsteriskError(f"{what} within {BOOT_TIMEOUT:.0f} s; last lines of {self.log_file}:\n"
                            f"{self._log_tail(self.log_file)}\n{startup}")

    @staticmethod
    def _log_tail(path: Path, lines: int = 25) -> str:
        try:
            return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return f"({path} not readable)"

    def down(self) -> None:
        """Stop Asterisk now (calls are cut); idempotent."""
        pid = self._pid()
        if pid is not None:
            with contextlib.suppress(AsteriskError):
                self.rx("core stop now", timeout=STOP_TIMEOUT)
            deadline = time.monotonic() + STOP_TIMEOUT
            for sig in (signal.SIGTERM, signal.SIGKILL):
                while time.monotonic() < deadline and self._pid() is not None:
                    time.sleep(0.1)
                if self._pid() is None:
                    break
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, sig)
                deadline = time.monotonic() + 3
        for stale in (self.pid_file, self.instance_dir / "var" / "run" / "asterisk.ctl"):
            stale.unlink(missing_ok=True)
        # An empty RAM spool goes with Asterisk (the next `up` mounts it again); one with
        # recordings the worker has not taken yet stays.
        spool.release(self.paths.spool, only_if_empty=True)

    def status(self) -> dict[str, Any]:
        s = self.settings
        pid = self._pid()
        info: dict[str, Any] = {
            "running": pid is not None,
            "pid": pid,
            "mode": "chroot" if self.chrooted else "system",
            "instance": str(self.instance_dir),
            "version": None,
            "sip": f"{s.bind_host}:{s.sip_port}/udp",
            "ami": f"{s.bind_host}:{s.ami_port}",
            "http": f"{s.bind_host}:{s.http_port}",
            "uptime_s": None,
            "recordings": spool.state(self.paths.spool).describe(),
        }
        if pid is not None:
            with contextlib.suppress(AsteriskError):
                info["version"] = version_of(self.rx("core show version"))
                m = re.search(r"System uptime:\s*(\d+)", self.rx("core show uptime seconds"))
                info["uptime_s"] = int(m.group(1)) if m else None
        elif self.root.exists():
            with contextlib.suppress(AsteriskError):
                cmd = self._asterisk_cmd()[:-2] + ["-V"]
                info["version"] = version_of(run(cmd, timeout=10).stdout)
        return info
