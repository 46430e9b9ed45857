"""Premium call flows on the real Asterisk 22 (issue 15): sipp callers press real RFC 4733 keys;
what Asterisk did (the flow's SvcFlow user events: block and exit, in order, and the numbers
dialled) must equal the simulator's walk of the same IR."""

from __future__ import annotations

import random
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from orchestrator.domain.plan import AMSTERDAM
from orchestrator.services.flow_lists import change_list
from tests.e2e.flow_bench import TIMEOUT, bench, forced_splits, sim_path
from tests.flow_plans import flow_plan, mixed_plan
from tests.harness.clock import set_clock_offset

pytestmark = pytest.mark.e2e
DIFF_PARALLEL = 12  # the differential's calls at a time (most of a call is waiting)


async def test_menus_inputs_and_lists_route_as_simulated(runtime: Any, carrier: Any, tmp_path: Path) -> None:
    b, _target = await bench(runtime, tmp_path, flow_plan("flowe2e", TIMEOUT))
    try:
        await change_list(b.session, b.ami, "flowe2e", "members", "123456782", add=True)
        n1, n2 = "08003000001", "08003000002"
        cases = [
            (n1, "0101110001", "1"),  # menu key routes to sales
            (n1, "0101110002", "9,9,9"),  # invalid three times -> failed -> goodbye
            (n1, "0101110003", ""),  # silence: three timeouts -> failed
            (n1, "0101110004", "2,1,*,*,1"),  # three levels deep, back twice, then sales
            (n2, "0101110005", "3,123456782"),  # valid 11-check, on the list -> billing (overflow)
            (n2, "0101110006", "3,123456783"),  # fails the 11-check
            (n1, "0101110007", "3,111222333"),  # passes the 11-check, not on the list (yet)
            (n1, "0101110008", "4,-,2,9"),  # invalid, timeout, then a nested menu; its 9 is invalid
        ]
        results = await b.calls(cases)
        for case, (p, path, dialled) in zip(cases, results, strict=True):
            assert path == sim_path(p), f"{case}: Asterisk {path}, simulator {sim_path(p)}; {b.trace(case[1])}"
            assert dialled == p["destinations"], f"{case}: dialled {dialled}, simulator {p['destinations']}"
        assert sim_path(results[1][0])[-4:] == [("main", "invalid"), ("main", "failed"), ("sorry", "next"),
                                                ("bye", "end")]
        assert ("deeper", "back") in results[3][1] and results[3][2] == ["+31205550011"]
        assert ("member", "valid") in results[4][1] and results[4][2] == ["+31205550023", "+31205550031"]
        assert ("member", "valid") not in results[6][1]

        # The list changes live (AstDB, no reload): the next call with the same digits is let in.
        await change_list(b.session, b.ami, "flowe2e", "members", "111222333", add=True)
        [(p, path, _d)] = await b.calls([(n1, "0101110009", "3,111222333")])
        assert ("member", "valid") in path and path == sim_path(p)
    finally:
        b.ami.close()
        b.session.close()


async def test_two_numbers_share_one_flow_context(runtime: Any, carrier: Any, tmp_path: Path) -> None:
    b, _target = await bench(runtime, tmp_path, flow_plan("flowshare", TIMEOUT))
    try:
        out = await b.ami.command("dialplan show fl-flowshare-support")
        assert "[ Context 'fl-flowshare-support'" in out
        flow_text = (runtime.etc_dir / "svc" / "fl-flowshare-support.conf").read_text()
        assert flow_text.count("[fl-flowshare-support]") == 1
        for digits in ("318003000001", "318003000002"):
            number = await b.ami.command(f"dialplan show svc-{digits}")
            assert "fl-flowshare-support,start,1" in number
            assert "Read(" not in number  # the menus live in the flow, not per number
    finally:
        b.ami.close()
        b.session.close()


KEY_TOKENS = ["1", "1", "2", "2", "3", "4", "9", "*", "#", "-",
              "123456782", "111222333", "123456783", "4539578763621486", "4539578763621487"]


def sample_case(rng: random.Random, serial: int, numbers: list[str]) -> tuple[str, str, str]:
    caller = rng.choice([f"020{serial:07d}", f"010{serial:07d}", f"030{serial:07d}", f"+4420{serial:08d}"])
    keys = ",".join(rng.choice(KEY_TOKENS) for _ in range(rng.randrange(0, 6)))
    return rng.choice(numbers), caller, keys


async def test_differential_flows_simulator_matches_asterisk(runtime: Any, carrier: Any, tmp_path: Path) -> None:
    b, _target = await bench(runtime, tmp_path, mixed_plan("flowdiff", TIMEOUT))
    rng = random.Random(15)
    compared = 0
    try:
        await change_list(b.session, b.ami, "flowdiff", "members", "123456782", add=True)
        numbers = list(b.numbers)
        moments = [None, datetime(2030, 7, 1, 12, 0, tzinfo=AMSTERDAM)]
        serial = 0
        for moment, count in zip(moments, (176, 32), strict=True):
            offset = 0 if moment is None else int(moment.timestamp() - time.time())
            set_clock_offset(runtime, offset)  # returns once Asterisk's clock moved
            cases = []
            for _ in range(count):
                serial += 1
                cases.append(sample_case(rng, serial, numbers))
            # A pool keeps DIFF_PARALLEL calls going; each ends when its flow does (flow_bench.py).
            results = await b.calls(cases, offset=offset, parallel=DIFF_PARALLEL)
            for case, (_p, path, dialled) in zip(cases, results, strict=True):
                at = datetime.fromtimestamp(time.time() + offset, AMSTERDAM)  # Asterisk's clock (real seconds)
                p = b.predict(*case, at, split_state=forced_splits(b, path))
                assert path == sim_path(p), f"{case}: Asterisk {path}, simulator {sim_path(p)}; {b.trace(case[1])}"
                assert dialled == p["destinations"], f"{case}: dialled {dialled}, simulator {p['destinations']}"
                compared += 1
    finally:
        set_clock_offset(runtime, 0)
        b.ami.close()
        b.session.close()
    assert compared >= 200
