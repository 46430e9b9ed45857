"""The document's report paths and schemas (issue 16): reports by kind, saved layouts."""

from __future__ import annotations

from typing import Any

from orchestrator.api.openapi.parts import INT, JSON, NSTR, STR, TENANT, _body, _obj, _op, _ref
from orchestrator.domain.reports.model import Kind

_KINDS = [k.value for k in Kind]
_INTERVALS = ["15m", "hour", "day", "week", "month"]
_CELL: dict[str, Any] = {"nullable": True, "oneOf": [STR, {"type": "number"}]}
_TABLE = _obj({"name": STR, "columns": {"type": "array", "items": STR},
               "rows": {"type": "array", "items": {"type": "array", "items": _CELL}}})
_REPORT = _obj({"parameters": {"type": "object", "additionalProperties": STR},
                "tables": {"type": "array", "items": _TABLE}})

SCHEMAS: dict[str, Any] = {
    "Report": _REPORT,
    "Reports": _obj({"reports": {"type": "array", "items": _REPORT}}),
    "ReportLayout": _obj({"kinds": {"type": "array", "items": {"type": "string", "enum": _KINDS}, "minItems": 1},
                          "interval": {"type": "string", "enum": _INTERVALS}, "number": NSTR, "queue": NSTR,
                          "flow": NSTR, "more_than": {"type": "integer", "nullable": True, "minimum": 0}},
                         required=["kinds"]),
    "ReportLayouts": _obj({"layouts": {"type": "array", "items": {"type": "object"}}}),
}


def _q(name: str, description: str, *, required: bool = False, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": required, "schema": schema or STR, "description": description}


_RANGE = [_q("from", "First day (YYYY-MM-DD) or Europe/Amsterdam wall-clock time (YYYY-MM-DDTHH:MM)", required=True),
          _q("to", "The first moment NOT in the report, same forms (to=2026-11-01 ends October)", required=True)]
_LAYOUT = {"name": "name", "in": "path", "required": True, "schema": STR, "description": "The layout's name"}


def _report_ok(many: bool = False) -> dict[str, Any]:
    schema = _ref("Reports") if many else _ref("Report")
    return {"200": {"description": "The report: its parameters and tables (CSV when Accept asks for text/csv: "
                                   "'# key: value' parameter lines, then each table)",
                    "content": {JSON: {"schema": schema}, "text/csv": {"schema": STR}}}}


def report_paths(tenant_path: str) -> dict[str, Any]:
    t = tenant_path
    kind = {"name": "kind", "in": "path", "required": True, "schema": {"type": "string", "enum": _KINDS},
            "description": "volume, waiting, queues, origins, peaks, callers, routing or finance (docs/reports.md)"}
    params = [TENANT, kind, *_RANGE,
              _q("interval", "Interval of the rows (Europe/Amsterdam wall clock); must divide the range",
                 schema={"type": "string", "enum": _INTERVALS}),
              _q("number", "Only this service number (the tenant's own)"),
              _q("queue", "Only calls that waited in this queue (the tenant's own)"),
              _q("flow", "Only calls that ran this call flow (the tenant's own)"),
              _q("more_than", "callers: list the callers with more calls than this in an interval", schema=INT),
              _q("abandon_grace", "queues: S, seconds within which an abandoned call does not count against the "
                                  "service level", schema={"type": "number"})]
    return {
        f"{t}/reports/{{kind}}": {"get": _op(
            "A report over a range, per interval; a bad parameter or another tenant's number, queue or flow is "
            "a 422 naming it, never an empty report", _report_ok(), (404, 422), params=params, op_id="getReport")},
        f"{t}/report-layouts": {"get": _op("The tenant's saved report layouts",
                                           {"200": {"description": "Layouts", "content": {JSON: {
                                               "schema": _ref("ReportLayouts")}}}},
                                           (404,), params=[TENANT], op_id="listReportLayouts")},
        f"{t}/report-layouts/{{name}}": {
            "put": _op("Save (or replace) a layout: kinds, interval, filters; checked against the tenant",
                       {"200": {"description": "Saved", "content": {JSON: {"schema": {"type": "object"}}}}},
                       (404, 422), params=[TENANT, _LAYOUT], body=_body("ReportLayout"), op_id="putReportLayout"),
            "delete": _op("Delete a layout", {"204": {"description": "Deleted"}}, (404,), params=[TENANT, _LAYOUT],
                          op_id="deleteReportLayout"),
        },
        f"{t}/report-layouts/{{name}}/report": {"get": _op(
            "Run a saved layout over a range: one report per kind it names", _report_ok(many=True), (404, 422),
            params=[TENANT, _LAYOUT, *_RANGE], op_id="runReportLayout")},
    }
