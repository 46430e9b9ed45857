"""sipp as the outside world of Asterisk: callers (one UAC process per call) and the carrier (one
UAS process playing the PSTN for all destination numbers).

The carrier decides by the LAST DIGIT of the dialled number: 1 (and 0, 5-9) answers, 2 is busy (486),
3 rings and never answers (200 + 487 on CANCEL), 4 is unreachable (503). See deploy/sipp/carrier.xml.

Every sipp gets its own SIP, media and control ports (sipp's defaults 6000/8888 collide when
many run at once).
"""

from __future__ import annotations

import random
import re
import shutil
import socket
import subprocess
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

SCENARIOS = Path(__file__).resolve().parents[2] / "deploy" / "sipp"  # shared with `make run`
HOST = "127.0.0.1"
SIPP = shutil.which("sipp") or "/usr/bin/sipp"


def free_port(kind: int = socket.SOCK_DGRAM) -> int:
    """A port the OS says is free now (racy by nature; good enough on loopback in tests)."""
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def rtp_ports(width: int) -> tuple[int, int]:
    """A random RTP port range for a test Asterisk, below the kernel's ephemeral ports.

    Below them, so a port Asterisk takes is never one a sipp (bound to port 0, or to a free_port())
    just let go: the old range (30000-59000) overlapped the ephemeral ports. Wide, because Asterisk
    picks each call's port at random in its range (res_rtp_asterisk.c): the wider it is, the less
    often a new call gets the port a call just left, to which that call's sender may still be
    sending for a moment (see deploy/sipp/make_dtmf_pcap.py)."""
    try:
        ephemeral = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        ephemeral = 32768
    top = min(ephemeral, 32768) - width - 2
    start = random.randrange(10000, max(top, 10002), 2)
    return start, start + width


def udp_bound(port: int) -> bool:
    """Whether some process has bound UDP ``port`` (read from /proc/net/udp: probing by binding
    the port ourselves could take it from under a sipp that is binding at that very moment)."""
    for table in ("/proc/net/udp", "/proc/net/udp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        if any(line.split()[1].rsplit(":", 1)[1] == f"{port:04X}" for line in lines if line.strip()):
            return True
    return False


def wait_bound(proc: subprocess.Popen[bytes], port: int, what: str, screen: Path, timeout: float = 10.0) -> None:
    """Wait until ``proc`` (a sipp just started) has bound UDP ``port``; fail if it exits first."""
    deadline = time.monotonic() + timeout
    while not udp_bound(port):
        if proc.poll() is not None:
            tail = screen.read_text(errors="replace")[-2000:]
            raise RuntimeError(f"{what} sipp exited with {proc.returncode}: {tail}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} sipp did not bind UDP {HOST}:{port} within {timeout} s")
        time.sleep(0.05)


def _digits(text: str) -> str:
    # "020 111 2233" -> "0201112233": SIP user parts cannot carry spaces.
    return re.sub(r"[\s\-()]", "", text)


@dataclass
class CallResult:
    final_code: int  # 0 when no final response arrived before the timeout
    answered: bool
    responses: list[int] = field(default_factory=list)  # every INVITE response code, in order
    duration_s: float = 0.0
    returncode: int = 0
    message_log: Path | None = None
    call_id: str = ""  # calls placed at a rate only


def _parse_invite_responses(trace: str) -> list[int]:
    codes: list[int] = []
    for block in trace.split("message received")[1:]:
        m = re.search(r"^\s*SIP/2\.0 (\d{3})", block.split("\n", 2)[-1], re.M)
        if m and re.search(r"^CSeq:\s*\d+ INVITE", block, re.M | re.I):
            codes.append(int(m.group(1)))
    return codes


class Hold:
    """Keeps a caller on the line until the test releases it (deploy/sipp/caller_held.xml): once
    answered, the caller waits for ``release()``, then holds ``hold_s`` and hangs up. A fixed hold
    from Asterisk's answer assumed that what the test waits for (an agent answering a queue
    call) happens within it; on a busy machine the caller hung up first."""

    def __init__(self) -> None:
        self.call_id = f"held-{uuid.uuid4().hex}@{HOST}"  # the caller's Call-ID (sipp -cid_str)
        self.local_ip = HOST
        self.port = 0  # the caller's SIP port, known once its sipp is started

    def release(self) -> None:
        """Send the caller its cue: an INFO in its dialog, straight to its port (see the scenario)."""
        assert self.port, "the held caller has not started"
        branch, tag = uuid.uuid4().hex, uuid.uuid4().hex[:8]
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.bind((HOST, 0))
            me = s.getsockname()[1]
            s.sendto((f"INFO sip:caller@{self.local_ip}:{self.port} SIP/2.0\r\n"
                      f"Via: SIP/2.0/UDP {HOST}:{me};branch=z9hG4bK{branch}\r\n"
                      f"From: <sip:release@{HOST}>;tag={tag}\r\n"
                      f"To: <sip:caller@{self.local_ip}>\r\n"
                      f"Call-ID: {self.call_id}\r\nCSeq: 1 INFO\r\nMax-Forwards: 70\r\n"
                      "Content-Length: 0\r\n\r\n").encode(), (self.local_ip, self.port))


@dataclass(frozen=True)
class Identity:
    """What a caller's INVITE claims, sent as is (hostile forms included): the From user and
    display name, and optionally a P-Asserted-Identity (user and display) and a Privacy header."""

    from_user: str
    display: str | None = None
    pai: str | None = None
    pai_display: str | None = None
    privacy: str | None = None

    def _name_addr(self, display: str | None, user: str) -> str:
        name = "" if display is None else '"' + display.replace("\\", "\\\\").replace('"', '\\"') + '" '
        at = f"{_sip_user(user)}@" if user else ""
        return f"{name}<sip:{at}[local_ip]:[local_port]>"

    def scenario(self, workdir: Path) -> Path:
        """caller.xml with this identity in its From, PAI and Privacy headers."""
        text = (SCENARIOS / "caller.xml").read_text()
        text = text.replace("From: <sip:[caller]@[local_ip]:[local_port]>",
                            "From: " + self._name_addr(self.display, self.from_user))
        extra = []
        if self.pai is not None:
            extra.append("P-Asserted-Identity: " + self._name_addr(self.pai_display, self.pai))
        if self.privacy is not None:
            extra.append(f"Privacy: {self.privacy}")
        if extra:  # into the INVITE only (its Max-Forwards is the first)
            text = text.replace("Max-Forwards: 70\n", "Max-Forwards: 70\n      " + "\n      ".join(extra) + "\n", 1)
        assert "]]>" not in "".join(extra) + self.from_user + (self.display or "")
        path = workdir / f"identity-{uuid.uuid4().hex[:10]}.xml"
        path.write_text(text)
        return path


# RFC 3261 user part: unreserved, user-unreserved; anything else is %-escaped.
_USER_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.!~*'()&=+$,;?/")


def _sip_user(text: str) -> str:
    return "".join(c if c in _USER_CHARS else "".join(f"%{b:02X}" for b in c.encode()) for c in text)


def place_call(sip_port: int, number: str, caller: str, *, hold_s: float = 1.0, anonymous: bool = False,
               workdir: Path, timeout: float = 60.0, host: str = HOST, scenario: str | None = None,
               local_ip: str = HOST, identity: Identity | None = None, hold: Hold | None = None) -> CallResult:
    """One call from ``caller`` to ``number``; blocks until it is over. Any final code is fine.
    ``scenario``: another caller scenario in deploy/sipp (e.g. ``caller_dtmf.xml``: presses *9).
    ``local_ip``: send from another loopback address (127.0.0.2 is not the carrier's).
    ``identity``: send these From / P-Asserted-Identity / Privacy headers instead (``caller`` then
    only names the Contact).
    ``hold``: the answered caller stays on the line until ``hold.release()``, then ``hold_s``.

    free_port() races with parallel sipps; a sipp that could not bind exits before sending its
    INVITE (no response at all), so it is started again with fresh ports."""
    for _attempt in range(3):
        if identity is not None:
            assert hold is None, "a held caller has the plain identity of caller_held.xml"
            workdir.mkdir(parents=True, exist_ok=True)
            scenario = str(identity.scenario(workdir))  # an absolute path: SCENARIOS / it is it
        result = _place_call_once(sip_port, number, caller, hold_s=hold_s, anonymous=anonymous, workdir=workdir,
                                  timeout=timeout, host=host, scenario=scenario, local_ip=local_ip, hold=hold)
        if result.responses or result.returncode == 0:
            return result
    return result


def _place_call_once(sip_port: int, number: str, caller: str, *, hold_s: float, anonymous: bool, workdir: Path,
                     timeout: float, host: str, scenario: str | None, local_ip: str, hold: Hold | None) -> CallResult:
    workdir.mkdir(parents=True, exist_ok=True)
    tag = uuid.uuid4().hex[:10]
    msg_file = workdir / f"call-{tag}-messages.log"
    if hold is not None:
        assert scenario is None and not anonymous, "a held caller is caller_held.xml"
        scenario = "caller_held.xml"
    scenario_file = SCENARIOS / (scenario or ("caller_anonymous.xml" if anonymous else "caller.xml"))
    port = free_port()
    held = [] if hold is None else ["-cid_str", hold.call_id]
    cmd = [
        SIPP, f"{host}:{sip_port}", "-sf", str(scenario_file), "-s", _digits(number),
        "-key", "caller", _digits(caller) if not anonymous or caller != "anonymous" else "anonymous", *held,
        "-i", local_ip, "-p", str(port), "-mp", str(free_port()), "-cp", str(free_port()),
        "-m", "1", "-l", "1", "-d", str(int(hold_s * 1000)),
        "-timeout", f"{int(timeout)}s", "-timeout_error",
        "-trace_msg", "-message_file", str(msg_file), "-nostdin",
    ]
    if hold is not None:
        hold.local_ip, hold.port = local_ip, port
    started = time.monotonic()
    try:
        proc = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, errors="replace",
                              timeout=timeout + 10, check=False, cwd=workdir)
        rc = proc.returncode
    except subprocess.TimeoutExpired:
        rc = -1
    codes = _parse_invite_responses(msg_file.read_text(errors="replace") if msg_file.exists() else "")
    finals = [c for c in codes if c >= 200]
    final = finals[-1] if finals else 0
    return CallResult(final, final == 200, codes, time.monotonic() - started, rc, msg_file)


def place_calls(sip_port: int, number: str, caller: str, *, count: int, hold_s: float = 1.0,
                anonymous: bool = False, workdir: Path, timeout: float = 60.0,
                concurrent: bool = True, rate: float | None = None, host: str = HOST,
                scenario: str | None = None) -> list[CallResult]:
    """``count`` calls from ``caller`` to ``number``.

    Default: all at once, one sipp per call (each held ``hold_s`` when answered). With ``rate``
    (calls started per second): ONE sipp process places them all at that rate (cheap enough for
    thousands of calls); results are per Call-ID, in start order. ``concurrent=False``: one after
    the other."""
    if rate is not None:
        return _place_calls_at_rate(sip_port, number, caller, count=count, hold_s=hold_s, anonymous=anonymous,
                                    workdir=workdir, timeout=timeout, rate=rate, host=host, scenario=scenario)

    def one(_: int) -> CallResult:
        return place_call(sip_port, number, caller, hold_s=hold_s, anonymous=anonymous,
                          workdir=workdir, timeout=timeout, host=host, scenario=scenario)

    if not concurrent:
        return [one(i) for i in range(count)]
    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(one, range(count)))


def _place_calls_at_rate(sip_port: int, number: str, caller: str, *, count: int, hold_s: float, anonymous: bool,
                         workdir: Path, timeout: float, rate: float, host: str,
                         scenario: str | None = None) -> list[CallResult]:
    workdir.mkdir(parents=True, exist_ok=True)
    msg_file = workdir / f"calls-{uuid.uuid4().hex[:10]}-messages.log"
    scenario_file = SCENARIOS / (scenario or ("caller_anonymous.xml" if anonymous else "caller.xml"))
    total = timeout + count / rate + hold_s
    cmd = [
        SIPP, f"{host}:{sip_port}", "-sf", str(scenario_file), "-s", _digits(number),
        "-key", "caller", _digits(caller) if not anonymous or caller != "anonymous" else "anonymous",
        "-i", HOST, "-p", str(free_port()), "-mp", str(free_port()), "-cp", str(free_port()),
        "-m", str(count), "-l", str(count), "-r", str(max(1, round(rate * 10))), "-rp", "10000",  # per 10 s
        "-d", str(int(hold_s * 1000)), "-timeout", f"{int(total)}s", "-timeout_error",
        "-trace_msg", "-message_file", str(msg_file), "-nostdin",
    ]
    started = time.monotonic()
    try:
        rc = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=total + 10,
                            check=False, cwd=workdir).returncode
    except subprocess.TimeoutExpired:
        rc = -1
    elapsed = time.monotonic() - started
    trace = msg_file.read_text(errors="replace") if msg_file.exists() else ""
    by_call: dict[str, list[int]] = {}
    order: list[str] = []
    for block in trace.split("-----------------------------------------------")[1:]:
        cid = re.search(r"^Call-ID:\s*(\S+)", block, re.M | re.I)
        if cid is None:
            continue
        if cid.group(1) not in by_call:
            by_call[cid.group(1)] = []
            order.append(cid.group(1))
        if "message received" in block:
            by_call[cid.group(1)] += _parse_invite_responses(block)
    results: list[CallResult] = []
    for cid in order:
        finals = [c for c in by_call[cid] if c >= 200]
        final = finals[-1] if finals else 0
        results.append(CallResult(final, final == 200, by_call[cid], elapsed, rc, msg_file, call_id=cid))
    results += [CallResult(0, False, [], elapsed, rc, msg_file)] * (count - len(results))
    return results


class Carrier:
    """One sipp UAS on ``host``:port (loopback unless a cluster's nodes need another address)
    answering every call Asterisk sends to the carrier trunk."""

    def __init__(self, port: int, workdir: Path, host: str = HOST) -> None:
        self.port = port
        self.host = host
        self.workdir = workdir
        self.log_file = workdir / f"carrier-{port}-invites.log"
        self.screen_file = workdir / f"carrier-{port}-screen.log"
        self._proc: subprocess.Popen[bytes] | None = None
        self._seen = 0  # invites before the last clear()

    def start(self) -> Carrier:
        if self._proc is not None and self._proc.poll() is None:
            return self
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.log_file.unlink(missing_ok=True)
        self._seen = 0
        cmd = [
            SIPP, "-sf", str(SCENARIOS / "carrier.xml"), "-i", self.host, "-p", str(self.port),
            "-mp", str(free_port()), "-cp", str(free_port()),
            "-trace_logs", "-log_file", str(self.log_file),
            "-trace_err", "-error_file", str(self.workdir / f"carrier-{self.port}-errors.log"),
            "-nostdin", "-max_recv_loops", "10000",
        ]
        with open(self.screen_file, "wb") as screen:
            self._proc = subprocess.Popen(cmd, stdout=screen, stderr=subprocess.STDOUT, cwd=self.workdir)
        try:
            wait_bound(self._proc, self.port, "carrier", self.screen_file)
        except RuntimeError:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        if self._proc is None:
            return
        if self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(5)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        self._proc = None

    def _all_invites(self) -> list[str]:
        try:
            text = self.log_file.read_text(errors="replace")
        except OSError:
            return []
        return re.findall(r"^INVITE (\S+)", text, re.M)

    def invites(self) -> list[str]:
        """Dialled numbers of the INVITEs received since start() / the last clear(), in order."""
        return self._all_invites()[self._seen:]

    def clear(self) -> None:
        self._seen = len(self._all_invites())

    def __enter__(self) -> Carrier:
        return self.start()

    def __exit__(self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()
