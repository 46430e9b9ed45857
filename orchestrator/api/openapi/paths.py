"""The document's paths, one function per area of the API, in the order the document lists them."""

from __future__ import annotations

from typing import Any

from orchestrator.api.openapi.parts import (
    AGENT,
    CALL,
    CONFIRM_REMOVAL,
    ETAG,
    FLOW,
    IF_MATCH,
    LIMIT,
    LIST,
    NAME,
    NUMBER,
    STR,
    TENANT,
    _body,
    _json,
    _op,
    _ref,
)

TENANT_PATH = "/api/v1/tenants/{tenant}"
NUMBER_PATH = "/numbers/{number}"


def admin_paths() -> dict[str, Any]:
    """Tenants, the whole audit log and the allocation of numbers to tenants."""
    t = TENANT_PATH
    return {
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
    }


def number_paths() -> dict[str, Any]:
    """A tenant's numbers and plan: read, apply, validate, simulate, blacklist."""
    t, n = TENANT_PATH, NUMBER_PATH
    return {
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
    }


def flow_paths() -> dict[str, Any]:
    """Premium call flows and the digit lists their input blocks check."""
    t = TENANT_PATH
    return {
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
        f"{t}/flows/{{flow}}/draft": {
            "get": _op("The draft of a flow, as tried on the tenant's 088 test number",
                       {"200": _json(_ref("FlowDraft"), "The draft")}, (404,), params=[TENANT, FLOW],
                       op_id="showFlowDraft"),
            "put": _op("Try a draft of a flow: it goes on the tenant's 088 test number (as flow '<flow>-draft'); "
                       "no live number changes. Errors in the draft are named draft.<field>.",
                       {"200": _json(_ref("FlowDraftApplied"), "Applied")}, (400, 404, 422, 503),
                       params=[TENANT, FLOW], body=_body("Flow"), op_id="tryFlowDraft"),
        },
        f"{t}/flows/{{flow}}/promote": {"post": _op(
            "Promote the draft: it becomes the live flow (every number on it runs it) and the numbers given "
            "(the tenant's) are linked to it", {"200": _json(_ref("FlowDraftApplied"), "Applied")},
            (400, 404, 422, 503), params=[TENANT, FLOW], body=_body("FlowPromote"), op_id="promoteFlowDraft")},
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
    }


def record_paths() -> dict[str, Any]:
    """Live figures, recordings of calls in progress, history, audit and announcements."""
    t = TENANT_PATH
    return {
        f"{t}/live": {"get": _op("Live figures of the tenant's numbers: calls in progress, today's outcomes",
                                 {"200": _json(_ref("Live"), "Figures")}, (404, 503), params=[TENANT],
                                 op_id="liveFigures")},
        f"{t}/recordings/calls/{{call_id}}/keep": {"post": _op(
            "Keep the on_demand recording of a call in progress (like the agent's *44)",
            {"200": _json(_ref("RecordingKept"), "Marked")}, (404, 409, 422, 503), params=[TENANT, CALL],
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
    }


def call_centre_paths() -> dict[str, Any]:
    """Agents, waiting callers, queues and hunt groups (live call-centre control)."""
    t = TENANT_PATH
    return {
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
    }
