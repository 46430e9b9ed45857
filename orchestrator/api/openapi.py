"""The OpenAPI 3 document served at /openapi.json. Written by hand next to the handlers (aiohttp
has no schema generation); ``tests/api/test_openapi.py`` runs schemathesis against the running
app so a drift between this and the handlers fails the tests."""

from __future__ import annotations

import copy
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

NUMBER_FIELDS: dict[str, Any] = {
    "number": STR, "national": STR, "kind": STR,
    "package": {"type": "string", "enum": ["basis", "standaard", "premium"]},
    "active": STR, "routings": {"type": "array", "items": STR}}

_SCHEMAS: dict[str, Any] = {
    "Errors": _obj({"errors": {"type": "array", "minItems": 1, "items": _obj({"field": STR, "rule": STR})}}),
    "Tenants": _obj({"tenants": {"type": "array", "items": STR}}),
    "NumberSummary": _obj(NUMBER_FIELDS),
    "Numbers": _obj({"numbers": {"type": "array", "items": _ref("NumberSummary")}}),
    "NumberDetail": _obj({**NUMBER_FIELDS, "plan": {"type": "object", "description": "The number's part of the plan"}}),
    "Plan": {
        "type": "object", "additionalProperties": False,
        "description": "A tenant's plan, as in the plan format (docs/plan.md). `tenant` defaults to the URL's. "
                       "Through the API an announcement's `file` is the name of an uploaded announcement.",
        "properties": {
            "tenant": STR,
            "announcements": {"type": "object", "additionalProperties": _obj(
                {"sound": STR, "file": STR, "text": STR}, required=[])},
            "numbers": {"type": "array", "items": {
                "type": "object", "required": ["number"],
                "description": "routings and active, or (Premium) the flow the number runs",
                "properties": {"number": STR, "active": STR, "routings": {"type": "object"}, "flow": STR}}},
            "recording_retention": {"type": "string", "pattern": "^[1-9][0-9]{0,3}[dy]$",
                                    "description": "How long new call recordings are kept: 90d, 7y"},
            "agents": {"type": "object", "description": "Call-centre agents: number or endpoint, skills, wrapup"},
            "queues": {"type": "object", "description": "Queues: tier, strategy, agents, exits, waiting, night"},
            "hunt_groups": {"type": "object", "description": "Hunt groups: strategy, agents, no_answer, night"},
            "flows": {"type": "object", "description": "Premium call flows: {name: {start, blocks, fallback, "
                                                       "max_visits}} (docs/flows.md)"},
            "layout": {"type": "object", "description": "The builder's box positions per flow and block; "
                                                        "not routing, never reloads anything"},
            "lists": {"type": "array", "items": STR, "description": "Digit lists input blocks check (see /lists)"},
        },
    },
    "NumberEntry": {"type": "object", "required": ["number"],
                    "description": "One entry of a plan's `numbers` (the plan format, docs/plan.md); `number` must be "
                                   "the URL's",
                    "properties": {"number": STR, "active": STR, "routings": {"type": "object"}, "flow": STR}},
    "Validated": _obj({"valid": {"type": "boolean"}, "tenant": STR, "numbers": INT}),
    "ApplyReport": _obj({
        "tenant": STR, "version": STR, "numbers": INT, "total_numbers": INT, "files": INT,
        "reload_ms": {"type": "number", "nullable": True}, "verified_contexts": INT, "blacklist_entries": INT,
        "notes": {"type": "array", "items": STR}}),
    "SimulateRequest": _obj({
        "caller": {"type": "string", "description": "As presented; empty = withheld"},
        "at": {"type": "string", "nullable": True, "description": "'YYYY-MM-DD HH:MM' Europe/Amsterdam; default now"},
        "withheld": {"type": "boolean"},
        "no_answer": {"type": "array", "items": STR}, "busy": {"type": "array", "items": STR},
        "unavailable": {"type": "array", "items": STR},
        "calls_in_progress": {"type": "integer", "minimum": 0, "maximum": 100000},
        "digits": {"type": "string", "maxLength": 400, "pattern": "^[0-9*#, -]*$",
                   "description": "Keys pressed in a call flow: '1,2,123456#'; '-' = a timeout"}}, required=[]),
    "Simulation": _obj({
        "number": STR, "caller": STR, "at": STR,
        "outcome": {"type": "string",
                    "enum": ["answered", "blocked", "busy", "unanswered", "queue", "hunt", "hangup"]},
        "reason": NSTR, "answered_by": NSTR, "destinations": {"type": "array", "items": STR},
        "steps": {"type": "array", "items": {"type": "object", "required": ["step"], "properties": {"step": STR}}},
        "flow": {"type": "string", "description": "A Premium number's call flow (then blocks and values)"},
        "blocks": {"type": "array", "items": _obj({"flow": STR, "block": STR, "event": STR}, closed=False)},
        "values": {"type": "object"}},
        required=["number", "caller", "at", "outcome", "reason", "answered_by", "destinations", "steps"]),
    "BlacklistEntry": _obj({"caller": STR, "source": STR, "added_at": STAMP}),
    "Blacklist": _obj({"number": STR, "entries": {"type": "array", "items": _ref("BlacklistEntry")}}),
    "BlacklistAdd": _obj({"caller": {"type": "string", "description": "E.164 or national"}}),
    "BlacklistAdded": _obj({"caller": STR, "added": {"type": "boolean"}}),
    "Flows": _obj({"tenant": STR, "flows": {"type": "array", "items": _obj(
        {"name": STR, "start": STR, "blocks": INT, "numbers": {"type": "array", "items": STR}})}}),
    "FlowDetail": _obj({"name": STR, "flow": _ref("Flow"), "numbers": {"type": "array", "items": STR}}),
    "Flow": {"type": "object", "required": ["start", "blocks"],
             "description": "A call flow in the plan format (docs/flows.md): start, blocks {id: {type, params, "
                            "exits}}, fallback, max_visits",
             "properties": {"start": STR, "blocks": {"type": "object"}, "fallback": STR, "max_visits": INT}},
    "FlowValidated": _obj({"valid": {"type": "boolean"}, "tenant": STR, "changes": {"type": "array", "items": STR}}),
    "FlowApplied": _obj({
        "tenant": STR, "version": STR, "numbers": INT, "total_numbers": INT, "files": INT,
        "reload_ms": {"type": "number", "nullable": True}, "verified_contexts": INT, "blacklist_entries": INT,
        "notes": {"type": "array", "items": STR}, "changes": {"type": "array", "items": STR}}),
    "DigitLists": _obj({"tenant": STR, "lists": {"type": "array", "items": _obj({"name": STR, "entries": INT})}}),
    "DigitList": _obj({"tenant": STR, "list": STR, "entries": {"type": "array", "items": STR}}),
    "DigitListAdd": _obj({"value": {"type": "string", "description": "1 to 32 digits"}}),
    "DigitListAdded": _obj({"value": STR, "added": {"type": "boolean"}}),
    "RecordingKept": _obj({"call_id": STR, "kept": {"type": "boolean"}, "newly_marked": {"type": "boolean"}}),
    "RecordingPaused": _obj({"call_id": STR, "paused": {"type": "boolean"}, "at": STAMP}),
    "Version": _obj({"id": INT, "applied_at": STAMP, "tenant": STR, "numbers": INT, "files": INT,
                     "version": STR, "summary": STR}),
    "Live": _obj({
        "tenant": STR, "day": STR, "in_progress": INT,
        "in_progress_by_number": {"type": "object", "additionalProperties": INT},
        "today": {"type": "object", "additionalProperties": INT, "description": "outcome -> calls"},
        "today_by_number": {"type": "object", "additionalProperties": {"type": "object", "additionalProperties": INT}},
        "updated_at": {"type": "number", "nullable": True, "description": "epoch seconds of the last publish"}}),
    "Versions": _obj({"versions": {"type": "array", "items": _ref("Version")}}),
    "AuditEntry": _obj({"id": INT, "at": STAMP, "actor": STR, "tenant": NSTR, "action": STR, "target": NSTR,
                        "outcome": STR, "detail": {"type": "object", "nullable": True}}),
    "Audit": _obj({"entries": {"type": "array", "items": _ref("AuditEntry")}}),
    "Announcement": _obj({
        "name": STR, "content_type": {"type": "string", "enum": ["audio/wav", "audio/mpeg"]}, "bytes": INT,
        "seconds": {"type": "number"}, "created_at": STAMP,
        "used_by": {"type": "array", "items": STR, "description": "Plan fields referencing it; non-empty = in use"}}),
    "Announcements": _obj({"announcements": {"type": "array", "items": _ref("Announcement")}}),
    "AgentState": _obj({"agent": STR, "state": STR, "reason": STR, "queues": {"type": "array", "items": STR}}),
    "Agents": _obj({"agents": {"type": "array", "items": _ref("AgentState")}}),
    "AgentStateSet": _obj({"state": {"type": "string", "enum": ["available", "logged-out", "unavailable"]},
                           "reason": {"type": "string", "pattern": "^[A-Za-z0-9 _-]{0,40}$"}}, required=["state"]),
    "AgentStateDone": _obj({"agent": STR, "state": STR, "reason": STR}),
    "WaitingCall": _obj({"queue": STR, "skill": STR, "channel": STR, "caller": STR, "position": INT,
                         "wait": INT, "priority": INT}),
    "Waiting": _obj({"calls": {"type": "array", "items": _ref("WaitingCall")}}),
    "Night": _obj({"mode": {"type": "string", "enum": ["on", "off", "auto"]}}),
    "NightDone": {"type": "object", "properties": {"night": STR}, "required": ["night"]},
    "Call": _obj({"channel": {"type": "string", "pattern": "^[A-Za-z0-9/@.;_+-]{1,120}$"}}),
    "Move": _obj({"channel": {"type": "string", "pattern": "^[A-Za-z0-9/@.;_+-]{1,120}$"},
                  "skill": {"type": "string", "nullable": True, "pattern": "^[a-z0-9][a-z0-9_-]{0,39}$",
                            "description": "wait for an agent with this skill (one the queue's agents have)"}},
                 required=["channel"]),
    "CallMoved": _obj({"channel": STR, "queue": STR, "skill": NSTR}),
    "Priority": _obj({"channel": {"type": "string", "pattern": "^[A-Za-z0-9/@.;_+-]{1,120}$"},
                      "priority": {"type": "integer", "minimum": 0, "maximum": 100}}),
    "PrioritySet": _obj({"channel": STR, "priority": INT}),
    "Spy": _obj({"supervisor": {"type": "string", "pattern": "^(\\+?[0-9]{6,15}|[a-z0-9][a-z0-9_-]{0,39})$",
                                "description": "Phone number (rung via the carrier; no 0906/0909/112) or the "
                                               "endpoint name of one of the tenant's agent phones"},
                 "mode": {"type": "string", "enum": ["listen", "whisper", "barge"]}}, required=["supervisor"]),
    "SpyStarted": _obj({"agent": STR, "supervisor": STR, "mode": STR}),
    "PhoneAccount": _obj({
        "tenant": STR, "agent": STR,
        "endpoint": {"type": "string", "description": "PJSIP endpoint, aor and auth: <tenant>.<endpoint>"},
        "username": {"type": "string", "description": "SIP and auth username (= endpoint)"},
        "password": STR, "realm": STR,
        "registrar": {"type": "string", "description": "host:port of Asterisk's SIP"},
        "transport": {"type": "string", "enum": ["udp"]}}),
    "Allocation": _obj({"number": STR, "tenant": STR, "allocated_at": STAMP, "allocated_by": STR},
                       required=["number", "tenant", "allocated_at"]),
    "Allocations": _obj({"allocations": {"type": "array", "items": _ref("Allocation")}}),
    "Allocate": _obj({"tenant": {"type": "string", "pattern": "^[a-z0-9][a-z0-9_-]{0,39}$"}}),
    "Allocated": _obj({"number": STR, "tenant": STR}),
    "Upload": {"type": "object", "required": ["name", "file"], "properties": {
        "name": {"type": "string", "pattern": "^[a-z0-9][a-z0-9_-]{0,39}$"},
        "file": {"type": "string", "format": "binary", "description": "WAV or MP3"}}},
}


def _body(schema: str, content_type: str = JSON) -> dict[str, Any]:
    return {"required": True, "content": {content_type: {"schema": _ref(schema)}}}


def document() -> dict[str, Any]:
    t, n = "/api/v1/tenants/{tenant}", "/numbers/{number}"
    paths: dict[str, Any] = {
        "/api/v1/tenants": {"get": _op("Tenants this token may see", {"200": _json(_ref("Tenants"), "Tenants")}, (),
                                       op_id="listTenants")},
        "/api/v1/audit": {"get": _op("The whole audit log (admin)", {"200": _json(_ref("Audit"), "Newest first")},
                                     (403, 422), params=[LIMIT], op_id="listAudit")},
        "/api/v1/allocations": {"get": _op(
            "Numbers allocated to tenants (admin)", {"200": _json(_ref("Allocations"), "Allocations")}, (403, 422),
            params=[{"name": "tenant", "in": "query", "required": False, "schema": STR}], op_id="listAllocations")},
        "/api/v1/allocations/{number}": {
            "put": _op("Allocate a service number to a tenant (admin); a plan may only use its tenant's numbers",
                       {"201": _json(_ref("Allocated"), "Allocated"),
                        "200": _json(_ref("Allocated"), "Was allocated to this tenant already")},
                       (400, 403, 409, 415, 422), params=[NUMBER], body=_body("Allocate"), op_id="allocateNumber"),
            "delete": _op("Release a number no plan uses (admin)", {"204": {"description": "Released"}},
                          (403, 404, 409, 422), params=[NUMBER], op_id="releaseNumber"),
        },
        f"{t}/allocations": {"get": _op("The numbers allocated to this tenant (its plan may use these)",
                                        {"200": _json(_ref("Allocations"), "Allocations")}, (404,),
                                        params=[TENANT], op_id="tenantAllocations")},
        f"{t}/numbers": {"get": _op("The tenant's service numbers", {"200": _json(_ref("Numbers"), "Numbers")},
                                    (404,), params=[TENANT], op_id="listNumbers")},
        f"{t}{n}": {
            "get": _op("One service number and its part of the plan",
                       {"200": _json(_ref("NumberDetail"), "The number")}, (404, 422),
                       params=[TENANT, NUMBER], op_id="showNumber"),
            "put": _op("Replace (or add) this number's entry of the plan and apply it; only this number is "
                       "checked and rendered again. Errors name fields of the entry.",
                       {"200": _json(_ref("ApplyReport"), "Changed"), "201": _json(_ref("ApplyReport"), "Added")},
                       (400, 404, 415, 422, 503), params=[TENANT, NUMBER], body=_body("NumberEntry"),
                       op_id="putNumber"),
            "delete": _op("Take this number out of the plan and apply that (calls to it are unallocated)",
                          {"200": _json(_ref("ApplyReport"), "Removed")}, (404, 422, 503),
                          params=[TENANT, NUMBER], op_id="deleteNumber"),
        },
        f"{t}/plan": {
            "get": _op("The tenant's plan as it stands (passed switch moments folded in)",
                       {"200": {**_json(_ref("Plan"), "The plan; PUT accepts it back"), "headers": ETAG}}, (404,),
                       params=[TENANT], op_id="getPlan"),
            "put": _op("Validate, store, generate, reload, verify (rolled back when Asterisk refuses). Every "
                       "number must be allocated to the tenant; removing all or more than 5 numbers needs "
                       "confirm_removal; If-Match makes it conditional on the version read",
                       {"200": {**_json(_ref("ApplyReport"), "Applied"), "headers": ETAG}},
                       (400, 404, 409, 412, 415, 422, 503),
                       params=[TENANT, CONFIRM_REMOVAL, IF_MATCH], body=_body("Plan"), op_id="applyPlan"),
        },
        f"{t}/plan/validate": {"post": _op("Check a plan; changes nothing",
                                           {"200": _json(_ref("Validated"), "Valid")}, (400, 404, 415, 422),
                                           params=[TENANT], body=_body("Plan"), op_id="validatePlan")},
        f"{t}{n}/simulate": {"post": _op("What one call would go through (the simulator's stable JSON)",
                                         {"200": _json(_ref("Simulation"), "Simulated call")},
                                         (400, 404, 415, 422),
                                         params=[TENANT, NUMBER], body=_body("SimulateRequest"),
                                         op_id="simulateCall")},
        f"{t}{n}/blacklist": {
            "get": _op("The number's blacklist", {"200": _json(_ref("Blacklist"), "Entries")}, (404, 422),
                       params=[TENANT, NUMBER], op_id="listBlacklist"),
            "post": _op("Block a caller from the next call on (live, no reload)",
                        {"201": _json(_ref("BlacklistAdded"), "Added"),
                         "200": _json(_ref("BlacklistAdded"), "Was already there")}, (400, 404, 422, 503),
                        params=[TENANT, NUMBER], body=_body("BlacklistAdd"), op_id="addBlacklist"),
        },
        f"{t}{n}/blacklist/{{caller}}": {"delete": _op(
            "Unblock a caller (live)", {"204": {"description": "Removed"}}, (404, 422, 503),
            params=[TENANT, NUMBER, {"name": "caller", "in": "path", "required": True, "schema": STR}],
            op_id="removeBlacklist")},
        f"{t}/flows": {"get": _op("The tenant's call flows, their size and the numbers that run them",
                                  {"200": _json(_ref("Flows"), "Flows")}, (404,), params=[TENANT],
                                  op_id="listFlows")},
        f"{t}/flows/{{flow}}": {
            "get": _op("One call flow in the plan format", {"200": _json(_ref("FlowDetail"), "The flow")}, (404,),
                       params=[TENANT, FLOW], op_id="showFlow"),
            "put": _op("Replace (or add) one flow of the plan and apply: only the flow's file is rewritten and "
                       "pushed. The answer names the changes in words.",
                       {"200": _json(_ref("FlowApplied"), "Applied")}, (400, 404, 412, 422, 503),
                       params=[TENANT, FLOW], body=_body("Flow"), op_id="putFlow"),
        },
        f"{t}/flows/{{flow}}/validate": {"post": _op(
            "Check a new version of a flow against the plan; changes nothing; names the changes in words",
            {"200": _json(_ref("FlowValidated"), "Valid")}, (400, 404, 422), params=[TENANT, FLOW],
            body=_body("Flow"), op_id="validateFlow")},
        f"{t}/lists": {"get": _op("The tenant's digit lists (declared in the plan) and their sizes",
                                  {"200": _json(_ref("DigitLists"), "Lists")}, (404,), params=[TENANT],
                                  op_id="listDigitLists")},
        f"{t}/lists/{{list}}": {
            "get": _op("The entries of one digit list", {"200": _json(_ref("DigitList"), "Entries")}, (404,),
                       params=[TENANT, LIST], op_id="showDigitList"),
            "post": _op("Put a value on the list (live: the next call's input block sees it, no reload)",
                        {"201": _json(_ref("DigitListAdded"), "Added"),
                         "200": _json(_ref("DigitListAdded"), "Was already there")}, (400, 404, 422, 503),
                        params=[TENANT, LIST], body=_body("DigitListAdd"), op_id="addDigitListEntry"),
        },
        f"{t}/lists/{{list}}/{{value}}": {"delete": _op(
            "Take a value off the list (live)", {"204": {"description": "Removed"}}, (404, 422, 503),
            params=[TENANT, LIST, {"name": "value", "in": "path", "required": True, "schema": STR}],
            op_id="removeDigitListEntry")},
        f"{t}/live": {"get": _op("Live figures of the tenant's numbers: calls in progress, today's outcomes",
                                 {"200": _json(_ref("Live"), "Figures")}, (404, 503), params=[TENANT],
                                 op_id="liveFigures")},
        f"{t}/recordings/calls/{{call_id}}/keep": {"post": _op(
            "Keep the on_demand recording of a call in progress (like the agent's *44)",
            {"200": _json(_ref("RecordingKept"), "Marked")}, (404, 409, 422), params=[TENANT, CALL],
            op_id="keepRecording")},
        f"{t}/recordings/calls/{{call_id}}/pause": {"post": _op(
            "Pause the recording of a call in progress (the paused stretch is silent)",
            {"200": _json(_ref("RecordingPaused"), "Paused")}, (404, 409, 422, 503), params=[TENANT, CALL],
            op_id="pauseRecording")},
        f"{t}/recordings/calls/{{call_id}}/resume": {"post": _op(
            "Resume a paused recording", {"200": _json(_ref("RecordingPaused"), "Resumed")}, (404, 409, 422, 503),
            params=[TENANT, CALL], op_id="resumeRecording")},
        f"{t}/history": {"get": _op("Applied versions, newest first", {"200": _json(_ref("Versions"), "Versions")},
                                    (404, 422), params=[TENANT, LIMIT], op_id="history")},
        f"{t}/audit": {"get": _op("The tenant's audit log", {"200": _json(_ref("Audit"), "Newest first")},
                                  (404, 422), params=[TENANT, LIMIT], op_id="tenantAudit")},
        f"{t}/announcements": {
            "get": _op("Uploaded announcements", {"200": _json(_ref("Announcements"), "Announcements")}, (404,),
                       params=[TENANT], op_id="listAnnouncements"),
            "post": _op("Upload a WAV or MP3; converted to 8 kHz mono WAV",
                        {"201": _json(_ref("Announcement"), "Stored")}, (400, 404, 409, 413, 415, 422),
                        params=[TENANT], body=_body("Upload", "multipart/form-data"), op_id="uploadAnnouncement"),
        },
        f"{t}/announcements/{{name}}": {
            "get": _op("One uploaded announcement", {"200": _json(_ref("Announcement"), "Announcement")}, (404,),
                       params=[TENANT, {"name": "name", "in": "path", "required": True, "schema": STR}],
                       op_id="showAnnouncement"),
            "delete": _op("Delete an announcement no plan uses", {"204": {"description": "Deleted"}}, (404, 409),
                          params=[TENANT, {"name": "name", "in": "path", "required": True, "schema": STR}],
                          op_id="deleteAnnouncement"),
        },
        f"{t}/agents": {"get": _op("Agents of the tenant's queues and their state now",
                                   {"200": _json(_ref("Agents"), "Agents")}, (404, 503), params=[TENANT],
                                   op_id="listAgents")},
        f"{t}/agents/{{agent}}/state": {"put": _op(
            "Log an agent in (available), out, or make them unavailable with a reason (live)",
            {"200": _json(_ref("AgentStateDone"), "Changed in every queue of the agent")}, (400, 404, 422, 503),
            params=[TENANT, AGENT], body=_body("AgentStateSet"), op_id="setAgentState")},
        f"{t}/agents/{{agent}}/spy": {"post": _op(
            "Ring a supervisor who then listens in on / whispers to / barges into the agent's call",
            {"202": _json(_ref("SpyStarted"), "Supervisor is being rung")}, (400, 404, 422, 503),
            params=[TENANT, AGENT], body=_body("Spy"), op_id="spyAgent")},
        f"{t}/agents/{{agent}}/credentials": {"get": _op(
            "SIP account of an endpoint agent's phone, to provision it (shows the password; audit-logged "
            "without it). An agent that is a phone number answers 404",
            {"200": _json(_ref("PhoneAccount"), "The account")}, (404,), params=[TENANT, AGENT],
            op_id="agentCredentials")},
        f"{t}/agents/{{agent}}/credentials/rotate": {"post": _op(
            "Give the phone a new password and reload PJSIP: the old one is refused from now on "
            "(a phone registered with it stays registered until its registration expires)",
            {"200": _json(_ref("PhoneAccount"), "The account with the new password")}, (404, 503),
            params=[TENANT, AGENT], op_id="rotateAgentCredentials")},
        f"{t}/queues/waiting": {"get": _op("Callers waiting now in the tenant's queues",
                                           {"200": _json(_ref("Waiting"), "Waiting callers")}, (404, 503),
                                           params=[TENANT], op_id="listWaiting")},
        f"{t}/queues/waiting/priority": {"put": _op(
            "Give a waiting caller a priority (higher is served first)",
            {"200": _json(_ref("PrioritySet"), "Set")}, (400, 404, 422, 503), params=[TENANT],
            body=_body("Priority"), op_id="setPriority")},
        f"{t}/queues/{{name}}/night": {"put": _op(
            "Night service of a queue by hand: on, off, or auto (its schedule); no reload",
            {"200": _json(_ref("NightDone"), "Switched")}, (400, 404, 422, 503), params=[TENANT, NAME],
            body=_body("Night"), op_id="queueNight")},
        f"{t}/queues/{{name}}/calls": {"post": _op(
            "Move a waiting caller (channel from /queues/waiting) into this queue, or one of its skill queues",
            {"200": _json(_ref("CallMoved"), "Moved")}, (400, 404, 422, 503), params=[TENANT, NAME],
            body=_body("Move"), op_id="moveCall")},
        f"{t}/hunt-groups/{{name}}/night": {"put": _op(
            "Night service of a hunt group by hand: on, off, or auto; no reload",
            {"200": _json(_ref("NightDone"), "Switched")}, (400, 404, 422, 503), params=[TENANT, NAME],
            body=_body("Night"), op_id="huntNight")},
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
        "components": {"schemas": _SCHEMAS,
                       "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer",
                                                      "description": "orchestrator api token create"}}},
        "security": [{"bearer": []}],
        "paths": paths,
    })


def query_parameters(doc: dict[str, Any]) -> dict[tuple[str, str], frozenset[str]]:
    """(METHOD, path template) -> the query parameters the document allows there."""
    return {(method.upper(), path): frozenset(p["name"] for p in op.get("parameters", []) if p["in"] == "query")
            for path, ops in doc["paths"].items() for method, op in ops.items()}
