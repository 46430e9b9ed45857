from datetime import datetime

from orchestrator.domain.compile import compile_plan
from orchestrator.domain.plan import AMSTERDAM, parse_plan
from orchestrator.domain.simulate import CallScenario, DestinationBehaviour, simulate
from tests.plans import basis_number, tenant_plan

BEFORE = datetime(2099, 12, 24, 17, 29, tzinfo=AMSTERDAM)  # around basis_number's switch moment
AFTER = datetime(2099, 12, 24, 17, 30, tzinfo=AMSTERDAM)


def flow(**overrides: object):
    return compile_plan(parse_plan(tenant_plan(basis_number(**overrides))), {})[0]


def test_active_routing_before_switch_and_other_after() -> None:
    f = flow()
    assert simulate(f, CallScenario("0201234567", BEFORE)).answered_by == "+31205550001"
    assert simulate(f, CallScenario("0201234567", AFTER)).answered_by == "+31105550001"


def test_overflow_in_order_then_final_message() -> None:
    f = flow(announcements={"final": "default-final"})
    b = DestinationBehaviour
    behaviour = {"+31205550001": b.NOANSWER, "+31205550002": b.BUSY, "+442079460001": b.UNAVAILABLE}
    r = simulate(f, CallScenario("0201234567", BEFORE, behaviour=behaviour))
    assert r.destinations == ["+31205550001", "+31205550002", "+442079460001"]
    assert r.outcome == "unanswered"
    assert [s["step"] for s in r.steps[-2:]] == ["play", "hangup"]


def test_blocking_reasons() -> None:
    f = flow(blocking={"anonymous": True, "foreign": True, "mobile": True})
    assert simulate(f, CallScenario("", BEFORE)).reason == "anonymous"
    assert simulate(f, CallScenario("0201234567", BEFORE, withheld=True)).reason == "anonymous"
    assert simulate(f, CallScenario("+4420123456", BEFORE)).reason == "foreign"
    assert simulate(f, CallScenario("0612345678", BEFORE)).reason == "mobile"
    bl = frozenset({"+31201234567"})
    assert simulate(f, CallScenario("020 1234567", BEFORE, blacklist=bl)).reason == "blacklist"
    assert simulate(f, CallScenario("0201234568", BEFORE, blacklist=bl)).outcome == "answered"


def test_blacklist_checked_even_without_other_blocking() -> None:
    f = flow(blocking={})
    bl = frozenset({"+31201234567"})
    r = simulate(f, CallScenario("0201234567", BEFORE, blacklist=bl))
    assert (r.outcome, r.reason) == ("blocked", "blacklist")


def test_concurrency_limit() -> None:
    f = flow(max_concurrent_calls=2)
    assert simulate(f, CallScenario("0201234567", BEFORE, calls_in_progress=1)).outcome == "answered"
    r = simulate(f, CallScenario("0201234567", BEFORE, calls_in_progress=2))
    assert (r.outcome, r.reason, r.destinations) == ("busy", "limit", [])


def test_welcome_before_routing_and_whisper_on_every_dial() -> None:
    f = flow(announcements={"welcome": "default-final", "whisper": "default-whisper"})
    r = simulate(f, CallScenario("0201234567", BEFORE))
    steps = [s["step"] for s in r.steps]
    assert steps.index("play") < steps.index("schedule") < steps.index("dial")
    assert all(s["whisper"] == "beep" for s in r.steps if s["step"] == "dial")


def test_json_is_stable() -> None:
    r = simulate(flow(), CallScenario("0201234567", BEFORE))
    d = r.to_dict()
    assert list(d) == ["number", "caller", "at", "outcome", "reason", "answered_by",
                       "destinations", "steps"]
    assert d["at"] == "2099-12-24T17:29:00+01:00"
