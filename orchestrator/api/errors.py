"""The API edge: the one place where errors become HTTP statuses and JSON bodies.

Every error body has the same shape: ``{"errors": [{"field": ..., "rule": ...}]}``; ``field`` is
the path of the offending input (``numbers[0].routings.main[0].number``, ``caller``, ``file``) or
a general word (``token``, ``tenant``, ``asterisk``) when no single input is at fault.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable

from aiohttp import web

from orchestrator.errors import (
    AllocationConflict,
    ApiError,
    AsteriskError,
    BadRequest,
    Conflict,
    Forbidden,
    InputInvalid,
    NotFound,
    NumberInvalid,
    OrchestratorError,
    PlanInvalid,
    RedisUnavailable,
    RemovalNotConfirmed,
    SoundImportFailed,
    StoreError,
    TooLarge,
    Unauthenticated,
    UnsupportedMedia,
    VersionConflict,
    Violation,
)

# The HTTP-edge errors are defined with the others in errors.py; routes import them from here too.
__all__ = ["ApiError", "BadRequest", "Conflict", "Forbidden", "InputInvalid", "TooLarge", "Unauthenticated",
           "UnsupportedMedia", "error_middleware", "error_response"]

log = logging.getLogger(__name__)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _status(exc: OrchestratorError) -> int:
    match exc:
        case Unauthenticated():
            return 401
        case Forbidden():
            return 403
        case NotFound():
            return 404
        case BadRequest():
            return 400
        case Conflict() | RemovalNotConfirmed() | AllocationConflict():
            return 409
        case VersionConflict():
            return 412
        case TooLarge():
            return 413
        case UnsupportedMedia():
            return 415
        case PlanInvalid() | InputInvalid() | NumberInvalid() | SoundImportFailed() | ApiError():
            return 422
        case AsteriskError() | RedisUnavailable():
            return 503  # includes ApplyFailed: the previous dialplan is active again
        case StoreError():
            return 500
    return 500


def _violations(exc: OrchestratorError) -> list[Violation]:
    match exc:
        case PlanInvalid() | InputInvalid():
            return exc.violations
        case ApiError():
            return [exc.violation]
        case NotFound():
            return [Violation("path", str(exc))]
        case NumberInvalid() | AllocationConflict():
            return [Violation("number", str(exc))]
        case RemovalNotConfirmed():
            return [Violation("confirm_removal", f"{exc}: send the plan again with ?confirm_removal=true")]
        case VersionConflict():
            return [Violation("If-Match", f"{exc} (GET it for its ETag)")]
        case SoundImportFailed():
            return [Violation("file", str(exc))]
        case AsteriskError():
            return [Violation("asterisk", str(exc))]
        case RedisUnavailable():
            return [Violation("live", str(exc))]
    return [Violation("server", str(exc))]


# An absolute path of two or more parts that is not inside a word or a URL ("digits/1" and
# "/api/v1/..." in a rule stay): what a file-system error message carries, whatever the adapter.
_PATH = re.compile(r"(?<![\w.:/~-])/(?!api/)(?:[\w.@+~-]+/)+[\w.@+~-]*")


def without_paths(text: str) -> str:
    """The server's file paths taken out of a message meant for a client: where the server keeps
    its files is nobody's business, and a path names other tenants (uploads/<tenant>/...)."""
    return _PATH.sub("<path>", text)


def error_response(status: int, violations: list[Violation]) -> web.Response:
    body = {"errors": [{"field": v.field, "rule": without_paths(v.rule)} for v in violations]}
    headers = {"WWW-Authenticate": 'Bearer realm="orchestrator"'} if status == 401 else None
    return web.json_response(body, status=status, headers=headers)


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except OrchestratorError as exc:
        status = _status(exc)
        if status >= 500:
            log.error("%s %s failed: %s", request.method, request.path, exc)
        return error_response(status, _violations(exc))
    except web.HTTPException as exc:
        # aiohttp's own answers (unknown path, wrong method, body too large) in our JSON shape.
        if exc.status < 400:
            raise
        response = error_response(exc.status, [Violation("request", exc.reason)])
        if "Allow" in exc.headers:  # a 405 must say which methods there are (RFC 9110)
            response.headers["Allow"] = exc.headers["Allow"]
        return response
    except Exception:
        # The edge of the server: log the whole traceback, answer 500, never hide it.
        log.exception("%s %s failed", request.method, request.path)
        return error_response(500, [Violation("server", "internal error; see the server log")])
