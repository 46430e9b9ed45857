"""`make run` (the README's first command) brings up the whole one-machine stack -- Asterisk 22,
Redis with a password, the live controller, the REST API, the recordings worker -- and right after
it `orchestrator status` shows every part up and the figures of a real call; `orchestrator stack
down` stops them all. Own state folder, instance and free ports: it runs next to other tests."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from orchestrator.asterisk.runtime import AsteriskRuntime
from orchestrator.settings import load_settings
from tests.harness.sipp import Carrier, free_port, place_call, rtp_ports

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
ORCHESTRATOR = str(REPO / ".venv" / "bin" / "orchestrator")
PARTS = ("Asterisk", "Redis", "live controller", "REST API", "recordings worker")
NUMBER = "+31880200002"  # the demo plan's 088 number: straight to a destination that answers


@dataclass
class RunStack:
    env: dict[str, str]
    run: subprocess.CompletedProcess[str]
    workdir: Path

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([ORCHESTRATOR, *args], env=self.env, capture_output=True, text=True, timeout=60,
                              check=False)

    def pids(self) -> dict[str, int]:
        run_dir = Path(self.env["SVC_STATE_DIR"]) / "run"
        return {p.stem: int(p.read_text()) for p in run_dir.glob("*.pid")}


def _ports(env: dict[str, str]) -> None:
    udp: set[int] = set()
    while len(udp) < 2:
        udp.add(free_port())
    tcp: set[int] = set()
    while len(tcp) < 5:
        tcp.add(free_port(socket.SOCK_STREAM))
    rtp, rtp_end = rtp_ports(100)
    env.update(zip(("SVC_SIP_PORT", "SVC_CARRIER_PORT"), map(str, sorted(udp)), strict=True))
    env.update(zip(("SVC_AMI_PORT", "SVC_HTTP_PORT", "SVC_LIVE_PORT", "SVC_API_PORT", "SVC_REDIS_PORT"),
                   map(str, sorted(tcp)), strict=True))
    env.update(SVC_RTP_START=str(rtp), SVC_RTP_END=str(rtp_end))


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunStack]:
    workdir = tmp_path_factory.mktemp("stack")
    env = {k: v for k, v in os.environ.items() if not k.startswith("SVC_")}
    env.update(SVC_STATE_DIR=str(workdir / "var"), SVC_INSTANCE=f"stack-{uuid.uuid4().hex[:6]}",
               SVC_RECORDING_SPOOL_MB="16")
    _ports(env)
    run = subprocess.run(["make", "-s", "run"], cwd=REPO, env=env, capture_output=True, text=True, timeout=300,
                         check=False)
    s = RunStack(env, run, workdir)
    try:
        yield s
    finally:
        s.cli("stack", "down")
        rt = AsteriskRuntime(load_settings({**env, "SVC_AMI_SECRET": "-", "SVC_ARI_SECRET": "-"}))
        rt.release_spool()
        if rt.chrooted:
            shutil.rmtree(rt.instance_dir, ignore_errors=True)


def test_make_run_brings_up_every_part_and_says_where(stack: RunStack) -> None:
    assert stack.run.returncode == 0, stack.run.stderr[-3000:]
    e, err = stack.env, stack.run.stderr
    assert f"SIP 127.0.0.1:{e['SVC_SIP_PORT']}/udp, AMI 127.0.0.1:{e['SVC_AMI_PORT']}" in err
    assert f"redis://:***@127.0.0.1:{e['SVC_REDIS_PORT']}/0" in err
    assert f"http://127.0.0.1:{e['SVC_LIVE_PORT']}/health" in err
    assert f"http://127.0.0.1:{e['SVC_API_PORT']}/" in err
    assert "Stop everything:  orchestrator stack down" in stack.run.stdout
    assert set(stack.pids()) == {"redis", "live", "api", "recordings"}


def test_redis_has_a_generated_password_and_never_shows_it(stack: RunStack) -> None:
    password = (Path(stack.env["SVC_STATE_DIR"]) / "secrets" / "SVC_REDIS_PASSWORD").read_text().strip()
    assert len(password) >= 24
    with socket.create_connection(("127.0.0.1", int(stack.env["SVC_REDIS_PORT"])), timeout=5) as sock:
        sock.sendall(b"PING\r\n")
        assert sock.recv(200).startswith(b"-NOAUTH")  # no password, no answer
    status = stack.cli("status")
    assert password not in stack.run.stdout + stack.run.stderr + status.stdout + status.stderr


def test_status_right_after_shows_every_part_up_and_a_real_call(stack: RunStack, tmp_path: Path) -> None:
    status = stack.cli("status")
    assert status.returncode == 0, status.stderr
    for part in PARTS:
        assert re.search(rf"^{part}\s+up\s+pid \d+", status.stdout, re.M), status.stdout
    with Carrier(int(stack.env["SVC_CARRIER_PORT"]), tmp_path / "carrier"):
        call = place_call(int(stack.env["SVC_SIP_PORT"]), "0880200002", "0201234567", workdir=tmp_path)
    assert call.answered, call
    deadline = time.monotonic() + 15
    answered = None
    while time.monotonic() < deadline:  # the live controller publishes the finished call to Redis
        out = stack.cli("status").stdout
        row = re.search(rf"^{re.escape(NUMBER)}\s+(\d+)\s+(\d+)", out, re.M)
        answered = row and int(row.group(2))
        if answered == 1:
            break
        time.sleep(0.2)
    assert answered == 1, out


def test_stack_down_stops_every_part(stack: RunStack) -> None:
    pids = stack.pids()
    down = stack.cli("stack", "down")
    assert down.returncode == 0, down.stderr
    assert "stopped: api, live, recordings, redis, asterisk" in down.stderr
    for name, pid in pids.items():
        assert not Path(f"/proc/{pid}").exists() or "Z" in Path(f"/proc/{pid}/stat").read_text().split()[2], name
    status = stack.cli("stack", "status")
    assert status.returncode == 1
    assert all(re.search(rf"^{part}\s+down", status.stdout, re.M) for part in PARTS), status.stdout
