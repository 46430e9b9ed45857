"""The local Asterisk 22: get it, lay out one instance, configure, start, stop, talk to its CLI.

Two modes:

* **system** -- an ``asterisk`` binary on the PATH reports version 22: it is used directly, the
  instance lives in ``state_dir/asterisk/<instance_name>``.
* **chroot** -- otherwise a Debian sid rootfs with Asterisk 22 in ``rootfs_cache/rootfs-22``
  (debootstrapped once, ~1 min) and the instance inside it, in
  ``<rootfs>/srv/svcnum/<instance_name>-<hash of state_dir>``, because a chrooted Asterisk can only
  see files inside the rootfs. Several instances (test sessions, dev) share one rootfs.

Every writable Asterisk folder (etc, var/lib, var/log, var/spool, var/run) is per instance, so
instances never touch each other's state. Asterisk runs daemonised (it survives the CLI process
that started it); its pid file in the instance's var/run is how we find it again.

Optionally Asterisk runs under libfaketime with a clock file we rewrite (``set_clock_offset``):
schedules and holidays can be tested without waiting. Only the wall clock is faked
(``DONT_FAKE_MONOTONIC=1``) so timers and timeouts inside Asterisk keep their real length.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from orchestrator.asterisk import spool
from orchestrator.errors import AsteriskError, AsteriskUnavailable
from orchestrator.settings import Settings

PACKAGES = ("asterisk", "asterisk-modules", "asterisk-config", "asterisk-core-sounds-en-gsm", "faketime")
DEBIAN_MIRROR = "http://deb.debian.org/debian"
SUITE = "sid"  # bookworm/trixie have no Asterisk; sid has 22.x
ROOTFS_NAME = "rootfs-22"
LIBFAKETIME = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1"
BOOT_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0
CLOCK_TIMEOUT = 15.0  # under load (CI, two cores) the move was seen to take over 5 s
REPO_CONF_DIR = Path(__file__).resolve().parents[2] / "asterisk_conf"
PLACEHOLDER = re.compile(r"@([A-Z_]+)@")


def _run(cmd: list[str], *, timeout: float, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run a command; OS-level failures (missing binary, timeout) become AsteriskError."""
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env, check=False)
    except FileNotFoundError as exc:
        raise AsteriskError(f"cannot run {cmd[0]}: not installed") from exc
    except subprocess.TimeoutExpired as exc:
        raise AsteriskError(f"{' '.join(cmd)} did not finish within {timeout:.0f} s") from exc
    except OSError as exc:
        raise AsteriskError(f"cannot run {cmd[0]}: {exc}") from exc


def _version_of(output: str) -> str | None:
    m = re.search(r"Asterisk (\d+\.\d+\.\d+\S*)", output)
    return m.group(1) if m else None


class AsteriskRuntime:
    def __init__(self, settings: Settings, progress: Callable[[str], None] = lambda s: None) -> None:
        self.settings = settings
        self.progress = progress
        self._root: Path | None = None  # "/" in system mode, the rootfs in chroot mode
        self._system_binary: str | None = None

    # ------------------------------------------------------------------ layout

    def _detect(self) -> Path:
        """Decide the mode once (cheap enough to do lazily: paths are needed before any start)."""
        if self._root is None:
            binary = shutil.which("asterisk")
            version = None
            if binary is not None:
                with contextlib.suppress(AsteriskError):
                    version = _version_of(_run([binary, "-V"], timeout=10).stdout)
            if version is not None and version.startswith("22."):
                self._system_binary, self._root = binary, Path("/")
            else:
                self._root = self.settings.rootfs_cache / ROOTFS_NAME
        return self._root

    @property
    def chrooted(self) -> bool:
        return self._detect() != Path("/")

    @property
    def root(self) -> Path:
        return self._detect()

    @property
    def instance_dir(self) -> Path:
        if not self.chrooted:
            return self.settings.state_dir / "asterisk" / self.settings.instance_name
        # The hash keeps two checkouts (two state folders) with the same instance name apart.
        digest = hashlib.sha256(str(self.settings.state_dir.resolve()).encode()).hexdigest()[:8]
        return self.root / "srv" / "svcnum" / f"{self.settings.instance_name}-{digest}"

    @property
    def etc_dir(self) -> Path:
        return self.instance_dir / "etc"

    @property
    def generated_dir(self) -> Path:
        """Where the generated dialplan lives (managed by DialplanFiles: a symlink to a version)."""
        return self.etc_dir / "svc"

    @property
    def sounds_dir(self) -> Path:
        return self.instance_dir / "var" / "lib" / "sounds"

    @property
    def log_file(self) -> Path:
        return self.instance_dir / "var" / "log" / "messages"

    @property
    def clock_file(self) -> Path:
        """The suggested libfaketime clock file for ``up(faketime_file=...)`` (inside the rootfs)."""
        return self.instance_dir / "var" / "run" / "faketime"

    @property
    def pid_file(self) -> Path:
        return self.instance_dir / "var" / "run" / "asterisk.pid"

    @property
    def _conf_file(self) -> Path:
        return self.etc_dir / "asterisk.conf"

    @property
    def _clock_record(self) -> Path:
        # Which clock file the running Asterisk reads, so another process can move the clock too.
        return self.instance_dir / "var" / "run" / "clock-file"

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

    def _asterisk_cmd(self) -> list[str]:
        conf = self.asterisk_path(self._conf_file)
        if self.chrooted:
            return ["chroot", str(self.root), "/usr/sbin/asterisk", "-C", conf]
        assert self._system_binary is not None
        return [self._system_binary, "-C", conf]

    # ------------------------------------------------------------------ install

    def ensure_installed(self) -> None:
        root = self._detect()
        if not self.chrooted:
            self.progress(f"using the system Asterisk ({self._system_binary})")
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
        self.progress(f"getting Asterisk 22 (Debian {SUITE}) into {root}; takes about a minute ...")
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
                self.progress(line.strip())
        if proc.wait() != 0:
            shutil.rmtree(tmp, ignore_errors=True)
            raise AsteriskError("debootstrap failed:\n" + "\n".join(tail))
        try:
            os.replace(tmp, root)
        except OSError as exc:
            shutil.rmtree(tmp, ignore_errors=True)
            if not (root / "usr" / "sbin" / "asterisk").exists():  # else a concurrent run won the race
                raise AsteriskError(f"cannot move the new rootfs into {root}: {exc}") from exc
        self.progress(f"Asterisk 22 installed in {root}")

    # ------------------------------------------------------------------ configuration

    def placeholders(self) -> dict[str, str]:
        s = self.settings
        return {
            "SIP_PORT": str(s.sip_port), "AMI_PORT": str(s.ami_port), "HTTP_PORT": str(s.http_port),
            "BIND_HOST": s.bind_host, "AMI_USER": s.ami_user, "AMI_SECRET": s.ami_secret,
            "ARI_USER": s.ari_user, "ARI_SECRET": s.ari_secret,
            "CARRIER_HOST": s.carrier_host, "CARRIER_PORT": str(s.carrier_port),
            "RTP_START": str(s.rtp_start), "RTP_END": str(s.rtp_end),
            "ACTIVE_BLOCK_CODE": s.active_block_code,
            "RECORDING_KEEP_CODE": s.recording_keep_code,
            "RECORDING_START_CODE": s.recording_start_code,
            "RECORDING_STOP_CODE": s.recording_stop_code,
            "RECORDING_PAUSE_CODE": s.recording_pause_code,
            "INSTANCE_DIR": self.asterisk_path(self.instance_dir),
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
            if not self.generated_dir.exists():
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
        proc = _run(self._asterisk_cmd() + ["-rx", command], timeout=timeout)
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
        for stale in (self.pid_file, self.instance_dir / "var" / "run" / "asterisk.ctl", self._clock_record):
            stale.unlink(missing_ok=True)
        env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "HOME": "/root", "LANG": "C.UTF-8"}
        cmd = self._asterisk_cmd()
        if faketime_file is not None:
            seen = self.asterisk_path(faketime_file)
            if not faketime_file.exists():
                self._write_atomic(faketime_file, "+0s\n", mode=0o644)
            self._write_atomic(self._clock_record, str(faketime_file), mode=0o644)
            # Set through env(1) right before the binary (inside the chroot), so only Asterisk
            # gets the preload, not the host's chroot(8).
            cmd[-3:-3] = ["/usr/bin/env", f"LD_PRELOAD={LIBFAKETIME}", f"FAKETIME_TIMESTAMP_FILE={seen}",
                          "FAKETIME_CACHE_DURATION=1", "DONT_FAKE_MONOTONIC=1"]
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
        where = spool.ensure_in_ram(spool.spool_dir(self.instance_dir), self.settings.recording_spool_mb)
        if where.in_ram:
            self.progress(f"recording spool in RAM: {where.describe()}")
        else:
            self.progress(f"warning: recording spool {where.describe()}; plain audio of calls in progress "
                          f"is written to disk until the recordings worker encrypts it")

    def release_spool(self) -> bool:
        """Unmount the recording spool's tmpfs (its content is lost): for removing an instance."""
        return spool.release(spool.spool_dir(self.instance_dir))

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
        spool.release(spool.spool_dir(self.instance_dir), only_if_empty=True)

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
            "recordings": spool.state(spool.spool_dir(self.instance_dir)).describe(),
        }
        if pid is not None:
            with contextlib.suppress(AsteriskError):
                info["version"] = _version_of(self.rx("core show version"))
                m = re.search(r"System uptime:\s*(\d+)", self.rx("core show uptime seconds"))
                info["uptime_s"] = int(m.group(1)) if m else None
        elif self.root.exists():
            with contextlib.suppress(AsteriskError):
                cmd = self._asterisk_cmd()[:-2] + ["-V"]
                info["version"] = _version_of(_run(cmd, timeout=10).stdout)
        return info

    # ------------------------------------------------------------------ clock

    def set_clock_offset(self, seconds: int, *, wait: bool = True) -> None:
        """Move Asterisk's wall clock to real time + seconds (needs ``up(faketime_file=...)``).

        libfaketime re-reads the file only when its 1 s cache has expired, which it checks at whole
        seconds: the change takes up to ~2.1 s (measured). With ``wait`` this returns once Asterisk's
        ${EPOCH} shows the new offset, so callers need no sleeps."""
        try:
            clock = Path(self._clock_record.read_text().strip())
        except OSError as exc:
            raise AsteriskError("Asterisk was not started with a fake clock (up(faketime_file=...))") from exc
        try:
            self._write_atomic(clock, f"{'+' if seconds >= 0 else '-'}{abs(int(seconds))}s\n", mode=0o644)
        except OSError as exc:
            raise AsteriskError(f"cannot write the clock file {clock}: {exc}") from exc
        if not wait:
            return
        deadline = time.monotonic() + CLOCK_TIMEOUT
        while not abs(self._epoch_or_none() - time.time() - seconds) <= 1.5:  # NaN: retry
            if time.monotonic() > deadline:
                raise AsteriskError(f"Asterisk's clock did not move to offset {seconds} s within {CLOCK_TIMEOUT:.0f} s")
            time.sleep(0.1)

    def _epoch_or_none(self) -> float:
        """EPOCH, or NaN when the AMI session was cut: an AMI connection accepted just as the fake
        clock leaps forward by hours fails Asterisk's (wall-clock) auth timeout and is closed."""
        try:
            return float(self.epoch())
        except AsteriskError:
            return float("nan")

    def epoch(self) -> int:
        """Asterisk's ${EPOCH} (its wall clock, faked or not), read with AMI Getvar."""
        s = self.settings
        request = (f"Action: Login\r\nActionID: login\r\nUsername: {s.ami_user}\r\nSecret: {s.ami_secret}\r\n"
                   "Events: off\r\n\r\nAction: Getvar\r\nActionID: epoch\r\nVariable: EPOCH\r\n\r\n"
                   "Action: Logoff\r\n\r\n")
        data = b""
        try:
            with socket.create_connection((s.bind_host, s.ami_port), timeout=5) as sock:
                sock.sendall(request.encode())
                while b"Goodbye" not in data and b"Thanks for all the fish" not in data:
                    chunk = sock.recv(4096)
                    if not chunk:
                        break
                    data += chunk
        except OSError as exc:
            raise AsteriskUnavailable(f"AMI at {s.bind_host}:{s.ami_port} not reachable: {exc}") from exc
        text = data.decode(errors="replace")
        m = re.search(r"ActionID: epoch\r\n(?:[^\r\n]*\r\n)*?Value: (\d+)", text)
        if m is None:
            raise AsteriskError(f"AMI Getvar EPOCH failed: {text.strip()[-300:]}")
        return int(m.group(1))
