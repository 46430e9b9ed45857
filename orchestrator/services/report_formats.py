"""A report as text (an aligned table), JSON, CSV (streamed in chunks) or an xlsx workbook.

Every format carries the report's parameters: JSON as ``parameters``, CSV as leading ``# key:
value`` lines, the table as a header block, xlsx as a first sheet."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import orjson
from openpyxl import Workbook

from orchestrator.domain.reports.model import Report

CHUNK_ROWS = 1000


def json_chunks(reports: Sequence[Report]) -> Iterator[bytes]:
    """One JSON document ({"reports": [...]} for several, the report itself for one), row by row."""
    if len(reports) != 1:
        yield b'{"reports":['
    for n, report in enumerate(reports):
        yield (b"," if n else b"") + b'{"parameters":' + orjson.dumps(report.parameters) + b',"tables":['
        for i, table in enumerate(report.tables):
            yield ((b"," if i else b"") + b'{"name":' + orjson.dumps(table.name) + b',"columns":'
                   + orjson.dumps(list(table.columns)) + b',"rows":[')
            buf: list[bytes] = []
            first = True
            for row in table.rows:
                buf.append((b"" if first else b",") + orjson.dumps(list(row)))
                first = False
                if len(buf) >= CHUNK_ROWS:
                    yield b"".join(buf)
                    buf.clear()
            yield b"".join(buf) + b"]}"
        yield b"]}"
    if len(reports) != 1:
        yield b"]}"


def csv_chunks(reports: Sequence[Report]) -> Iterator[str]:
    """CSV: ``# key: value`` parameter lines, then each table as ``# table: name``, a header row
    and its rows; a blank line between tables."""
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    for n, report in enumerate(reports):
        if n:
            out.write("\n")
        for key, value in report.parameters.items():
            out.write(f"# {key}: {value}\n")
        for i, table in enumerate(report.tables):
            out.write(f"{chr(10) if i else ''}# table: {table.name}\n")
            w.writerow(table.columns)
            for k, row in enumerate(table.rows, 1):
                w.writerow(row)
                if k % CHUNK_ROWS == 0:
                    yield out.getvalue()
                    out.seek(0)
                    out.truncate()
        yield out.getvalue()
        out.seek(0)
        out.truncate()


def text(reports: Sequence[Report]) -> str:
    """Aligned columns for a terminal, the parameters above each report."""
    lines: list[str] = []
    for report in reports:
        width = max(len(k) for k in report.parameters)
        lines += [f"{k.ljust(width)}  {v}" for k, v in report.parameters.items()]
        for table in report.tables:
            cells = [list(table.columns), *([_cell(v) for v in row] for row in table.rows)]
            widths = [max(len(r[i]) for r in cells) for i in range(len(table.columns))]
            lines += ["", f"== {table.name} =="]
            for k, row in enumerate(cells):
                lines.append("  ".join(c.rjust(w) if k and i else c.ljust(w) for i, (c, w)
                                       in enumerate(zip(row, widths, strict=True))).rstrip())
                if k == 0:
                    lines.append("  ".join("-" * w for w in widths))
        lines.append("")
    return "\n".join(lines)


def _cell(v: Any) -> str:
    return "" if v is None else str(v)


def xlsx(reports: Sequence[Report], path: Path) -> None:
    """A workbook: a 'parameters' sheet, then one sheet per table (write-only: streamed to disk)."""
    book = Workbook(write_only=True)
    for n, report in enumerate(reports, 1):
        suffix = f" {n}" if len(reports) > 1 else ""
        params = book.create_sheet(f"parameters{suffix}")
        for key, value in report.parameters.items():
            params.append([key, value])
        for table in report.tables:
            sheet = book.create_sheet(f"{table.name}{suffix}"[:31])  # Excel's limit on sheet names
            sheet.append(list(table.columns))
            for row in table.rows:
                sheet.append(list(row))
    book.save(path)
