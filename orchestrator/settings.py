"""Settings from the environment, with loopback-only defaults.

Credentials never default to stock values: when ``SVC_AMI_SECRET`` / ``SVC_ARI_SECRET`` are not
set, a random secret is generated once and kept (mode 0600) in the state folder's ``secrets``
(as are the agent phones' SIP passwords, orchestrator/callcentre/phone_secrets.py).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from orchestrator.errors import AsteriskError

DEFAULT_ROOTFS_CACHE = Path("/var/cache/svcnum")
# A DTMF feature code as features.conf takes it: keypad symbols only, at most 11 (FEATURE_MAX_LEN).
DTMF_CODE = re.compile(r"[0-9*#A-D]{1,11}")
# Seconds between qualify OPTIONS to each agent phone: a phone that stops answering gets no queue
# calls from at most this (plus the qualify timeout) after it vanished.
DEFAULT_PHONE_QUALIFY_S = 30


@dataclass(frozen=True)
class Settings:
    state_dir: Path  # database, Asterisk instance, generated files
    db_url: str
    rootfs_cache: Path  # where the debootstrapped Debian sid + Asterisk 22 lives
    instance_name: str
    bind_host: str
    sip_port: int
    ami_port: int
    http_port: int  # ARI / HTTP
    rtp_start: int
    rtp_end: int
    carrier_host: str  # where calls to destination numbers go (the PSTN trunk)
    carrier_port: int
    ami_user: str
    ami_secret: str
    ari_user: str
    ari_secret: str
    # Live controller (orchestrator/live): Redis for live figures, its HTTP port for /health, /metrics
    redis_url: str = "redis://127.0.0.1:6379/0"
    live_port: int = 8091
    # REST API (orchestrator/api): binds to bind_host like everything else
    api_port: int = 8080
    api_max_upload_bytes: int = 10 * 1024 * 1024  # an announcement upload, before conversion
    api_max_announcement_seconds: float = 300.0  # longer recordings are refused (422)
    # Active blocking: the code the answering side presses to blacklist the caller (features.conf)
    active_block_code: str = "*9"
    # Call recording codes the answering side presses (features.conf): keep an on_demand recording
    # (seed: "op aanvraag", *44), start / stop an on_demand_with_start one ("op aanvraag met start").
    recording_keep_code: str = "*44"
    recording_start_code: str = "*46"
    recording_stop_code: str = "*47"
    recording_pause_code: str = "*45"  # a toggle; needs the live controller (AMI MixMonitorMute)
    # The recording spool on tmpfs (MB; 0 = on disk): plain audio of calls in progress stays in RAM.
    # 8 kHz 16-bit mono is ~1 MB a minute per call.
    recording_spool_mb: int = 512
    # Agent phones: seconds between qualify OPTIONS (rendered into pjsip.inc on apply).
    phone_qualify_s: int = DEFAULT_PHONE_QUALIFY_S
    # Cluster node (docs/scaling.md): run Asterisk inside this network namespace (its own address),
    # and load the generated dialplan of this other instance's etc folder (one set of files the
    # orchestrator writes once for every node; a shared volume between machines).
    netns: str = ""
    ami_permit: str = ""  # the orchestrator's address, when it is not on this node (AMI allows it too)
    # A cluster node: Kamailio's count of a number's calls on every node (http://edge:port/svc-count).
    edge_count_url: str = ""
    system_name: str = ""  # a cluster node's name: Asterisk prefixes its Uniqueids with it
    cluster_file: Path | None = None  # a cluster of nodes behind Kamailio (docs/scaling.md); None: one Asterisk
    dialplan_from: Path | None = None

    # Reports: raw caller numbers in call records are emptied after this many days (the hash stays)
    caller_retention_days: int = 90

    def caller_hash_key(self) -> str:
        """The installation's caller-hash key (SVC_CALLER_HASH_KEY, else generated once and kept
        in the state folder): only the live controller, which writes the hashes, needs it."""
        return _secret(self.state_dir, "SVC_CALLER_HASH_KEY")

    @property
    def secrets_dir(self) -> Path:
        """Generated secrets, one file each (0600) in a 0700 folder."""
        return self.state_dir / "secrets"

    def with_(self, **changes: object) -> Settings:
        return replace(self, **changes)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Paths:
    """Where one Asterisk instance's files are on this host: the one place these paths are spelled.

    ``root`` is ``/`` when the system's Asterisk 22 runs the instance, else the Debian rootfs it is
    chrooted into (which of the two is decided once by ``asterisk/layout.py``, which runs
    ``asterisk -V``). Everything else follows from ``root`` and the settings.
    """

    root: Path
    instance: Path  # the instance's own etc/ and var/ (never shared with another instance)

    @classmethod
    def of(cls, settings: Settings, root: Path) -> Paths:
        if root == Path("/"):
            return cls(root, settings.state_dir / "asterisk" / settings.instance_name)
        # A chrooted Asterisk sees only the rootfs, so the instance lives inside it; the hash keeps
        # two checkouts (two state folders) with the same instance name apart.
        digest = hashlib.sha256(str(settings.state_dir.resolve()).encode()).hexdigest()[:8]
        return cls(root, root / "srv" / "svcnum" / f"{settings.instance_name}-{digest}")

    @property
    def chrooted(self) -> bool:
        return self.root != Path("/")

    @property
    def etc(self) -> Path:
        return self.instance / "etc"

    @property
    def generated(self) -> Path:
        """The generated dialplan (asterisk/dialplan_files.py: a symlink to the active version)."""
        return self.etc / "svc"

    @property
    def sounds(self) -> Path:
        return self.instance / "var" / "lib" / "sounds"

    @property
    def spool(self) -> Path:
        """The call-recording spool (${ASTSPOOLDIR}/monitor/svc-rec; asterisk/spool.py mounts it)."""
        return spool_of(self.instance)

    @property
    def log_file(self) -> Path:
        return self.instance / "var" / "log" / "messages"

    @property
    def cdr_csv(self) -> Path:
        """Asterisk's own call records (cdr_csv, cdr.conf): what rebuilds calls the controller missed."""
        return self.instance / "var" / "log" / "cdr-csv" / "Master.csv"

    @property
    def queue_log(self) -> Path:
        """app_queue's log: queue, wait and agent of each queued call (docs/reports.md)."""
        return self.instance / "var" / "log" / "queue_log"

    @property
    def run_dir(self) -> Path:
        return self.instance / "var" / "run"

    def asterisk_path(self, host_path: Path) -> str:
        """A host path as Asterisk sees it (without the rootfs prefix in chroot mode).
        Raises AsteriskError for a path outside the rootfs: Asterisk cannot see it."""
        if not self.chrooted:
            return str(host_path)
        try:
            rel = Path(os.path.abspath(host_path)).relative_to(self.root.resolve())
        except ValueError as exc:
            raise AsteriskError(f"{host_path} is outside the Asterisk rootfs {self.root}; "
                                "Asterisk cannot see it") from exc
        return "/" + str(rel)


def spool_of(instance_dir: Path) -> Path:
    """The recording spool of an instance folder (host path)."""
    return instance_dir / "var" / "spool" / "monitor" / "svc-rec"


def _secret(state_dir: Path, name: str) -> str:
    """A secret from the environment, else one generated once and kept in the state folder."""
    env = os.environ.get(name)
    if env:
        return env
    return kept_secret(state_dir / "secrets" / name)


def new_secret() -> str:
    """A random secret: 24 bytes, URL-safe (no character a SIP phone or a shell mangles)."""
    return secrets.token_urlsafe(24)


def kept_secret(path: Path) -> str:
    """The secret in ``path``; the first call generates it (mode 0600, folder 0700). Raises OSError."""
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    # Written aside, then linked into place: a concurrent reader never sees a half-written file,
    # and when two processes race, the first link wins and both return that secret.
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(new_secret() + "\n")
        with contextlib.suppress(FileExistsError):
            os.link(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path.read_text().strip()


def _redis_url(e: Mapping[str, str], state_dir: Path, *, generate: bool) -> str:
    """SVC_REDIS_URL as given; else the stack's own Redis with a password (SVC_REDIS_PASSWORD, or
    one generated once into the secrets): on SVC_REDIS_SOCKET (a unix socket; the containers) or
    on loopback port SVC_REDIS_PORT (``orchestrator run`` starts that one)."""
    if e.get("SVC_REDIS_URL"):
        return e["SVC_REDIS_URL"]
    port = int(e.get("SVC_REDIS_PORT", "6379"))
    password = e.get("SVC_REDIS_PASSWORD") or (_secret(state_dir, "SVC_REDIS_PASSWORD") if generate else "")
    if e.get("SVC_REDIS_SOCKET"):
        return f"unix://{':' + password + '@' if password else ''}{e['SVC_REDIS_SOCKET']}?db=0"
    return f"redis://{':' + password + '@' if password else ''}127.0.0.1:{port}/0"


def redacted(url: str) -> str:
    """A URL fit for messages and logs: its password replaced by ``***``."""
    return re.sub(r"(//[^:/@]*:)[^@/]*@", r"\1***@", url)


def _dtmf_code(value: str, name: str = "SVC_ACTIVE_BLOCK_CODE") -> str:
    if not DTMF_CODE.fullmatch(value):
        raise ValueError(f"{name}={value!r}: 1 to 11 of 0-9 * # A-D")
    return value


def _qualify(value: str) -> int:
    seconds = int(value)
    if not 1 <= seconds <= 3600:
        raise ValueError(f"SVC_PHONE_QUALIFY_SECONDS={value!r}: 1 to 3600 seconds")
    return seconds


def _codes(e: Mapping[str, str]) -> dict[str, str]:
    """The in-call DTMF codes; each must differ from the others (one feature per code)."""
    codes = {"active_block_code": _dtmf_code(e.get("SVC_ACTIVE_BLOCK_CODE", "*9")),
             "recording_keep_code": _dtmf_code(e.get("SVC_RECORDING_KEEP_CODE", "*44"), "SVC_RECORDING_KEEP_CODE"),
             "recording_start_code": _dtmf_code(e.get("SVC_RECORDING_START_CODE", "*46"),
                                                "SVC_RECORDING_START_CODE"),
             "recording_stop_code": _dtmf_code(e.get("SVC_RECORDING_STOP_CODE", "*47"), "SVC_RECORDING_STOP_CODE"),
             "recording_pause_code": _dtmf_code(e.get("SVC_RECORDING_PAUSE_CODE", "*45"),
                                                "SVC_RECORDING_PAUSE_CODE")}
    if len(set(codes.values())) != len(codes):
        raise ValueError(f"the in-call codes must differ: {codes}")
    return codes


def _system_name(value: str) -> str:
    if value and not re.fullmatch(r"[a-z][a-z0-9-]{0,30}", value):
        raise AsteriskError(f"SVC_SYSTEM_NAME={value!r}: lower-case letters, digits and '-'")
    return value


def load_settings(env: dict[str, str] | None = None) -> Settings:
    e = os.environ if env is None else env
    state_dir = Path(e.get("SVC_STATE_DIR", "var")).resolve()
    return Settings(
        state_dir=state_dir,
        redis_url=_redis_url(e, state_dir, generate=env is None),
        db_url=e.get("SVC_DB_URL", f"sqlite:///{state_dir / 'orchestrator.db'}"),
        rootfs_cache=Path(e.get("SVC_ROOTFS_CACHE", str(DEFAULT_ROOTFS_CACHE))),
        instance_name=e.get("SVC_INSTANCE", "dev"),
        bind_host=e.get("SVC_BIND_HOST", "127.0.0.1"),
        sip_port=int(e.get("SVC_SIP_PORT", "5060")),
        ami_port=int(e.get("SVC_AMI_PORT", "5038")),
        http_port=int(e.get("SVC_HTTP_PORT", "8088")),
        rtp_start=int(e.get("SVC_RTP_START", "20000")),
        rtp_end=int(e.get("SVC_RTP_END", "20999")),
        carrier_host=e.get("SVC_CARRIER_HOST", "127.0.0.1"),
        carrier_port=int(e.get("SVC_CARRIER_PORT", "5070")),
        ami_user=e.get("SVC_AMI_USER", "orchestrator"),
        ami_secret=_secret(state_dir, "SVC_AMI_SECRET") if env is None else e["SVC_AMI_SECRET"],
        ari_user=e.get("SVC_ARI_USER", "orchestrator"),
        ari_secret=_secret(state_dir, "SVC_ARI_SECRET") if env is None else e["SVC_ARI_SECRET"],
        live_port=int(e.get("SVC_LIVE_PORT", "8091")),
        api_port=int(e.get("SVC_API_PORT", "8080")),
        api_max_upload_bytes=int(e.get("SVC_API_MAX_UPLOAD_BYTES", str(10 * 1024 * 1024))),
        api_max_announcement_seconds=float(e.get("SVC_API_MAX_ANNOUNCEMENT_SECONDS", "300")),
        recording_spool_mb=int(e.get("SVC_RECORDING_SPOOL_MB", "512")),
        phone_qualify_s=_qualify(e.get("SVC_PHONE_QUALIFY_SECONDS", str(DEFAULT_PHONE_QUALIFY_S))),
        netns=e.get("SVC_NETNS", ""),
        ami_permit=e.get("SVC_AMI_PERMIT", ""),
        edge_count_url=e.get("SVC_EDGE_COUNT_URL", ""),
        system_name=_system_name(e.get("SVC_SYSTEM_NAME", "")),
        cluster_file=Path(e["SVC_CLUSTER_FILE"]) if e.get("SVC_CLUSTER_FILE") else None,
        dialplan_from=Path(e["SVC_DIALPLAN_FROM"]) if e.get("SVC_DIALPLAN_FROM") else None,
        caller_retention_days=int(e.get("SVC_CALLER_RETENTION_DAYS", "90")),
        **_codes(e),
    )
