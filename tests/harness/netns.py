"""Network namespaces for a cluster test: one bridge in the host's namespace (no physical port
on it, a private /24 chosen at random so parallel sessions do not collide) and one namespace per
Asterisk node with its own address on that bridge. Kamailio and the carrier listen on the
bridge's address; callers stay on loopback and reach Kamailio there.

Needs root (CAP_NET_ADMIN) and iproute2; everything is removed again by ``close``."""

from __future__ import annotations

import contextlib
import random
import subprocess
import uuid
from dataclasses import dataclass, field


def _ip(*args: str) -> None:
    proc = subprocess.run(["ip", *args], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"ip {' '.join(args)}: {proc.stderr.strip()}")


@dataclass
class Network:
    tag: str = field(default_factory=lambda: uuid.uuid4().hex[:5])
    subnet: str = field(default_factory=lambda: f"10.{random.randrange(64, 250)}.{random.randrange(1, 250)}")
    namespaces: list[str] = field(default_factory=list)

    @property
    def bridge(self) -> str:
        return f"svb{self.tag}"

    @property
    def host_address(self) -> str:
        return f"{self.subnet}.1"

    def open(self) -> Network:
        _ip("link", "add", self.bridge, "type", "bridge")
        _ip("addr", "add", f"{self.host_address}/24", "dev", self.bridge)
        _ip("link", "set", self.bridge, "up")
        return self

    def add_node(self, index: int) -> tuple[str, str]:
        """A namespace with one interface on the bridge: (namespace name, its address)."""
        ns, veth = f"svn{self.tag}{index}", f"svv{self.tag}{index}"
        address = f"{self.subnet}.{10 + index}"
        _ip("netns", "add", ns)
        self.namespaces.append(ns)
        _ip("link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", ns)
        _ip("link", "set", veth, "master", self.bridge, "up")
        _ip("-n", ns, "addr", "add", f"{address}/24", "dev", "eth0")
        _ip("-n", ns, "link", "set", "eth0", "up")
        _ip("-n", ns, "link", "set", "lo", "up")
        return ns, address

    def close(self) -> None:
        for ns in self.namespaces:
            with contextlib.suppress(RuntimeError):
                _ip("netns", "del", ns)  # takes the veth pair with it
        self.namespaces.clear()
        with contextlib.suppress(RuntimeError):
            _ip("link", "del", self.bridge)
