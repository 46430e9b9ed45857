"""Building blocks of the OpenAPI document: path parameters, the error answers every operation
has, and short constructors for operations, JSON bodies and closed objects (the underscore names
are private to the ``openapi`` package: its modules use them, nothing else does)."""

from __future__ import annotations

from typing import Any

JSON = "application/json"
TENANT = {"name": "tenant", "in": "path", "required": True, "schema": {"type": "string"},
          "description": "Tenant name. Another tenant's name answers 404, like an unknown one."}
NUMBER = {"name": "number", "in": "path", "required": True, "schema": {"type": "string"},
          "description": "Service number in any usual form (E.164 like +318001234567, or 08001234567)."}
CALL = {"name": "call_id", "in": "path", "required": True, "schema": {"type": "string"},
        "description": "the caller channel's Uniqueid (AMI SvcRecording event), e.g. 1767225600.12"}
FLOW = {"name": "flow", "in": "path", "required": True, "schema": {"type": "string"},
        "description": "A flow named under 'flows' in the plan"}
LIST = {"name": "list", "in": "path", "required": True, "schema": {"type": "string"},
        "description": "A digit list named under 'lists' in the plan"}
AGENT = {"name": "agent", "in": "path", "required": True, "schema": {"type": "string"}, "description": "Agent name"}
NAME = {"name": "name", "in": "path", "required": True, "schema": {"type": "string"},
        "description": "Queue or hunt group name"}
IF_MATCH = {"name": "If-Match", "in": "header", "required": False, "schema": {"type": "string"},
            "description": "The ETag of the plan this change is based on (from GET); 412 when the plan has "
                           "moved on since"}
CONFIRM_REMOVAL = {"name": "confirm_removal", "in": "query", "required": False,
                   "schema": {"type": "boolean", "default": False},
                   "description": "Needed when the plan leaves the tenant no number or drops more than 5 (409 "
                                  "otherwise)"}
ETAG = {"ETag": {"description": "The plan's version: the id of its applied version (history)",
                 "schema": {"type": "string"}}}
LIMIT = {"name": "limit", "in": "query", "required": False,
         "schema": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 100}}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {JSON: {"schema": schema}}}


def _errors(*codes: int) -> dict[str, Any]:
    words = {400: "Body is not JSON / not multipart", 401: "Missing, unknown or revoked token",
             403: "Needs an admin token", 404: "No such tenant, number or announcement (or not yours)",
             409: "Conflicts with the current state (or a removal that needs confirm_removal)",
             412: "If-Match names a version the plan is no longer at", 413: "Upload too large",
             415: "Not WAV or MP3 (judged by content) / a JSON body not sent as application/json",
             422: "Invalid input: every violation with field and rule",
             503: "Asterisk unreachable or refused the dialplan (the previous one is active again)"}
    return {str(c): _json(_ref("Errors"), words[c]) for c in codes}


def _op(summary: str, ok: dict[str, Any], errors: tuple[int, ...], *, params: list[dict[str, Any]] | None = None,
        body: dict[str, Any] | None = None, op_id: str) -> dict[str, Any]:
    if body is not None and JSON in body["content"]:
        # Every JSON body: not JSON or nested too deep 400, not sent as JSON 415, integers above 64 bits 422.
        errors = tuple(sorted({*errors, 400, 415, 422}))
    op: dict[str, Any] = {"summary": summary, "operationId": op_id, "responses": {**ok, **_errors(401, *errors)}}
    if params:
        op["parameters"] = params
    if body is not None:
        op["requestBody"] = body
    return op


def _obj(props: dict[str, Any], required: list[str] | None = None, *, closed: bool = True) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "object", "properties": props,
                           "required": list(props) if required is None else required}
    if closed:
        out["additionalProperties"] = False
    return out


STR = {"type": "string"}
NSTR = {"type": "string", "nullable": True}
INT = {"type": "integer"}
STAMP = {"type": "string", "format": "date-time"}


def _body(schema: str, content_type: str = JSON) -> dict[str, Any]:
    return {"required": True, "content": {content_type: {"schema": _ref(schema)}}}
