"""The orchestrator in containers (deploy/containers, podman): the images build from the Debian sid
rootfs without a registry, both pods come up healthy (PostgreSQL, Redis, Asterisk 22, live
controller, REST API, recordings worker), a plan applied inside reaches the containerised
Asterisk, a real SIP call from the host goes through it to the carrier and shows in `orchestrator
status`; a killed Asterisk is restarted by the restart policy and takes calls again; down stops it.

Own project name (pods, volumes) and free ports: it runs next to other tests and a real install.
Images are cached by podman between runs (a fresh machine builds them in ~2-3 min)."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from orchestrator.processes.daemon import http_ok
from tests.harness.sipp import Carrier, free_port, place_call, rtp_ports

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "deploy" / "containers" / "svcnum-podman"
NUMBER = "+31880200002"  # the demo plan's 088 number: straight to a destination that answers
CONTAINERS = ("data-postgres", "data-redis", "asterisk", "live", "api", "recordings")


@dataclass
class Pods:
    project: str
    env: dict[str, str]
    ports: dict[str, int]

    def script(self, command: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(SCRIPT), command], env=self.env, capture_output=True, text=True,
                              timeout=timeout, check=False)

    def podman(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["podman", *args], env=self.env, capture_output=True, text=True, timeout=120,
                              check=False)

    def orchestrator(self, *args: str) -> subprocess.CompletedProcess[str]:
        return self.podman("exec", f"{self.project}-api", "orchestrator", *args)


def _settings(path: Path) -> dict[str, int]:
    udp: set[int] = set()
    while len(udp) < 2:
        udp.add(free_port())
    tcp: set[int] = set()
    while len(tcp) < 4:
        tcp.add(free_port(socket.SOCK_STREAM))
    ports = dict(zip(("SVC_SIP_PORT", "SVC_CARRIER_PORT"), sorted(udp), strict=True))
    ports |= dict(zip(("SVC_AMI_PORT", "SVC_HTTP_PORT", "SVC_LIVE_PORT", "SVC_API_PORT"), sorted(tcp), strict=True))
    rtp, rtp_end = rtp_ports(100)
    ports |= {"SVC_RTP_START": rtp, "SVC_RTP_END": rtp_end}
    text = (REPO / "deploy" / "containers" / "settings.yaml").read_text()
    for key, value in ports.items():
        text, n = re.subn(rf'^(  {key}: )"\d+"', rf'\g<1>"{value}"', text, flags=re.M)
        assert n == 1, key
    path.write_text(text)
    return ports


@pytest.fixture(scope="module")
def pods(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pods]:
    workdir = tmp_path_factory.mktemp("containers")
    project = f"svct{uuid.uuid4().hex[:6]}"
    ports = _settings(workdir / "settings.yaml")
    env = {**os.environ, "SVC_PODMAN_PROJECT": project, "SVC_PODMAN_SETTINGS": str(workdir / "settings.yaml")}
    p = Pods(project, env, ports)
    built = p.script("build")
    assert built.returncode == 0, built.stderr[-3000:]
    try:
        up = p.script("up", timeout=300)
        assert up.returncode == 0, up.stdout + up.stderr[-3000:]
        yield p
    finally:
        p.script("down")
        p.podman("volume", "rm", "-f", f"{project}-state", f"{project}-pgdata", f"{project}-redis")


def test_every_container_is_healthy_and_the_stack_sees_each_part(pods: Pods) -> None:
    health = pods.script("health")
    assert health.returncode == 0, health.stdout
    for name in CONTAINERS:
        assert f"{pods.project}-{name} healthy" in health.stdout
    status = pods.orchestrator("status")
    assert status.returncode == 0, status.stderr
    for part in ("Asterisk", "Redis", "live controller", "REST API", "recordings worker"):
        assert re.search(rf"^{part}\s+up\b", status.stdout, re.M), status.stdout
    assert pods.podman("exec", f"{pods.project}-asterisk", "asterisk", "-V").stdout.startswith("Asterisk 22.")


def _answered(pods: Pods) -> int | None:
    row = re.search(rf"^{re.escape(NUMBER)}\s+\d+\s+(\d+)", pods.orchestrator("status").stdout, re.M)
    return int(row.group(1)) if row else None


def _call_counted(pods: Pods, tmp_path: Path, expected: int) -> None:
    with Carrier(pods.ports["SVC_CARRIER_PORT"], tmp_path / "carrier"):
        call = place_call(pods.ports["SVC_SIP_PORT"], "0880200002", "0201234567", workdir=tmp_path)
    assert call.answered, call
    deadline = time.monotonic() + 15
    while _answered(pods) != expected and time.monotonic() < deadline:
        time.sleep(0.3)
    assert _answered(pods) == expected


def test_a_plan_applied_inside_routes_a_real_call_through_the_containers(pods: Pods, tmp_path: Path) -> None:
    applied = pods.orchestrator("apply", "orchestrator/demo-plan.yaml")
    assert applied.returncode == 0, applied.stderr
    _call_counted(pods, tmp_path, 1)


def test_a_killed_asterisk_is_restarted_and_takes_calls_again(pods: Pods, tmp_path: Path) -> None:
    name = f"{pods.project}-asterisk"
    pid = int(pods.podman("inspect", name, "--format", "{{.State.Pid}}").stdout)
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        state = pods.podman("inspect", name, "--format", "{{.RestartCount}} {{.State.Pid}}").stdout.split()
        # The live controller saw the old AMI connection close at the kill (EOF); its /health is
        # 200 again only once it logged in to the new Asterisk, so the next call is followed.
        if state and int(state[0]) >= 1 and int(state[1]) not in (0, pid) \
                and pods.podman("healthcheck", "run", name).returncode == 0 \
                and http_ok(f"http://127.0.0.1:{pods.ports['SVC_LIVE_PORT']}/health"):
            break
        time.sleep(0.3)
    else:
        pytest.fail(f"{name} was not restarted healthy: {state}")
    _call_counted(pods, tmp_path, 2)


def test_down_removes_the_pods_and_keeps_the_volumes(pods: Pods) -> None:
    down = pods.script("down")
    assert down.returncode == 0, down.stderr
    left = pods.podman("ps", "-a", "--format", "{{.Names}}").stdout.split()
    assert not [n for n in left if n.startswith(pods.project)], left
    volumes = pods.podman("volume", "ls", "--format", "{{.Name}}").stdout.split()
    assert f"{pods.project}-state" in volumes and f"{pods.project}-pgdata" in volumes
