"""The percentage split's precomputed ticket sequence (domain/ir.py Split) and the names the
dialplan gives its state (domain/naming.py). Real calls: tests/e2e/test_split_tickets.py."""

from __future__ import annotations

import math
import random
import re

import pytest

from orchestrator.domain.ir import Split, fair_sequence
from orchestrator.domain.naming import FLOW_GROUP, split_family, split_group


def split(*weights: int, family: str = "svc-split/318007654321/sp1-x") -> Split:
    return Split("sp1", "spread", tuple((w, f"r{i}d1") for i, w in enumerate(weights)), family)


def max_drift(weights: tuple[int, ...], picks: list[int]) -> float:
    """The largest |calls of a share - its exact part| after any number of calls from the start."""
    seen = [0] * len(weights)
    worst = 0.0
    for t, i in enumerate(picks, start=1):
        seen[i] += 1
        worst = max(worst, *(abs(seen[j] - t * w / sum(weights)) for j, w in enumerate(weights)))
    return worst


def swrr_picks(weights: tuple[int, ...], n: int) -> list[int]:
    """Smooth weighted round robin, the per-call algorithm the dialplan ran before (under LOCK())."""
    counters = [0] * len(weights)
    out = []
    for _ in range(n):
        counters = [c + w for c, w in zip(counters, weights, strict=True)]
        best = counters.index(max(counters))
        counters[best] -= sum(weights)
        out.append(best)
    return out


# 27 shares where smooth weighted round robin drifts past one call (1.04).
MANY = (3, 13, 8, 2, 2, 2, 1, 3, 1, 2, 16, 1, 3, 2, 3, 5, 1, 2, 1, 8, 1, 3, 8, 1, 2, 3, 3)


def test_within_one_call_where_round_robin_was_not() -> None:
    assert max_drift(MANY, swrr_picks(MANY, 100)) > 1
    s = split(*MANY)
    assert max_drift(MANY, [s.share_at(t) for t in range(300)]) < 1


@pytest.mark.parametrize("weights", [(70, 30), (50, 50), (20, 20, 20, 20, 20), (40, 60)])
def test_the_period_is_the_sum_over_the_gcd(weights: tuple[int, ...]) -> None:
    s = split(*weights)
    assert len(s.sequence) == sum(weights) // math.gcd(*weights)
    for i, w in enumerate(weights):
        assert s.sequence.count(i) * sum(weights) == w * len(s.sequence)  # exact over one period


def test_every_run_of_tickets_from_the_start_is_within_one_call() -> None:
    rng = random.Random(15)
    for n in [*range(2, 30), 50, 99, 100] * 8:
        cuts = sorted(rng.sample(range(1, 100), n - 1))
        weights = tuple(b - a for a, b in zip([0, *cuts], [*cuts, 100], strict=True))
        s = split(*weights)
        assert max_drift(weights, [s.share_at(t) for t in range(250)]) < 1, weights


def test_sequence_text_is_what_cut_reads() -> None:
    s = split(50, 25, 25)
    assert s.sequence == fair_sequence((50, 25, 25)) == (0, 1, 0, 2)
    assert s.sequence_text == "1-2-1-3"
    fields = s.sequence_text.split("-")  # CUT(SVC_SQ,-,t % period + 1)
    assert all(fields[t % len(fields)] == str(s.share_at(t) + 1) for t in range(20))
    wide = split(*([1] * 100))
    assert wide.sequence_text.split("-")[99] == "100"


def test_ticket_for_finds_a_ticket_of_each_share() -> None:
    s = split(70, 30)
    assert [s.share_at(s.ticket_for(i)) for i in (0, 1)] == [0, 1]
    assert s.sequence_text == "1-1-2-1-1-2-1-1-1-2"
    assert s.ticket_for(1, start=3) == 5
    assert s.ticket_for(0, start=1000) >= 1000


def test_take_moves_the_counter_of_its_own_family_only() -> None:
    a, b = split(70, 30), split(50, 50, family="svc-split/flow/t/f/spread-y")
    tickets: dict[str, int] = {b.state_family: 7}
    assert [a.take(tickets) for _ in range(3)] == [(0, 0), (0, 1), (1, 2)]
    assert b.take(tickets) == (b.share_at(7), 7)
    assert tickets == {a.state_family: 3, b.state_family: 8}


def test_group_category_is_short_safe_and_apart_from_the_other_categories() -> None:
    long_family = split_family("flow", "t" * 40, "f" * 40, "b" * 40 + "-12345678")
    for family in (split_family("318007654321", "sp1-d16a9173"), long_family):
        group = split_group(family)
        assert re.fullmatch(r"svcsplit-[0-9]{19}", group)  # < 80 characters, no '@'; digits: one lint shape
        assert group.lower() not in ("svc", FLOW_GROUP)
    assert split_group(long_family) != split_group(long_family + "x")
    assert split(70, 30).ticket_key == "svc-split/318007654321/sp1-x/t"
