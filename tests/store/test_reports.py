"""Every report kind against a generated set of calls with known answers (tests/store/report_calls.py),
on SQLite and on a real PostgreSQL; bad input is refused before anything is read."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from sqlmodel import Session, select

from orchestrator.domain.plan import AMSTERDAM
from orchestrator.domain.reports.model import Report
from orchestrator.errors import InputInvalid, NotFound
from orchestrator.services import reports
from orchestrator.store import call_records, rollups
from orchestrator.store.engine import make_engine
from orchestrator.store.models import CallRecord
from tests.store import report_calls as rc


@pytest.fixture(scope="module")
def engine(module_db_url: str) -> Any:
    engine = make_engine(module_db_url)
    rc.load(engine)
    yield engine
    engine.dispose()


def run(engine: Any, kind: str, start: str, end: str, interval: str = "day", tenant: str = "acme",
        **filters: Any) -> Report:
    return reports.report(engine, reports.Request(tenant, kind, start, end, interval, **filters))


def rows(report: Report, table: int = 0) -> list[list[Any]]:
    return [list(r) for r in report.tables[table].rows]


def by_label(report: Report, table: int = 0) -> dict[str, dict[str, Any]]:
    t = report.tables[table]
    return {str(r[0]): dict(zip(t.columns, r, strict=True)) for r in t.rows}


def test_volume_autumn_change_day_has_25_hours_and_both_2_oclocks(engine: Any) -> None:
    r = run(engine, "volume", "2026-10-25", "2026-10-26", "hour")
    got = by_label(r)
    assert len(got) == 26  # 25 hours + the total
    assert got["2026-10-25T02:00+02:00"]["offered"] == 1
    assert got["2026-10-25T02:00+01:00"]["offered"] == 1
    assert got["total"]["offered"] == got["total"]["answered"] == 2
    assert r.parameters["interval"] == "hour" and r.parameters["intervals"] == "25"
    assert r.parameters["time_zone"].startswith("Europe/Amsterdam")


def test_volume_spring_change_day_has_23_hours(engine: Any) -> None:
    got = by_label(run(engine, "volume", "2026-03-29", "2026-03-30", "hour"))
    assert len(got) == 24
    assert not any(label.startswith("2026-03-29T02:") for label in got)
    assert got["2026-03-29T01:00+01:00"]["busy"] == 1
    assert got["2026-03-29T03:00+02:00"]["no_answer"] == 1


def test_volume_per_month_puts_calls_in_the_local_month_they_started_in(engine: Any) -> None:
    got = by_label(run(engine, "volume", "2026-10-01", "2026-12-01", "month"))
    october, november = got["2026-10-01T00:00+02:00"], got["2026-11-01T00:00+01:00"]
    assert october["offered"] == october["answered"] == 3  # two on the autumn night, one at 23:59:30 on the 31st
    assert (november["offered"], november["answered"], november["abandoned"], november["no_answer"],
            november["unreachable"], november["max_duration"], november["busy"]) == (26, 17, 3, 2, 1, 1, 0)
    assert (november["blocked"], november["blocked_anonymous"], november["blocked_blacklist"]) == (2, 1, 1)


def test_waiting(engine: Any) -> None:
    got = by_label(run(engine, "waiting", "2026-11-10", "2026-11-11"))
    assert got["2026-11-10T00:00+01:00"] == {"interval": "2026-11-10T00:00+01:00", "queued": 5, "mean_s": 13.6,
                                             "median_s": 10.0, "p90_s": 30.0, "longest_s": 30.0}


def test_queues_service_level_counts_abandoned_after_s_only(engine: Any) -> None:
    r = run(engine, "queues", "2026-11-10", "2026-11-11", queue="sales")
    (row,) = rows(r)
    got = dict(zip(r.tables[0].columns, row, strict=True))
    assert {k: got[k] for k in ("queue", "offered", "answered", "abandoned", "abandoned_within_s", "full",
                                "answered_within_t", "service_level_pct", "asa_s", "aht_s")} == {
        "queue": "sales", "offered": 5, "answered": 2, "abandoned": 2, "abandoned_within_s": 1, "full": 1,
        "answered_within_t": 1, "service_level_pct": 33.3, "asa_s": 17.5, "aht_s": 75.0}
    assert rows(r, 1) == [["ann", "sales", 1, 100.0, 100.0, 15.0, 600.0], ["bob", "sales", 1, 50.0, 50.0, 0.0, 600.0]]
    assert "sales 20 s" in r.parameters["service_level"] and "S = 5 s" in r.parameters["service_level"]


def test_origins(engine: Any) -> None:
    got = rows(run(engine, "origins", "2026-11-10T12:00", "2026-11-10T14:00", "hour"))
    assert got == [["2026-11-10T12:00+01:00", "mobile", 1, 0, 1], ["2026-11-10T12:00+01:00", "withheld", 1, 0, 0],
                   ["2026-11-10T13:00+01:00", "010", 3, 2, 3]]


def test_peaks(engine: Any) -> None:
    r = run(engine, "peaks", "2026-11-10T16:00", "2026-11-10T16:30", "15m")
    assert rows(r, 0) == [[1, "2026-11-10T16:00+01:00", 4, 4]]
    assert rows(r, 1) == [["2026-11-10T16:00+01:00", 3, "2026-11-10T16:00:20+01:00"],
                          ["2026-11-10T16:15+01:00", 0, ""]]


def test_callers_unique_and_repeat(engine: Any) -> None:
    r = run(engine, "callers", "2026-11-10", "2026-11-11")
    assert rows(r) == [["2026-11-10T00:00+01:00", 25, 1, 18, 1, 7]]
    ((label, caller, calls),) = rows(r, 1)
    assert (label, calls, len(caller)) == ("2026-11-10T00:00+01:00", 7, 16)
    assert rc.REPEAT[3:] not in caller  # a hash, never the number
    assert rows(run(engine, "callers", "2026-11-10", "2026-11-11", more_than=7), 1) == []
    # a filter narrows the counting (in SQL on PostgreSQL): the 0900 number's four callers
    assert rows(run(engine, "callers", "2026-11-10", "2026-11-11", number="0900 1234567")) == [
        ["2026-11-10T00:00+01:00", 4, 0, 4, 0, 0]]
    # per hour: the repeat caller's seven calls fall in two hours (09:00-09:50 and 10:00)
    hourly = {r[0]: r for r in rows(run(engine, "callers", "2026-11-10T09:00", "2026-11-10T11:00", "hour",
                                        more_than=0))}
    assert (hourly["2026-11-10T09:00+01:00"][1:], hourly["2026-11-10T10:00+01:00"][1:]) == ([6, 0, 1, 1, 6],
                                                                                              [1, 0, 1, 1, 1])


def test_the_same_caller_hashes_differently_per_tenant(engine: Any) -> None:
    with Session(engine) as s:
        hashes = {r.tenant: r.caller_hash for r in s.exec(select(CallRecord).where(CallRecord.caller == rc.REPEAT))}
    assert set(hashes) == {"acme", "beta"} and hashes["acme"] != hashes["beta"] and len(hashes["acme"]) == 64


def test_routing_counts_each_exit_and_its_share(engine: Any) -> None:
    got = rows(run(engine, "routing", "2026-11-10", "2026-11-11", flow="ivr"))
    day = "2026-11-10T00:00+01:00"
    assert got == [[day, rc.N8, "ivr", "dial +31205550001", "answer", 1, 100.0],
                   [day, rc.N8, "ivr", "menu", "1", 2, 66.7], [day, rc.N8, "ivr", "menu", "2", 1, 33.3],
                   [day, rc.N8, "ivr", "menu", "timeout", 1, 33.3]]


def test_finance_uses_the_tariff_in_force_when_the_call_was_made(engine: Any) -> None:
    got = by_label(run(engine, "finance", "2026-11-01", "2026-12-01", "month", number="0900 1234567"))
    row = got["2026-11-01T00:00+01:00"]
    assert {k: row[k] for k in ("number", "kind", "calls", "answered", "max_duration", "talk_minutes",
                                "tenant_pays_minutes", "revenue_per_call_eur", "revenue_per_minute_eur",
                                "revenue_eur")} == {
        "number": rc.N9, "kind": "0900", "calls": 4, "answered": 3, "max_duration": 1, "talk_minutes": 12.5,
        "tenant_pays_minutes": 0.0, "revenue_per_call_eur": "2.00", "revenue_per_minute_eur": "1.25",
        "revenue_eur": "3.25"}


def test_finance_0800_minutes_are_what_the_tenant_pays(engine: Any) -> None:
    got = rows(run(engine, "finance", "2026-10-01", "2026-11-01", "month"))
    assert got[0][1:8] == [rc.N8, "0800", 3, 3, 0, 2.5, 2.5]  # 60 + 60 + 30 s


def test_another_tenants_calls_never_show(engine: Any) -> None:
    got = by_label(run(engine, "volume", "2026-11-01", "2026-12-01", "month", tenant="beta"))
    assert got["total"]["offered"] == 1
    with pytest.raises(InputInvalid, match="number: tenant 'acme' has no number"):
        run(engine, "volume", "2026-11-01", "2026-12-01", number="0800 9999999")


@pytest.mark.parametrize(("changes", "field"), [
    ({"kind": "revenue"}, "kind"), ({"interval": "fortnight"}, "interval"),
    ({"start": "2026-11-10", "end": "2026-11-01"}, "to"), ({"start": "2026-11-10T13:30", "interval": "hour"}, "from"),
    ({"start": "2026-11-03", "interval": "month"}, "from"), ({"start": "2026-03-29T02:30", "interval": "15m"}, "from"),
    ({"queue": "nope"}, "queue"), ({"flow": "nope"}, "flow"), ({"number": "12"}, "number"),
])
def test_bad_input_is_refused_naming_the_field(engine: Any, changes: dict[str, Any], field: str) -> None:
    args = {"tenant": "acme", "kind": "volume", "start": "2026-11-01", "end": "2026-12-01", "interval": "day",
            **changes}
    with pytest.raises(InputInvalid) as caught:
        reports.check(engine, reports.Request(**args))
    assert field in [v.field for v in caught.value.violations]


def test_unknown_tenant_is_not_found(engine: Any) -> None:
    with pytest.raises(NotFound):
        run(engine, "volume", "2026-11-01", "2026-12-01", tenant="gamma")


def test_saved_layout_runs_its_kinds(engine: Any) -> None:
    reports.save_layout(engine, "acme", "monthly", {"kinds": ["volume", "callers"], "interval": "day"})
    assert reports.layouts(engine, "acme")["monthly"]["kinds"] == ["volume", "callers"]
    assert reports.layouts(engine, "beta") == {}
    done = reports.run_layout(engine, "acme", "monthly", "2026-11-10", "2026-11-11")
    assert [r.parameters["kind"] for r in done] == ["volume", "callers"]
    with pytest.raises(NotFound):
        reports.run_layout(engine, "beta", "monthly", "2026-11-10", "2026-11-11")
    with pytest.raises(InputInvalid):
        reports.save_layout(engine, "acme", "bad", {"kinds": ["volume"], "queue": "nope"})


def test_rollups_match_the_records(engine: Any) -> None:
    """Every stored record is in exactly one rollup (the volume report reads only the rollups)."""
    with Session(engine) as s:
        stored = len(list(s.exec(select(CallRecord.id).where(CallRecord.tenant == "acme"))))
    total = by_label(run(engine, "volume", "2026-03-01", "2026-12-01", "month"))["total"]["offered"]
    assert stored == total == 2 + 2 + 1 + 26  # autumn night, spring day, 31 October, November


def test_rebuilt_rollups_equal_the_incremental_ones(engine: Any) -> None:
    before = [rows(run(engine, kind, "2026-03-01", "2026-12-01", "hour")) for kind in ("volume", "finance")]
    rollups.rebuild(engine)
    assert [rows(run(engine, kind, "2026-03-01", "2026-12-01", "hour")) for kind in ("volume", "finance")] == before


def test_forget_callers_keeps_the_hash(engine: Any) -> None:
    n = call_records.forget_callers(engine, datetime(2026, 4, 1, tzinfo=AMSTERDAM))
    assert n == 2  # the two spring calls
    with Session(engine) as s:
        spring = list(s.exec(select(CallRecord).where(CallRecord.started_at < datetime(2026, 4, 1, tzinfo=AMSTERDAM))))
    assert [r.caller for r in spring] == ["", ""] and all(len(r.caller_hash) == 64 for r in spring)
