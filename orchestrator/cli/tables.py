"""Rows out of the CLI: a coloured table on a terminal, aligned plain text in a pipe, JSON with
``--json`` (stable keys, for scripts)."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import Any

import typer


def emit(rows: Sequence[dict[str, Any]], columns: Sequence[str], *, as_json: bool, title: str = "") -> None:
    if as_json:
        typer.echo(json.dumps(list(rows), indent=2, ensure_ascii=False, default=str))
        return
    if sys.stdout.isatty():
        from rich.console import Console
        from rich.table import Table

        table = Table(*columns, title=title or None, header_style="bold cyan")
        for row in rows:
            table.add_row(*(str(row.get(c, "")) for c in columns))
        Console().print(table)
        return
    widths = [max([len(c), *(len(str(r.get(c, ""))) for r in rows)]) for c in columns]
    typer.echo("  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip())
    for row in rows:
        typer.echo("  ".join(str(row.get(c, "")).ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip())
