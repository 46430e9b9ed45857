"""The one exception tree of the orchestrator.

Adapters (database, AMI, the Asterisk runtime, files) translate foreign errors into these once,
with ``raise ... from exc``; the CLI and the API map them to exit codes and HTTP statuses.
"""

from __future__ import annotations

from dataclasses import dataclass


class OrchestratorError(Exception):
    """Base of every error the orchestrator raises on purpose."""


@dataclass(frozen=True)
class Violation:
    """One broken rule, named by the field it concerns (e.g. ``numbers[0].routings.main``)."""

    field: str
    rule: str

    def __str__(self) -> str:
        return f"{self.field}: {self.rule}"


class PlanInvalid(OrchestratorError):
    """A plan breaks one or more rules. Carries every violation, not just the first."""

    def __init__(self, violations: list[Violation]) -> None:
        self.violations = list(violations)
        super().__init__("; ".join(str(v) for v in self.violations))


class NumberInvalid(OrchestratorError):
    """A phone number that cannot be parsed or is not allowed where it is used."""


class NotFound(OrchestratorError):
    """A tenant, service number or version that does not exist."""


class AsteriskError(OrchestratorError):
    """Asterisk could not be reached, started, or did not do what was asked."""


class AsteriskUnavailable(AsteriskError):
    """Asterisk (or its AMI) is not reachable."""


class EdgeError(OrchestratorError):
    """Kamailio (the cluster's SIP front door) refused its configuration, did not start or answer."""


class ApplyFailed(AsteriskError):
    """A dialplan could not be loaded or verified; the previous dialplan is active again."""


class SecretError(OrchestratorError):
    """A generated secret (e.g. an agent phone's SIP password) cannot be read or kept."""


class StoreError(OrchestratorError):
    """The database refused or failed an operation."""


class SchemaOutdated(StoreError):
    """The database was made by an older release and must be upgraded (``orchestrator db upgrade``)
    before this one may use it; or by a newer release this one does not know."""


class RecordingError(OrchestratorError):
    """A call recording cannot be stored, found, decrypted or exported."""


class RecordingKeyError(RecordingError):
    """The recording keys are missing or malformed, or a recording's key is not (or wrongly) there."""


class RecordingTampered(RecordingError):
    """A recording file fails its integrity check (AES-GCM tag): altered or truncated."""


class RemovalNotConfirmed(OrchestratorError):
    """A plan would take away all of a tenant's numbers, or more than a few at once, and the
    removal was not confirmed (the API's ``?confirm_removal=true``, the CLI's ``--allow-removal``)."""

    def __init__(self, removed: list[str], remaining: int) -> None:
        self.removed = removed
        self.remaining = remaining
        shown = ", ".join(removed[:5]) + (f" and {len(removed) - 5} more" if len(removed) > 5 else "")
        super().__init__(f"this plan removes {len(removed)} service number(s) ({shown}), leaving {remaining}; "
                         "removing them must be confirmed")


class VersionConflict(OrchestratorError):
    """The tenant's plan is no longer at the version the change was based on (optimistic locking)."""

    def __init__(self, expected: int | None, current: int | None) -> None:
        self.expected = expected
        self.current = current
        now = "" if current is None else f" (it is at version {current})"
        was = "the version given" if expected is None else f"version {expected}"
        super().__init__(f"the plan is no longer at {was}{now}: read it again and make the change on that version")


class AllocationConflict(OrchestratorError):
    """A number cannot be allocated (it is another tenant's) or released (a plan still uses it)."""


class PromptFailed(OrchestratorError):
    """espeak-ng could not synthesise a prompt."""


class SoundImportFailed(OrchestratorError):
    """sox could not convert an announcement file."""


class DialplanLintFailed(ApplyFailed):
    """The generated dialplan has a defect asterisklint found; nothing was loaded."""


class StackError(OrchestratorError):
    """A part of the one-machine stack (`orchestrator run`) cannot be started or stopped."""


class RedisUnavailable(OrchestratorError):
    """Redis could not be reached or refused a command."""


class InputInvalid(OrchestratorError):
    """Request fields (not a plan) that break a rule; carries every violation, like PlanInvalid."""

    def __init__(self, violations: list[Violation]) -> None:
        self.violations = list(violations)
        super().__init__("; ".join(str(v) for v in self.violations))


class ApiError(OrchestratorError):
    """An error about one request field or word (authentication, request shape, conflicts);
    api/errors.py turns each kind into its HTTP status."""

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
    """A request body or upload over its limit."""


class UnsupportedMedia(ApiError):
    """An upload in a format we do not take."""
