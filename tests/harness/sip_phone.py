"""An agent's SIP phone played by sipp. It REGISTERs with digest auth as its PJSIP endpoint from its
own port (deploy/sipp/agent_register.xml); then a long-running sipp on that same port answers every
call Asterisk sends to the registered contact, with audio, and Asterisk's qualify OPTIONS with 200
(agent_phone.xml). ``stop()`` ends it without unregistering, like a phone that lost power or network:
its OPTIONS go unanswered. It can also dial the agent state codes *55 / *56 / *57, answering
Asterisk's challenge (agent_code.xml)."""

from __future__ import annotations

import re
import subprocess
import uuid
from datetime import datetime
from pathlib import Path
from types import TracebackType

from tests.harness.sipp import HOST, SCENARIOS, SIPP, free_port, wait_bound


def responses(trace: str, method: str) -> list[int]:
    """Final status codes of the ``method`` requests in a sipp message trace, one per request
    (CSeq), in order. A request retransmitted on a busy machine is answered more than once:
    by the same transaction, or (Asterisk's challenges are stateless) by a second 401."""
    codes: dict[int, int] = {}
    for block in trace.split("message received")[1:]:
        m = re.search(r"^\s*SIP/2\.0 (\d{3})", block.split("\n", 2)[-1], re.M)
        cseq = re.search(rf"^CSeq:\s*(\d+) {method}", block, re.M | re.I)
        if m and cseq and int(m.group(1)) >= 200:
            codes.setdefault(int(cseq.group(1)), int(m.group(1)))
    return list(codes.values())


class Phone:
    def __init__(self, asterisk_port: int, username: str, password: str, workdir: Path, *,
                 asterisk_host: str = HOST, local_ip: str = HOST) -> None:
        """``asterisk_host`` / ``local_ip``: a cluster node's address, and the host's on its network."""
        self.asterisk_port, self.username, self.password = asterisk_port, username, password
        self.asterisk_host, self.local_ip = asterisk_host, local_ip
        self.workdir = workdir
        self.port = free_port()  # the phone's SIP port: registered as its contact, answered on
        self.log_file = workdir / f"phone-{self.port}-invites.log"
        self.trace_file = workdir / f"phone-{self.port}-messages.log"  # every SIP message, timestamped
        self._proc: subprocess.Popen[bytes] | None = None

    def _uac(self, scenario: str, service: str, *, password: str, port: int, extra: list[str],
             timeout: float = 20.0) -> str:
        """One run of a UAC scenario; returns its message trace."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        msg_file = self.workdir / f"{scenario}-{uuid.uuid4().hex[:8]}-messages.log"
        cmd = [SIPP, f"{self.asterisk_host}:{self.asterisk_port}", "-sf", str(SCENARIOS / scenario), "-s", service,
               "-key", "user", self.username, "-au", self.username, "-ap", password, *extra,
               "-i", self.local_ip, "-p", str(port), "-mp", str(free_port()), "-cp", str(free_port()),
               "-m", "1", "-l", "1", "-timeout", f"{int(timeout)}s", "-timeout_error",
               "-trace_msg", "-message_file", str(msg_file), "-nostdin"]
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=timeout + 10,
                       check=False, cwd=self.workdir)
        return msg_file.read_text(errors="replace") if msg_file.exists() else ""

    def register(self, password: str | None = None, *, port: int | None = None, expires: int = 300) -> list[int]:
        """REGISTER responses in order: [401, 200] when registered. Only while the answering sipp is
        stopped (same port), unless another ``port`` is given."""
        trace = self._uac("agent_register.xml", self.username, password=password or self.password,
                          port=port or self.port, extra=["-key", "expires", str(expires)])
        return responses(trace, "REGISTER")

    def dial(self, code: str, password: str | None = None) -> list[int]:
        """INVITE responses of a call to ``code`` from this phone (from another port: the answering
        sipp keeps its own)."""
        trace = self._uac("agent_code.xml", code, password=password or self.password, port=free_port(), extra=[])
        return responses(trace, "INVITE")

    def start(self) -> Phone:
        """Answer calls on the registered port."""
        cmd = [SIPP, "-sf", str(SCENARIOS / "agent_phone.xml"), "-i", HOST, "-p", str(self.port),
               "-mp", str(free_port()), "-cp", str(free_port()), "-trace_logs", "-log_file", str(self.log_file),
               "-trace_msg", "-message_file", str(self.trace_file), "-nostdin", "-max_recv_loops", "10000"]
        screen_file = self.workdir / f"phone-{self.port}-screen.log"
        with open(screen_file, "wb") as screen:
            self._proc = subprocess.Popen(cmd, stdout=screen, stderr=subprocess.STDOUT, cwd=self.workdir)
        wait_bound(self._proc, self.port, "phone", screen_file)  # else Asterisk's first OPTIONS/INVITE is lost
        return self

    def stop(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(5)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        self._proc = None

    def options_received(self) -> list[float]:
        """When (epoch seconds) the answering sipp got each of Asterisk's qualify OPTIONS."""
        try:
            trace = self.trace_file.read_text(errors="replace")
        except OSError:
            return []
        return [datetime.strptime(m.group(1), "%Y-%m-%d %H:%M:%S.%f").timestamp()  # sipp writes local time
                for m in re.finditer(r"^-+ (\S+ \S+)\nUDP message received \[\d+\] bytes :\n\nOPTIONS ", trace, re.M)]

    def invites(self) -> list[tuple[str, str]]:
        """(dialled user, caller) of every INVITE the phone answered."""
        try:
            return re.findall(r"^INVITE (\S+) FROM (\S+)", self.log_file.read_text(errors="replace"), re.M)
        except OSError:
            return []

    def __enter__(self) -> Phone:
        return self.start()

    def __exit__(self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()
