"""Agent phones' SIP passwords: one random password per PJSIP endpoint (``<tenant>.<endpoint>``),
generated on first use and kept (mode 0600) in the instance's secrets folder. Never in a plan, a
log or the generated configuration (that holds a digest); ``orchestrator agent credentials`` shows
it to whoever provisions the phone.

Keyed by the endpoint, not the agent, and never deleted here: the password stays the same across
applies, rollbacks, a renamed agent, and an agent removed and added again, until it is rotated
(``orchestrator agent credentials --rotate``)."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from orchestrator.domain.ir_queues import SIP_REALM
from orchestrator.errors import SecretError
from orchestrator.settings import kept_secret, new_secret

FOLDER = "agent-phones"


class PhoneSecrets:
    def __init__(self, secrets_dir: Path) -> None:
        self.folder = secrets_dir / FOLDER

    def password(self, endpoint: str) -> str:
        """The phone's password; generated the first time it is asked for."""
        try:
            return kept_secret(self.folder / endpoint)  # endpoint names hold no '/' (plan patterns)
        except OSError as exc:
            raise SecretError(f"cannot keep the password of agent phone {endpoint} in {self.folder}: "
                              f"{exc.strerror}") from exc

    def digest(self, endpoint: str) -> str:
        return sip_digest(endpoint, self.password(endpoint))

    def rotate(self, endpoint: str) -> str:
        """A new random password for the phone in place of the kept one; returns it."""
        password = new_secret()
        self.keep(endpoint, password)
        return password

    def keep(self, endpoint: str, password: str) -> None:
        """Keep ``password`` for the phone (also: put the old one back when a rotation failed).
        Written aside and renamed into place: a reader sees the old password or the new one."""
        path = self.folder / endpoint
        tmp = path.with_name(f".{endpoint}.{os.getpid()}.tmp")
        try:
            self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(password + "\n")
            os.replace(tmp, path)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            raise SecretError(f"cannot keep the password of agent phone {endpoint} in {self.folder}: "
                              f"{exc.strerror}") from exc


def sip_digest(username: str, password: str, realm: str = SIP_REALM) -> str:
    """What PJSIP's ``password_digest = MD5:<digest>`` holds: RFC 2617's HA1. MD5 because SIP
    digest auth is MD5 for nearly every phone."""
    return hashlib.md5(f"{username}:{realm}:{password}".encode()).hexdigest()
