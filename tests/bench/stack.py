"""The benchmark stack: one private Asterisk 22 on free loopback ports, the sipp carrier, the
dialplan configurations under test, and (for configuration d) the live controller.

Every configuration runs on the SAME Asterisk instance with the same static configuration; only the
files in ``etc/svc`` (the generated dialplan) are swapped and reloaded between them, so bare Asterisk
and the generated dialplan are measured under identical conditions.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from orchestrator.asterisk.runtime import AsteriskRuntime
from orchestrator.settings import load_settings
from tests.harness.sipp import HOST, SCENARIOS, SIPP, free_port, rtp_ports
from tests.plans import basis_number, standaard_number

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parents[1]

# (a) the minimal hand-written dialplan: the only svc file while bare Asterisk is measured.
BARE_DIALPLAN = "[svc-entry]\nexten => _X.,1,Dial(PJSIP/${EXTEN}@carrier)\n"

# With (a) for the key -> prompt figure (tests/bench/flows.py): two menus as bare Asterisk would
# write them, answering the same number as the generated flow of two menus.
BARE_MENU = ("exten => 08009000002,1,Answer()\n same => n,Read(K1,beep,1,,1,3)\n"
             " same => n,Read(K2,beep,1,,1,3)\n same => n,Hangup()\n")
FLOW_PDD = "08009000001"  # Premium: a flow of three decisions, then a dial
FLOW_MENU = "08009000002"  # Premium: a flow of two menus
FLOW_PDD_NOLOCK = "08009000003"  # Premium: time, region, time, then a dial (no split)

CALLER = "0201234567"  # an Amsterdam caller: region "amsterdam" of the Standaard number
BASIS = "08001234561"
STANDAARD = "08007654321"
PREMIUM = "09001234562"
PREMIUM_LIMIT = 20


@dataclass(frozen=True)
class Config:
    key: str  # a, b, c, d
    label: str
    number: str  # what sipp dials
    files: str  # "bare" or "generated"
    live: bool = False


CONFIGS = (
    Config("a", "bare Asterisk: one Dial() line", BASIS, "bare"),
    Config("b", "Basis number (generated)", BASIS, "generated"),
    Config("c", "Standaard: blocking, regions, roster, split", STANDAARD, "generated"),
    Config("d", "as (c) + live controller running", STANDAARD, "generated", live=True),
)


def bench_plan() -> dict[str, Any]:
    """The plan behind (b), (c) and the 0900 accuracy run. Every destination ends in 1 (the carrier
    answers). The Standaard roster is open all week so every call takes regions → roster → split."""
    all_week = {d: [{"start": "00:00", "end": "24:00", "exit": "open"}]
                for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
    standaard = standaard_number(
        number="0800 7654321",
        blocking={"anonymous": True, "foreign": False, "blacklist": ["+31 20 999 0000", "+31 10 999 0001"]},
    )
    standaard["rosters"]["office"]["week"] = all_week
    standaard["rosters"]["office"]["public_holidays"] = False
    standaard["rosters"]["office"]["closed_dates"] = []
    premium = {"number": "0900 1234562", "routings": {"main": [{"number": "+31205550011"}]}, "active": "main",
               "tariff": {"per_call": "0.10", "max_duration": PREMIUM_LIMIT, "warning_before": 10}}
    return {"tenant": "bench", "numbers": [basis_number(number="0800 1234561"), standaard, premium]}


def _free_tcp() -> int:
    return free_port(socket.SOCK_STREAM)


class Stack:
    """Asterisk + carrier for one benchmark run; ``close()`` stops everything it started."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        workdir.mkdir(parents=True, exist_ok=True)
        udp: set[int] = set()
        while len(udp) < 2:
            udp.add(free_port())
        sip_port, carrier_port = sorted(udp)
        rtp_start, rtp_end = rtp_ports(2000)
        self.env = {
            "SVC_STATE_DIR": str(workdir / "state"),
            "SVC_INSTANCE": f"bench-{uuid.uuid4().hex[:6]}",
            "SVC_BIND_HOST": HOST,
            "SVC_SIP_PORT": str(sip_port),
            "SVC_AMI_PORT": str(_free_tcp()),
            "SVC_HTTP_PORT": str(_free_tcp()),
            "SVC_RTP_START": str(rtp_start),
            "SVC_RTP_END": str(rtp_end),
            "SVC_CARRIER_HOST": HOST,
            "SVC_CARRIER_PORT": str(carrier_port),
            "SVC_AMI_USER": "bench",
            "SVC_AMI_SECRET": secrets.token_urlsafe(16),
            "SVC_ARI_USER": "bench",
            "SVC_ARI_SECRET": secrets.token_urlsafe(16),
            "SVC_DB_URL": f"sqlite:///{workdir / 'bench.db'}",
        }
        if "SVC_ROOTFS_CACHE" in os.environ:
            self.env["SVC_ROOTFS_CACHE"] = os.environ["SVC_ROOTFS_CACHE"]
        self.settings = load_settings(self.env)
        self.runtime = AsteriskRuntime(self.settings, progress=lambda s: print(f"  {s}", flush=True))
        self.carrier: subprocess.Popen[bytes] | None = None
        self.generated: dict[str, str] = {}
        self.current_files: str | None = None

    # ------------------------------------------------------------ Asterisk
    def up(self) -> None:
        self.runtime.ensure_installed()
        self.runtime.prepare()
        self.runtime.up()

    def asterisk_pid(self) -> int:
        pid = self.runtime.status()["pid"]
        assert isinstance(pid, int), "Asterisk is not running"
        return pid

    def asterisk_rss_kb(self) -> int:
        return rss_kb(self.asterisk_pid())

    def channels(self) -> int:
        out = self.runtime.rx("core show channels count")
        for line in out.splitlines():
            if "active channel" in line:
                return int(line.split()[0])
        return 0

    def wait_idle(self, timeout: float = 30.0) -> None:
        """Wait (bounded) until no call is left in Asterisk, so one load run never feeds the next."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.channels() == 0:
                return
            time.sleep(0.5)
        self.runtime.rx("channel request hangup all")
        time.sleep(1)

    def use(self, which: str) -> None:
        """Load the bare one-line dialplan (``bare-menu``: plus two bare menus) or the generated
        files (swap only etc/svc, then reload)."""
        if which == self.current_files:
            return
        from orchestrator.asterisk.dialplan_files import DialplanFiles

        files = {"bare": {"bare.conf": BARE_DIALPLAN}, "bare-menu": {"bare.conf": BARE_DIALPLAN + BARE_MENU}}.get(
            which, self.generated)
        assert files, "apply the bench plan first"
        DialplanFiles(self.runtime.etc_dir).write(files)
        out = self.runtime.rx("dialplan reload", timeout=120)
        if "Dialplan reloaded" not in out and out.strip():
            raise RuntimeError(f"dialplan reload: {out}")
        self.current_files = which

    # ------------------------------------------------------------ carrier
    def start_carrier(self, trace_msg: Path | None = None) -> None:
        self.stop_carrier()
        port = self.settings.carrier_port
        cmd = [SIPP, "-sf", str(SCENARIOS / "carrier.xml"), "-i", HOST, "-p", str(port),
               "-mp", str(free_port()), "-cp", str(free_port()), "-nostdin",
               "-max_recv_loops", "10000", "-trace_err", "-error_file", str(self.workdir / "carrier-errors.log")]
        if trace_msg is not None:
            trace_msg.unlink(missing_ok=True)
            cmd += ["-trace_msg", "-message_file", str(trace_msg)]
        with open(self.workdir / "carrier-screen.log", "wb") as screen:
            self.carrier = subprocess.Popen(cmd, stdout=screen, stderr=subprocess.STDOUT, cwd=self.workdir)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.carrier.poll() is not None:
                raise RuntimeError("carrier sipp exited at start")
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                try:
                    s.bind((HOST, port))
                except OSError:
                    return
            time.sleep(0.05)
        raise RuntimeError("carrier sipp did not bind")

    def stop_carrier(self) -> None:
        stop_process(self.carrier)
        self.carrier = None

    def close(self) -> None:
        self.stop_carrier()
        with contextlib.suppress(Exception):
            self.runtime.down()
            self.runtime.release_spool()
        if self.runtime.chrooted:
            shutil.rmtree(self.runtime.instance_dir, ignore_errors=True)


def stop_process(proc: subprocess.Popen[Any] | None, timeout: float = 10.0) -> None:
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def rss_kb(pid: int, field: str = "VmRSS") -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


@dataclass
class LiveProcess:
    proc: subprocess.Popen[bytes]
    port: int  # its /health and /metrics

    def event_to_redis(self) -> dict[str, float]:
        """The controller's own histogram ``svc_event_to_redis_seconds`` (from an AMI event to the
        figures in Redis, every write since it started): how many writes, their mean, and the share
        within 100 ms and within 1 s."""
        import urllib.request

        with urllib.request.urlopen(f"http://{HOST}:{self.port}/metrics", timeout=5) as r:
            text = r.read().decode()
        values: dict[str, float] = {}
        for line in text.splitlines():
            if line.startswith("svc_event_to_redis_seconds_"):
                name, _, value = line.rpartition(" ")
                values[name] = float(value)
        count = values.get("svc_event_to_redis_seconds_count", 0.0) or float("nan")
        return {"writes": count, "mean_ms": values.get("svc_event_to_redis_seconds_sum", 0.0) / count * 1000,
                "within_100ms": values.get('svc_event_to_redis_seconds_bucket{le="0.1"}', 0.0) / count,
                "within_1s": values.get('svc_event_to_redis_seconds_bucket{le="1.0"}', 0.0) / count}


@contextlib.contextmanager
def live_controller(stack: Stack, redis_url: str) -> Iterator[LiveProcess]:
    """``orchestrator serve`` as its own process (as in production), bounded start, always stopped."""
    import urllib.request

    live_port = _free_tcp()
    env = dict(os.environ) | stack.env | {"SVC_REDIS_URL": redis_url, "SVC_LIVE_PORT": str(live_port)}
    cmd = [sys.executable, "-c", "from orchestrator.cli.main import main; main()", "serve", "--log-level", "WARNING"]
    log = open(stack.workdir / "live-controller.log", "ab")  # noqa: SIM115 - the child keeps it
    proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=REPO)
    log.close()
    try:
        deadline = time.monotonic() + 30
        healthy = False
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                with urllib.request.urlopen(f"http://{HOST}:{live_port}/health", timeout=1) as r:
                    healthy = r.status == 200
            except OSError:
                healthy = False
            if healthy:
                break
            time.sleep(0.3)
        if not healthy:
            raise RuntimeError("the live controller did not report healthy within 30 s: "
                               + (stack.workdir / "live-controller.log").read_text(errors="replace")[-1500:])
        yield LiveProcess(proc, live_port)
    finally:
        stop_process(proc)
