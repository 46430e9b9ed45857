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


class PromptFailed(OrchestratorError):
    """espeak-ng could not synthesise a prompt."""


class SoundImportFailed(OrchestratorError):
    """sox could not convert an announcement file."""
