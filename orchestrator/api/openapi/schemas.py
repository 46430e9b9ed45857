"""The document's component schemas: the JSON shapes the handlers read and write (``api/views.py``)."""

from __future__ import annotations

from typing import Any

from orchestrator.api.openapi.parts import INT, NSTR, STAMP, STR, _obj, _ref

NUMBER_FIELDS: dict[str, Any] = {
    "number": STR, "national": STR, "kind": STR,
    "package": {"type": "string", "enum": ["basis", "standaard", "premium"]},
    "active": STR, "routings": {"type": "array", "items": STR}}

# A cluster node's name (docs/scaling.md): where a waiting caller is, when its channel's name is on two nodes.
NODE: dict[str, Any] = {"type": "string", "nullable": True, "pattern": "^[a-z][a-z0-9-]{0,30}$",
                        "description": "the node the caller waits on (`node` in /queues/waiting); needed only "
                                       "when its channel's name waits on two nodes"}

SCHEMAS: dict[str, Any] = {
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
    "FlowDraft": _obj({"name": STR, "flow": _ref("Flow"), "test_number": STR}),
    "FlowDraftApplied": _obj({
        "tenant": STR, "version": STR, "numbers": INT, "total_numbers": INT,
        "files": INT, "reload_ms": {"type": "number", "nullable": True}, "verified_contexts": INT,
        "blacklist_entries": INT, "notes": {"type": "array", "items": STR}, "changes": {"type": "array", "items": STR},
        "test_number": STR, "running": {"type": "array", "items": STR,
                                        "description": "The live numbers that run the flow"}}),
    "FlowPromote": _obj({"numbers": {"type": "array", "items": STR,
                                     "description": "The tenant's live numbers to link to the flow"}}, required=[]),
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
        "queues": {"type": "object", "description": "queue -> waiting, longest_wait_s, answered, abandoned, "
                   "service_level_pct, agents_<state>, nodes_reporting, nodes (over every cluster node)",
                   "additionalProperties": {"type": "object", "additionalProperties": {"type": "number"}}},
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
    "WaitingCall": _obj({"queue": STR, "skill": STR, "channel": STR, "caller": STR, "position": INT, "node": STR,
                         "wait": INT, "priority": INT}),
    "Waiting": _obj({"calls": {"type": "array", "items": _ref("WaitingCall")}}),
    "Night": _obj({"mode": {"type": "string", "enum": ["on", "off", "auto"]}}),
    "NightDone": {"type": "object", "properties": {"night": STR}, "required": ["night"]},
    "Call": _obj({"channel": {"type": "string", "pattern": "^[A-Za-z0-9/@.;_+-]{1,120}$"}}),
    "Move": _obj({"channel": {"type": "string", "pattern": "^[A-Za-z0-9/@.;_+-]{1,120}$"},
                  "skill": {"type": "string", "nullable": True, "pattern": "^[a-z0-9][a-z0-9_-]{0,39}$",
                            "description": "wait for an agent with this skill (one the queue's agents have)"},
                  "node": NODE},
                 required=["channel"]),
    "CallMoved": _obj({"channel": STR, "queue": STR, "skill": NSTR}),
    "Priority": _obj({"channel": {"type": "string", "pattern": "^[A-Za-z0-9/@.;_+-]{1,120}$"},
                      "priority": {"type": "integer", "minimum": 0, "maximum": 100}, "node": NODE},
                     required=["channel", "priority"]),
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
