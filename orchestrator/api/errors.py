"""The API edge: the one place where errors become HTTP statuses and JSON bodies.

Every error body has the same shape: ``{"errors": [{"field": ..., "rule": ...}]}``; ``field`` is
the path of the offending input (``numbers[0].routings.main[0].number``, ``caller``, ``file``) or
a general word (``token``, ``tenant``, ``asterisk``) when no single input is at fault.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from orchestrator.errors import (
    AsteriskError,
    NotFound,
    NumberInvalid,
    OrchestratorError,
    PlanInvalid,
    SoundImportFailed,
    StoreError,
    Violation,
)
from orchestrator.live.state import RedisUnavailable

log = logging.getLogger(__name__)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class ApiError(OrchestratorError):
    """An error that exists only at the HTTP edge (authentication, request shape, conflicts)."""

    def __init__(self, field: str, rule: str) -> None:
        self.violation = Violation(field, rule)
        super().__init__(str(self.violation))


class Unauthenticated(ApiError):
    """No token, or a token that is unknown or revoked."""


class Forbidden(ApiError):
    """An admin-only resource asked for with a tenant token."""


class BadRequest(ApiError):
    """The body is not JSON / not multipart at all."""


class Conflict(ApiError):
    """The change contradicts the current state (e.g. deleting an announcement in use)."""


class TooLarge(ApiError):
    pass


class UnsupportedMedia(ApiError):
    pass


class InputInvalid(OrchestratorError):
    """Request fields (not a plan) that break a rule; carries every violation, like PlanInvalid."""

    def __init__(self, violations: list[Violation]) -> None:
        self.violations = list(violations)
        super().__init__("; ".join(str(v) for v in self.violations))


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
        case Conflict():
            return 409
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
        case NumberInvalid():
            return [Violation("number", str(exc))]
        case SoundImportFailed():
            return [Violation("file", str(exc))]
        case AsteriskError():
            return [Violation("asterisk", str(exc))]
        case RedisUnavailable():
            return [Violation("live", str(exc))]
    return [Violation("server", str(exc))]


def error_response(status: int, violations: list[Violation]) -> web.Response:
    body = {"errors": [{"field": v.field, "rule": v.rule} for v in violations]}
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
