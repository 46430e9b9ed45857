"""Production deployment on one machine with systemd: Asterisk, the live controller, the REST
API and the recordings worker as four units sharing one environment file.

The unit files live in ``deploy/systemd/`` with ``@PLACEHOLDERS@`` (like ``asterisk_conf/``);
``orchestrator deploy systemd`` fills in this installation's paths, so a unit never points at a
virtualenv or state folder that is not there. ``systemd-analyze verify`` checks them in the tests.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from orchestrator.errors import NotFound

UNITS_DIR = Path(__file__).resolve().parents[2] / "deploy" / "systemd"
UNITS = ("svcnum-asterisk.service", "svcnum-live.service", "svcnum-api.service", "svcnum-recordings.service")
_PLACEHOLDER = re.compile(r"@([A-Z_]+)@")


@dataclass(frozen=True)
class Installation:
    bin_dir: Path  # the virtualenv's bin, with the `orchestrator` command
    env_file: Path
    state_dir: Path
    pid_file: Path  # Asterisk's, as the host sees it (inside the rootfs when chrooted)


def render_units(where: Installation) -> dict[str, str]:
    values = {"BIN": str(where.bin_dir), "ENV_FILE": str(where.env_file), "STATE_DIR": str(where.state_dir),
              "PID_FILE": str(where.pid_file)}
    out = {}
    for name in UNITS:
        try:
            text = (UNITS_DIR / name).read_text()
        except OSError as exc:
            raise NotFound(f"unit template {UNITS_DIR / name} is missing: {exc.strerror}") from exc
        out[name] = _PLACEHOLDER.sub(lambda m: values[m.group(1)], text)
    return out


def env_file_text(environ: Mapping[str, str], state_dir: Path) -> str:
    """The environment every unit reads: this shell's SVC_* settings (secrets included, so the
    file is written 0600), with the state folder made absolute."""
    lines = ["# Settings of the service-number units (docs/cli.md, 'Settings'). Secrets: keep this file 0600.",
             f"SVC_STATE_DIR={state_dir}"]
    lines += [f"{k}={v}" for k, v in sorted(environ.items()) if k.startswith("SVC_") and k != "SVC_STATE_DIR"]
    return "\n".join(lines) + "\n"


def write(units: dict[str, str], out_dir: Path, env_file: Path, env_text: str, *, replace_env: bool) -> list[Path]:
    """Write the units into ``out_dir``, and the environment file unless it exists (or ``replace_env``)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in units.items():
        (out_dir / name).write_text(text)
        written.append(out_dir / name)
    if replace_env or not env_file.exists():
        env_file.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(env_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(env_text)
        os.chmod(env_file, 0o600)
        written.append(env_file)
    return written
