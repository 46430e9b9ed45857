"""sipp load runs: call throughput (highest rate with zero failures) and post-dial delay.

Throughput: one sipp UAC places ``rate`` calls per second for ``seconds`` s (each answered call
held 100 ms, only 200 OK counts as success: tests/bench/caller.xml). A rate passes when every call
succeeded AND sipp kept the pace (its run did not overrun the planned duration by more than 10 %
+ 5 s; a sipp that cannot generate the load would otherwise look like success at a lower rate).

Post-dial delay: caller and carrier both log every message with a wall-clock timestamp
(``-trace_msg``; one machine, one clock). The n-th INVITE the caller sent is paired with the n-th
INVITE the carrier received; at the moderate PDD rate calls are tens of ms apart while the delay is
a few ms, so the order cannot swap (the counts are checked to be equal).
"""

from __future__ import annotations

import re
import statistics
import subprocess
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from tests.bench.stack import BENCH_DIR, CALLER, Stack
from tests.harness.sipp import HOST, SIPP, free_port

HOLD_MS = 100
SCENARIO = BENCH_DIR / "caller.xml"


@dataclass
class LoadResult:
    rate: int
    seconds: int
    planned: int
    created: int
    successful: int
    failed: int
    retransmissions: int
    wall_s: float
    returncode: int
    command: str

    @property
    def kept_pace(self) -> bool:
        return self.wall_s <= self.seconds * 1.1 + 5 + HOLD_MS / 1000

    @property
    def passed(self) -> bool:
        return (self.failed == 0 and self.successful == self.planned and self.returncode == 0
                and self.kept_pace)

    def describe(self) -> str:
        verdict = "ok" if self.passed else "FAIL"
        pace = "" if self.kept_pace else f", sipp lagged ({self.wall_s:.0f} s for a {self.seconds} s run)"
        return (f"{self.rate}/s x {self.seconds} s: {self.successful}/{self.planned} ok, {self.failed} failed, "
                f"{self.retransmissions} retransmissions{pace} -> {verdict}")


def sipp_command(stack: Stack, number: str, rate: int, count: int, *, hold_ms: int = HOLD_MS,
                 extra: list[str] | None = None) -> list[str]:
    total_s = count / max(rate, 1) + 30
    return [
        SIPP, f"{HOST}:{stack.settings.sip_port}", "-sf", str(SCENARIO), "-s", number,
        "-key", "caller", CALLER, "-i", HOST, "-p", str(free_port()), "-mp", str(free_port()),
        "-cp", str(free_port()), "-r", str(rate), "-rp", "1000", "-m", str(count), "-l", str(max(rate * 20, 100)),
        "-d", str(hold_ms), "-timeout", f"{int(total_s)}s", "-timeout_error", "-nostdin",
        "-max_recv_loops", "10000", "-max_sched_loops", "10000",
    ] + (extra or [])


def short_command(cmd: list[str]) -> str:
    """The sipp command line without the throw-away ports and paths (for the table)."""
    keep: list[str] = ["sipp", "127.0.0.1:$SIP"]
    skip_next = False
    for i, arg in enumerate(cmd[2:], start=2):
        if skip_next:
            skip_next = False
            continue
        if arg in ("-p", "-mp", "-cp", "-stf", "-message_file", "-error_file", "-fd", "-i", "-timeout"):
            skip_next = True
            continue
        if arg in ("-nostdin", "-timeout_error", "-trace_stat", "-trace_err", "-max_recv_loops",
                   "-max_sched_loops") or cmd[i - 1] in ("-max_recv_loops", "-max_sched_loops"):
            continue
        keep.append("tests/bench/caller.xml" if arg == str(SCENARIO) else arg)
    return " ".join(keep)


def _last_stat(stat_file: Path) -> dict[str, str]:
    lines = [ln for ln in stat_file.read_text(errors="replace").splitlines() if ln.strip()]
    if len(lines) < 2:
        return {}
    head = lines[0].rstrip(";").split(";")
    vals = lines[-1].rstrip(";").split(";")
    return dict(zip(head, vals, strict=False))


def run_load(stack: Stack, number: str, rate: int, seconds: int, workdir: Path) -> LoadResult:
    workdir.mkdir(parents=True, exist_ok=True)
    count = rate * seconds
    stat = workdir / f"stat-{number}-{rate}-{time.monotonic_ns()}.csv"
    cmd = sipp_command(stack, number, rate, count, extra=[
        "-trace_stat", "-stf", str(stat), "-fd", "1",
        "-trace_err", "-error_file", str(workdir / f"errors-{number}-{rate}.log")])
    started = time.monotonic()
    try:
        rc = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=workdir,
                            timeout=seconds + 90, check=False).returncode
    except subprocess.TimeoutExpired:  # subprocess.run kills sipp
        rc = -1
    wall = time.monotonic() - started
    s = _last_stat(stat) if stat.exists() else {}

    def num(key: str) -> int:
        try:
            return int(s.get(key, "0") or 0)
        except ValueError:
            return 0

    return LoadResult(rate, seconds, count, num("TotalCallCreated"), num("SuccessfulCall(C)"),
                      num("FailedCall(C)") + max(0, count - num("SuccessfulCall(C)") - num("FailedCall(C)")),
                      num("Retransmissions(C)"), wall, rc, short_command(cmd))


_STAMP = re.compile(r"^-{20,} (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+)$", re.M)
_CALL_ID = re.compile(r"^Call-ID:\s*(\S+)", re.M | re.I)


def invite_times(message_log: Path, direction: str) -> list[float]:
    """Wall-clock times of the INVITE requests sent/received, the first per Call-ID (a
    retransmission is not a new call)."""
    text = message_log.read_text(errors="replace") if message_log.exists() else ""
    stamps = list(_STAMP.finditer(text))
    seen: set[str] = set()
    times: list[float] = []
    for i, m in enumerate(stamps):
        block = text[m.end():stamps[i + 1].start() if i + 1 < len(stamps) else len(text)]
        head = block.lstrip("\n").split("\n", 3)
        if len(head) < 3 or f"message {direction}" not in head[0] or not head[2].startswith("INVITE "):
            continue
        cid = _CALL_ID.search(block)
        key = cid.group(1) if cid else str(i)
        if key in seen:
            continue
        seen.add(key)
        times.append(datetime.strptime(m.group(1), "%Y-%m-%d %H:%M:%S.%f").timestamp())
    return times


@dataclass
class PddResult:
    samples: int
    median_ms: float
    p99_ms: float
    max_ms: float
    failed: int
    command: str


def run_pdd(stack: Stack, number: str, rate: int, seconds: int, workdir: Path) -> PddResult:
    """INVITE sent by the caller -> INVITE received by the carrier, per call."""
    delays, rc, command = pdd_delays(stack, number, rate, seconds, workdir)
    return pdd_result(delays, rc, command)


def pdd_result(delays: list[float], rc: int, command: str) -> PddResult:
    delays = sorted(delays)
    p99 = delays[min(len(delays) - 1, int(round(0.99 * (len(delays) - 1))))]
    return PddResult(len(delays), statistics.median(delays), p99, delays[-1], 0 if rc == 0 else 1, command)


def pdd_delays(stack: Stack, number: str, rate: int, seconds: int, workdir: Path) -> tuple[list[float], int, str]:
    """The post-dial delay of each call (ms), sipp's exit code, the command."""
    workdir.mkdir(parents=True, exist_ok=True)
    tag = f"{number}-{time.monotonic_ns()}"
    carrier_log = workdir / f"carrier-{tag}.log"
    caller_log = workdir / f"caller-{tag}.log"
    stack.start_carrier(trace_msg=carrier_log)
    try:
        count = rate * seconds
        cmd = sipp_command(stack, number, rate, count, extra=["-trace_msg", "-message_file", str(caller_log)])
        rc = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=workdir,
                            timeout=seconds + 90, check=False).returncode
        time.sleep(0.5)
    finally:
        stack.start_carrier()  # back to the untraced carrier for the other measurements
    sent = invite_times(caller_log, "sent")
    received = invite_times(carrier_log, "received")
    if len(sent) != len(received) or not sent:
        raise RuntimeError(f"PDD {number}: {len(sent)} INVITEs sent, {len(received)} reached the carrier "
                           f"(sipp rc {rc}); cannot pair them")
    caller_log.unlink(missing_ok=True)
    carrier_log.unlink(missing_ok=True)
    return [(r - s) * 1000 for s, r in zip(sent, received, strict=True)], rc, short_command(cmd)
