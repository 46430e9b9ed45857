"""A cluster for the e2e tests: N real Asterisk 22 nodes, each in its own network namespace with
its own address, behind a real Kamailio (dispatcher) the orchestrator configured; one sipp
carrier on the bridge; callers on loopback calling Kamailio.

Node 1's instance holds the generated dialplan; the others load the same files
(Settings.dialplan_from). The orchestrator reaches every node's AMI over the bridge."""

from __future__ import annotations

import asyncio
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import yaml

from orchestrator.asterisk.ami import Ami
from orchestrator.asterisk.runtime import AsteriskRuntime
from orchestrator.domain.cluster import Node
from orchestrator.edge import kamailio
from orchestrator.generate.kamailio import Edge
from orchestrator.settings import load_settings
from tests.harness.netns import Network
from tests.harness.sipp import CallResult, Carrier, free_port

NODE_SIP_PORT = 5060  # every node has its own address, so all may use the standard port
NODE_AMI_PORT = 5038
ORCHESTRATOR = str(Path(sys.executable).parent / "orchestrator")


@dataclass
class Cluster:
    network: Network
    runtimes: list[AsteriskRuntime]
    nodes: list[Node]
    edge: Edge
    kamailio: kamailio.Kamailio
    carrier: Carrier
    workdir: Path
    front_port: int
    env: dict[str, str]  # the orchestrator's environment for this cluster (CLI)

    def runtime(self, name: str) -> AsteriskRuntime:
        return self.runtimes[[n.name for n in self.nodes].index(name)]

    def node_of(self, uri: str) -> str:
        return next(n.name for n in self.nodes if n.uri == uri)

    def kill(self, name: str) -> float:
        """SIGKILL the node's Asterisk (a crash: no goodbye to anyone); the wall-clock moment."""
        pid = int(self.runtime(name).pid_file.read_text().strip())
        os.kill(pid, signal.SIGKILL)
        killed = time.time()
        while Path(f"/proc/{pid}").exists() and "State:\tZ" not in _status(pid):
            time.sleep(0.01)
        return killed

    def routes(self) -> list[tuple[float, str, str, bool]]:
        """Kamailio's log: (wall clock, Call-ID, node, True for a routing attempt / False for a
        node found dead) in order."""
        out = []
        for line in self.kamailio.log_file.read_text(errors="replace").splitlines():
            m = re.search(r"svc-(route|dead) (\d+\.\d+) (\S+) (\S+?):?\s", line + " ")
            if m:
                out.append((float(m.group(2)), m.group(3), self.node_of(m.group(4)), m.group(1) == "route"))
        return out


def _node_runtime(state: Path, network: Network, index: int, carrier_port: int, primary: AsteriskRuntime | None,
                  rtp_start: int, ami_secret: str, count_url: str) -> tuple[AsteriskRuntime, Node]:
    ns, address = network.add_node(index)
    env = {
        "SVC_STATE_DIR": str(state),
        "SVC_INSTANCE": f"node{index}-{uuid.uuid4().hex[:6]}",
        "SVC_BIND_HOST": address,
        "SVC_SIP_PORT": str(NODE_SIP_PORT),
        "SVC_AMI_PORT": str(NODE_AMI_PORT),
        "SVC_HTTP_PORT": "8088",
        "SVC_RTP_START": str(rtp_start),
        "SVC_RTP_END": str(rtp_start + 400),
        "SVC_CARRIER_HOST": network.host_address,
        "SVC_CARRIER_PORT": str(carrier_port),
        "SVC_AMI_USER": "e2e",
        "SVC_AMI_SECRET": ami_secret,
        "SVC_ARI_USER": "e2e",
        "SVC_ARI_SECRET": secrets.token_urlsafe(16),
        "SVC_NETNS": ns,
        "SVC_AMI_PERMIT": network.host_address,
        "SVC_RECORDING_SPOOL_MB": "0",
        "SVC_EDGE_COUNT_URL": count_url,
        "SVC_SYSTEM_NAME": f"node{index}",
    }
    if primary is not None:
        env["SVC_DIALPLAN_FROM"] = str(primary.etc_dir)
    rt = AsteriskRuntime(load_settings(env))
    return rt, Node(f"node{index}", address, NODE_SIP_PORT, address, NODE_AMI_PORT)


@contextmanager
def cluster(workdir: Path, size: int) -> Iterator[Cluster]:
    state = workdir / "state"
    with ExitStack() as stack:
        network = Network().open()
        stack.callback(network.close)
        carrier_port = free_port()
        runtimes: list[AsteriskRuntime] = []
        nodes: list[Node] = []
        ami_secret = secrets.token_urlsafe(16)  # one login for every node, as the orchestrator expects
        front_port = free_port()
        edge = Edge(("127.0.0.1", network.host_address), front_port, workdir / "kamailio", log_routes=True,
                    count_port=free_port(socket.SOCK_STREAM))
        for i in range(1, size + 1):
            rt, node = _node_runtime(state, network, i, carrier_port, runtimes[0] if runtimes else None, 30000,
                                     ami_secret, edge.count_url)
            rt.ensure_installed()
            rt.prepare()
            runtimes.append(rt)
            nodes.append(node)
            stack.callback(_remove, rt)
        for rt in runtimes:
            rt.up()
        carrier = stack.enter_context(Carrier(carrier_port, workdir / "carrier", host=network.host_address))
        cluster_file = workdir / "cluster.yaml"
        cluster_file.write_text(yaml.safe_dump({
            "edge": {"listen": list(edge.listen), "port": front_port, "run_dir": str(edge.run_dir), "log_routes": True,
                     "count_port": edge.count_port},
            "nodes": [{"name": n.name, "sip": f"{n.sip_host}:{n.sip_port}", "ami": f"{n.ami_host}:{n.ami_port}"}
                      for n in nodes]}))
        env = cli_env(runtimes[0], cluster_file, workdir / "cluster.db")
        cli(env, "cluster", "edge")  # the orchestrator writes and checks Kamailio's files
        kam = kamailio.Kamailio(edge, workdir / "kamailio.log")
        kam.start()
        stack.callback(kam.stop)
        yield Cluster(network, runtimes, nodes, edge, kam, carrier, workdir, front_port, env)


def cli_env(primary: AsteriskRuntime, cluster_file: Path, db: Path) -> dict[str, str]:
    s = primary.settings
    return {**os.environ, "SVC_STATE_DIR": str(s.state_dir), "SVC_INSTANCE": s.instance_name,
            "SVC_AMI_USER": s.ami_user, "SVC_AMI_SECRET": s.ami_secret, "SVC_ARI_SECRET": s.ari_secret,
            "SVC_CLUSTER_FILE": str(cluster_file), "SVC_DB_URL": f"sqlite:///{db}"}


def cli(env: dict[str, str], *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([ORCHESTRATOR, *args], env=env, capture_output=True, text=True, timeout=120, check=False)
    if check and proc.returncode != 0:
        raise AssertionError(f"orchestrator {' '.join(args)} exited {proc.returncode}: {proc.stderr}")
    return proc


async def acli(env: dict[str, str], *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """``cli`` from a test whose event loop also runs a live controller: in a thread, so the
    controller keeps reading its AMI events meanwhile (docs/testing.md)."""
    return await asyncio.to_thread(cli, env, *args, check=check)


def _status(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return ""


def _remove(rt: AsteriskRuntime) -> None:
    rt.down()
    rt.release_spool()
    if rt.chrooted:
        shutil.rmtree(rt.instance_dir, ignore_errors=True)


def ringing_after(result: CallResult) -> float:
    """Seconds from the INVITE sent to the first 180, or the 200 when Asterisk passed the carrier's
    ringing and answer on together (sipp's message log timestamps)."""
    assert result.message_log is not None and result.final_code == 200, result
    stamps = re.findall(r"^-+ (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+)\s*\n(UDP message \w+)[^\n]*\n\n(.*)$",
                        result.message_log.read_text(errors="replace"), re.M)
    sent = [datetime.fromisoformat(t) for t, kind, first in stamps if "sent" in kind and first.startswith("INVITE")]
    ringing = [datetime.fromisoformat(t) for t, kind, first in stamps
               if "received" in kind and re.match(r"SIP/2\.0 (180|200) ", first)]
    assert sent and ringing, (result, stamps)
    return (ringing[0] - sent[0]).total_seconds()


def bye_answered(log: Path | None) -> set[str]:
    """Call-IDs whose BYE got its 200 (sipp's message log)."""
    assert log is not None
    out = set()
    for received in log.read_text(errors="replace").split("message received")[1:]:
        block = received.split("-----------------------------------------------")[0]  # not what was sent next
        if re.search(r"^\s*SIP/2\.0 200", block, re.M) and re.search(r"^CSeq:\s*\d+ BYE", block, re.M | re.I):
            cid = re.search(r"^Call-ID:\s*(\S+)", block, re.M | re.I)
            if cid:
                out.add(cid.group(1))
    return out


async def until(condition: Callable[[], bool], what: str | Callable[[], str], timeout: float = 15.0) -> None:
    """Wait for ``condition``; ``what`` (or what it returns at the time-out) names it."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for: {what() if callable(what) else what}"
        await asyncio.sleep(0.1)


async def no_channels(ami: Ami, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while (n := len(await ami.channels())) > 0:
        assert time.monotonic() < deadline, f"{n} channels still up"
        await asyncio.sleep(0.1)
