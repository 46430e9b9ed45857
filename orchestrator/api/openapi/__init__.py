"""The OpenAPI 3 document served at /openapi.json. Written by hand next to the handlers (aiohttp
has no schema generation); ``tests/api/test_openapi.py`` runs schemathesis against the running
app so a drift between this and the handlers fails the tests."""

from __future__ import annotations

import copy
from typing import Any

from orchestrator.api.openapi import reports
from orchestrator.api.openapi.parts import JSON
from orchestrator.api.openapi.paths import (
    TENANT_PATH,
    admin_paths,
    call_centre_paths,
    flow_paths,
    number_paths,
    record_paths,
)
from orchestrator.api.openapi.schemas import SCHEMAS


def document() -> dict[str, Any]:
    paths: dict[str, Any] = {
        **admin_paths(),
        **number_paths(),
        **flow_paths(),
        **record_paths(),
        **call_centre_paths(),
        **reports.report_paths(TENANT_PATH),
        "/openapi.json": {"get": {"summary": "This document", "operationId": "openapi", "security": [],
                                  "responses": {"200": {"description": "OpenAPI 3 document",
                                                        "content": {JSON: {"schema": {"type": "object"}}}}}}},
    }
    # A fresh copy each time: callers (schemathesis, json encoders) may modify what they get.
    return copy.deepcopy({
        "openapi": "3.0.3",
        "info": {"title": "Service-number orchestrator", "version": "1",
                 "description": "Dutch service numbers on Asterisk 22. Errors are always "
                                "{\"errors\": [{\"field\", \"rule\"}]}."},
        "components": {"schemas": {**SCHEMAS, **reports.SCHEMAS},
                       "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer",
                                                      "description": "orchestrator api token create"}}},
        "security": [{"bearer": []}],
        "paths": paths,
    })


def query_parameters(doc: dict[str, Any]) -> dict[tuple[str, str], frozenset[str]]:
    """(METHOD, path template) -> the query parameters the document allows there."""
    return {(method.upper(), path): frozenset(p["name"] for p in op.get("parameters", []) if p["in"] == "query")
            for path, ops in doc["paths"].items() for method, op in ops.items()}
