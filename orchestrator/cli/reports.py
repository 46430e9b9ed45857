"""`orchestrator report KIND`: historical reports per Europe/Amsterdam interval, as a table,
JSON, CSV or xlsx; saved layouts per tenant; the caller-number retention run by hand."""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from orchestrator.asterisk.layout import paths_for
from orchestrator.cli.common import current_settings, engine_for, errors_to_exit_codes, say
from orchestrator.domain.reports.intervals import parse_moment
from orchestrator.domain.reports.model import Kind, Report
from orchestrator.errors import InputInvalid, Violation
from orchestrator.services import report_formats, report_rebuild, reports

report_app = typer.Typer(help="Historical reports per interval: volume, waiting, queues, origins, peaks, callers, "
                              "routing, finance.", no_args_is_help=True)
layout_app = typer.Typer(help="Saved report layouts of a tenant: kinds, filters and interval, run on demand.",
                         no_args_is_help=True)
report_app.add_typer(layout_app, name="layout")

Tenant = Annotated[str, typer.Option("--tenant", help="The tenant the report is about.")]
From = Annotated[str, typer.Option("--from", help="First day (YYYY-MM-DD) or local time (YYYY-MM-DDTHH:MM).")]
To = Annotated[str, typer.Option("--to", help="First moment NOT in the report (e.g. --to 2026-11-01 for October).")]
IntervalOpt = Annotated[str, typer.Option("--interval", help="15m, hour, day, week or month.")]
Format = Annotated[str, typer.Option("--format", help="table, json, csv or xlsx (xlsx needs -o).")]
Output = Annotated[Path | None, typer.Option("-o", "--output", help="Write to this file instead of stdout.")]

HELP = {
    Kind.VOLUME: "Offered calls per interval by outcome (answered, busy, blocked by reason, abandoned, ...).",
    Kind.WAITING: "Queue waiting time per interval: mean, median, p90, longest.",
    Kind.QUEUES: "Per queue: offered, answered, abandoned, full, timed out, service level, ASA, AHT; per agent.",
    Kind.ORIGINS: "Calls per caller origin: Dutch area code, mobile, country, withheld.",
    Kind.PEAKS: "The busiest intervals and the most calls in progress at once.",
    Kind.CALLERS: "Unique callers (exact, from keyed hashes) and callers who called more than N times.",
    Kind.ROUTING: "How many calls took each exit of each flow block or routing step (menu keys, rosters, splits).",
    Kind.FINANCE: "090x: calls, paid minutes, revenue at the tariff of the time; 0800: minutes the tenant pays.",
}


def write(found: list[Report], fmt: str, output: Path | None) -> None:
    if fmt not in reports.FORMATS:
        raise InputInvalid([Violation("format", f"{fmt!r} is not one of: {', '.join(reports.FORMATS)}")])
    if fmt == "xlsx":
        if output is None:
            raise InputInvalid([Violation("output", "xlsx is a binary file: give -o FILE.xlsx")])
        report_formats.xlsx(found, output)
        say(f"wrote {output}")
        return
    out = output.open("w") if output is not None else sys.stdout
    try:
        if fmt == "json":
            for chunk in report_formats.json_chunks(found):
                out.write(chunk.decode())
            out.write("\n")
        elif fmt == "csv":
            for text in report_formats.csv_chunks(found):
                out.write(text)
        else:
            out.write(report_formats.text(found))
    finally:
        if output is not None:
            out.close()
            say(f"wrote {output}")


def _kind_command(kind: Kind) -> Callable[..., None]:
    def command(tenant: Tenant, start: From, end: To, interval: IntervalOpt = "day",
                number: Annotated[str | None, typer.Option(help="Only this service number.")] = None,
                queue: Annotated[str | None, typer.Option(help="Only calls that waited in this queue.")] = None,
                flow: Annotated[str | None, typer.Option(help="Only calls that ran this call flow.")] = None,
                more_than: Annotated[int, typer.Option(help="callers: list callers with more calls than this.")] = 2,
                abandon_grace: Annotated[float, typer.Option(
                    help="queues: S, seconds within which an abandoned call does not count against the "
                         "service level.")] = 5.0,
                fmt: Format = "table", output: Output = None) -> None:
        with errors_to_exit_codes():
            if fmt not in reports.FORMATS:  # before any reading: a bad format changes nothing
                raise InputInvalid([Violation("format", f"{fmt!r} is not one of: {', '.join(reports.FORMATS)}")])
            engine = engine_for(current_settings())
            request = reports.Request(tenant, kind.value, start, end, interval, number, queue, flow, more_than,
                                      abandon_grace)
            write([reports.report(engine, request)], fmt, output)
    command.__doc__ = HELP[kind]
    return command


for _kind in Kind:
    report_app.command(_kind.value, help=HELP[_kind])(_kind_command(_kind))


@report_app.command("forget-callers")
def forget_callers(days: Annotated[int | None, typer.Option(
        help="Keep raw caller numbers this many days (default SVC_CALLER_RETENTION_DAYS, 90).")] = None) -> None:
    """Remove raw caller numbers from call records older than the retention (the hash stays).
    The live controller does this every hour by itself."""
    with errors_to_exit_codes():
        settings = current_settings()
        keep = settings.caller_retention_days if days is None else days
        n = reports.forget_callers(engine_for(settings), keep, datetime.now(UTC))
        typer.echo(f"removed the caller number from {n} call record(s) older than {keep} days")


@layout_app.command("save")
def layout_save(tenant: Tenant, name: Annotated[str, typer.Argument(help="The layout's name.")],
                kinds: Annotated[str, typer.Option(help="Comma-separated kinds, e.g. volume,callers.")],
                interval: IntervalOpt = "day",
                number: Annotated[str | None, typer.Option(help="Only this service number.")] = None,
                queue: Annotated[str | None, typer.Option(help="Only this queue.")] = None,
                flow: Annotated[str | None, typer.Option(help="Only this call flow.")] = None) -> None:
    """Save (or replace) a named layout; it is checked against the tenant first."""
    with errors_to_exit_codes():
        spec = {"kinds": [k.strip() for k in kinds.split(",") if k.strip()], "interval": interval,
                "number": number, "queue": queue, "flow": flow}
        reports.save_layout(engine_for(current_settings()), tenant, name, spec)
        typer.echo(f"saved report layout {name!r} of {tenant}")


@layout_app.command("list")
def layout_list(tenant: Tenant) -> None:
    """The tenant's saved layouts."""
    with errors_to_exit_codes():
        for name, spec in reports.layouts(engine_for(current_settings()), tenant).items():
            typer.echo(f"{name}: {', '.join(spec['kinds'])} per {spec.get('interval', 'day')}"
                       + "".join(f", {k} {spec[k]}" for k in ("number", "queue", "flow") if spec.get(k)))


@layout_app.command("run")
def layout_run(tenant: Tenant, name: Annotated[str, typer.Argument(help="The layout's name.")], start: From,
               end: To, fmt: Format = "table", output: Output = None) -> None:
    """Run a saved layout over a range: every kind it names, one after the other."""
    with errors_to_exit_codes():
        if fmt not in reports.FORMATS:
            raise InputInvalid([Violation("format", f"{fmt!r} is not one of: {', '.join(reports.FORMATS)}")])
        write(reports.run_layout(engine_for(current_settings()), tenant, name, start, end), fmt, output)


@layout_app.command("delete")
def layout_delete(tenant: Tenant, name: Annotated[str, typer.Argument(help="The layout's name.")]) -> None:
    """Delete a saved layout."""
    with errors_to_exit_codes():
        reports.delete_layout(engine_for(current_settings()), tenant, name)
        typer.echo(f"deleted report layout {name!r} of {tenant}")


@report_app.command("rebuild")
def rebuild(cdr: Annotated[Path | None, typer.Option(help="Asterisk's Master.csv (default: the instance's).")] = None,
            queue_log: Annotated[Path | None, typer.Option(help="app_queue's queue_log (default: the instance's).")]
            = None,
            since: Annotated[str | None, typer.Option(help="Only calls from this day / local time on.")]
            = None) -> None:
    """Rebuild call records of calls the live controller did not see (it was down) from Asterisk's
    CDR and queue_log; calls already recorded are left as they are."""
    with errors_to_exit_codes():
        settings = current_settings()
        paths = paths_for(settings)
        cdr_path, log_path = cdr or paths.cdr_csv, queue_log or paths.queue_log
        start = parse_moment(since, "since") if since else None
        try:
            cdr_lines = cdr_path.read_text().splitlines()
            log_lines = log_path.read_text().splitlines() if log_path.exists() else []
        except OSError as exc:
            raise InputInvalid([Violation("cdr", f"cannot read {cdr_path}: {exc.strerror}")]) from exc
        done = report_rebuild.rebuild_calls(engine_for(settings), cdr_lines, log_lines, settings.caller_hash_key(),
                                            start)
        typer.echo(f"{done.calls} call(s) in the CDR: {done.added} added, {done.known} already recorded, "
                   f"{done.unattributed} without a known service number or tenant")
