"""Report benchmark rows (issue 16): a month of `volume` per hour and of `callers` for one tenant,
on 10 million call records in PostgreSQL and 100,000 in SQLite; and what the rollups add to the
live controller's write of a call record.

    python -m tests.bench.reports_bench [--pg-records N] [--sqlite-records N] [--out FILE.json]

The records are generated in SQL (INSERT ... SELECT over a series): 30 % of the calls belong to
one big tenant, the rest to 17 others, spread evenly over 2026 (PostgreSQL) or over March 2026
(SQLite, so its month holds all 100,000 records), from 60,000 distinct callers; the rollups are
then built from them (store/rollups.rebuild: the same sums the controller keeps incrementally).
Each report is run once to warm the caches, then timed three times; the median is the figure."""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlmodel import Session, select

from orchestrator.live.calls import FinishedCall, Outcome
from orchestrator.live.records import store_batch, to_row
from orchestrator.services import reports
from orchestrator.store import rollups, tenants
from orchestrator.store.engine import make_engine
from orchestrator.store.models import CallRecord
from tests.harness.postgres import PostgresServer

BIG = "big"
YEAR_S = 365 * 86400
MONTH = ("2026-03-01", "2026-04-01")  # with the spring DST change: 743 hourly rows

_COLUMNS = ("call_id, service_number, tenant, caller, started_at, ended_at, outcome, reason, wait_s, talk_s, "
            "dial_status, end_observed, note, caller_hash, origin, path, revenue_cents, revenue_call_cents")


def _select(dialect: str, first: int, last: int, span_s: int, start_epoch: int, total: int) -> str:
    """The generated rows g in [first, last] as one SELECT."""
    if dialect == "postgresql":
        series = f"generate_series({first}, {last}) AS g"
        at = f"to_timestamp({start_epoch} + g::float8 * {span_s} / {total})"
        later = f"{at} + ((g % 30) + (g % 300)) * interval '1 second'"
        hash_ = "lpad(((g::bigint * 7919) % 60000)::text, 64, '0')"
        tenant = "CASE WHEN g % 10 < 3 THEN 'big' ELSE 't' || (g % 17)::text END"
        number = "'+31800000' || lpad((g % 40)::text, 4, '0')"
        prefix = ""
    else:
        prefix = f"WITH RECURSIVE s(g) AS (SELECT {first} UNION ALL SELECT g + 1 FROM s WHERE g < {last}) "
        series = "s"
        epoch = f"({start_epoch} + g * {span_s}.0 / {total})"
        at = f"strftime('%Y-%m-%d %H:%M:%S', {epoch}, 'unixepoch') || '.000000'"
        later = f"strftime('%Y-%m-%d %H:%M:%S', {epoch} + (g % 30) + (g % 300), 'unixepoch') || '.000000'"
        hash_ = "printf('%064d', (g * 7919) % 60000)"
        tenant = "CASE WHEN g % 10 < 3 THEN 'big' ELSE 't' || (g % 17) END"
        number = "'+31800000' || printf('%04d', g % 40)"
    outcome = ("CASE (g / 7) % 10 WHEN 6 THEN 'abandoned' WHEN 7 THEN 'busy' WHEN 8 THEN 'no_answer' "
               "WHEN 9 THEN 'blocked' ELSE 'answered' END")
    return (f"{prefix}SELECT 'b' || g, {number}, {tenant}, '', {at}, {later}, {outcome}, NULL, g % 30, g % 300, '', "
            f"true, '', {hash_}, 'withheld', '', 0, 0 FROM {series}")


def fill(engine: Any, total: int, start: datetime, span_s: int, chunk: int = 1_000_000) -> float:
    """Generate ``total`` records; seconds it took (records, then rollups, then ANALYZE)."""
    started = time.monotonic()
    epoch = int(start.timestamp())
    with Session(engine) as s:
        for name in (BIG, *(f"t{i}" for i in range(17))):
            tenants.tenant_row(s, name, create=True)
        s.commit()
    for first in range(1, total + 1, chunk):
        last = min(total, first + chunk - 1)
        with engine.begin() as conn:
            conn.execute(text(f"INSERT INTO callrecord ({_COLUMNS}) "
                              + _select(engine.dialect.name, first, last, span_s, epoch, total)))
        print(f"  {last:,} records ({time.monotonic() - started:.0f} s)", flush=True)
    rows = rollups.rebuild(engine)
    with engine.begin() as conn:
        conn.execute(text("ANALYZE"))
    print(f"  {rows:,} rollup rows; filled in {time.monotonic() - started:.0f} s", flush=True)
    return time.monotonic() - started


def timed(fn: Callable[[], Any], runs: int = 3) -> tuple[float, Any]:
    result = fn()  # warm-up
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), result


def month_reports(engine: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for kind, interval in (("volume", "hour"), ("callers", "month")):
        request = reports.Request(BIG, kind, MONTH[0], MONTH[1], interval)
        seconds, report = timed(lambda r=request: reports.report(engine, r))
        rows = list(report.tables[0].rows)
        calls = rows[-1][1] if kind == "volume" else rows[0][1]
        out[kind] = {"seconds": round(seconds, 3), "calls_in_month": calls, "rows": len(rows)}
        if kind == "callers":
            out[kind]["unique_callers"] = rows[0][3]
        print(f"  {kind} ({interval}s of {MONTH[0]}..{MONTH[1]}): {seconds * 1000:.0f} ms, {calls:,} calls", flush=True)
    return out


def _plain_save(engine: Any, rows: list[CallRecord]) -> None:
    """How call records were stored before reports (git 2ce7e98): a look-up and an add per row."""
    with Session(engine) as session:
        for row in rows:
            if session.exec(select(CallRecord.id).where(CallRecord.call_id == row.call_id)).first() is None:
                session.add(row)
        session.commit()


def write_cost(engine: Any, calls: int = 2000) -> dict[str, float]:
    """Milliseconds per call record stored the way the controller does now (hash, origin, tariff
    look-up, rollups), against the way it did before reports, in batches of 1 and of 200."""
    at = datetime(2026, 6, 1, 12, tzinfo=UTC)

    def batch(tag: str, n: int) -> list[FinishedCall]:
        return [FinishedCall(f"w-{tag}-{i}", "+318000000001", BIG, f"+3120{i:07d}", at + timedelta(seconds=i),
                             at + timedelta(seconds=i + 5), at + timedelta(seconds=i + 65), "main", None,
                             Outcome.ANSWERED, None, 5.0, 60.0, "ANSWER", True) for i in range(n)]
    out = {}
    for size in (1, 200):
        for how, store in (("now", lambda b: store_batch(engine, b, "bench-key")),
                           ("before", lambda b: _plain_save(engine, [to_row(c) for c in b]))):
            started = time.perf_counter()
            for k in range(calls // size):
                store(batch(f"{how}-{size}-{k}", size))
            out[f"batch_{size}_{how}_ms_per_call"] = round((time.perf_counter() - started) / calls * 1000, 3)
    print(f"  write cost per call: {out}", flush=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pg-records", type=int, default=10_000_000)
    parser.add_argument("--sqlite-records", type=int, default=100_000)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    results: dict[str, Any] = {"started": datetime.now().isoformat(timespec="seconds")}
    with tempfile.TemporaryDirectory(prefix="report-bench-") as tmp:
        if args.sqlite_records:
            print(f"SQLite, {args.sqlite_records:,} records in March 2026", flush=True)
            engine = make_engine(f"sqlite:///{tmp}/bench.db")
            fill(engine, args.sqlite_records, datetime(2026, 3, 1, tzinfo=UTC), 30 * 86400)
            results["sqlite"] = {"records": args.sqlite_records, **month_reports(engine),
                                 "write": write_cost(engine)}
            engine.dispose()
        if args.pg_records:
            print(f"PostgreSQL, {args.pg_records:,} records over 2026", flush=True)
            server = PostgresServer().start()
            try:
                engine = make_engine(server.url(server.create_database()))
                results["postgresql"] = {"records": args.pg_records,
                                         "fill_s": round(fill(engine, args.pg_records,
                                                              datetime(2026, 1, 1, tzinfo=UTC), YEAR_S)),
                                         **month_reports(engine), "write": write_cost(engine)}
                engine.dispose()
            finally:
                server.stop()
    text_out = json.dumps(results, indent=2)
    print(text_out)
    if args.out is not None:
        args.out.write_text(text_out)


if __name__ == "__main__":
    main()
