"""Database tables (SQLModel). SQLite by default; any SQLAlchemy URL (PostgreSQL in production)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import BigInteger, Index
from sqlmodel import Field, SQLModel, UniqueConstraint


def _now() -> datetime:
    return datetime.now(UTC)


class Tenant(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True, index=True)
    created_at: datetime = Field(default_factory=_now)
    test_number: str | None = None  # E.164 of the lent 088 test number


class Announcement(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("tenant_id", "name"),)
    id: int | None = Field(default=None, primary_key=True)
    tenant_id: int = Field(foreign_key="tenant.id", index=True)
    name: str
    sound: str | None = None  # an Asterisk sound name
    file: str | None = None  # the imported source file, converted into the tenant's sounds
    text: str | None = None


class ServiceNumber(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    tenant_id: int = Field(foreign_key="tenant.id", index=True)
    position: int  # order within the tenant's plan, so exports round-trip
    e164: str = Field(unique=True, index=True)
    national: str
    kind: str
    package: str
    active_routing: str
    block_anonymous: bool = False
    block_foreign: bool = False
    block_mobile: bool = False
    rejection_announcement: str | None = None
    welcome_announcement: str | None = None
    whisper_announcement: str | None = None
    final_announcement: str | None = None
    max_concurrent_calls: int | None = None
    # 090x: information tariff (euros as text, exact) and call limits
    tariff_per_call: str | None = None
    tariff_per_minute: str | None = None
    max_call_cost: str | None = None
    max_duration: int | None = None
    warning_before: int | None = None
    tariff_announcement: str | None = None
    allow_foreign: bool = False
    # Standaard/Premium steps (start, regions, rosters, splits) as the plan's JSON: they are only
    # ever read whole, with the plan, and their shape grows with the Premium call flows.
    steps_json: str | None = None


class Routing(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("service_number_id", "name"),)
    id: int | None = Field(default=None, primary_key=True)
    service_number_id: int = Field(foreign_key="servicenumber.id", index=True)
    name: str
    position: int


class Destination(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    routing_id: int = Field(foreign_key="routing.id", index=True)
    position: int  # 0 = first number, 1.. = overflow
    e164: str
    ring_time: int


class SwitchMoment(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    service_number_id: int = Field(foreign_key="servicenumber.id", index=True)
    # seconds since 1970 UTC, shown in Europe/Amsterdam; 64-bit: a moment after 2038-01-19 fits
    at_epoch: int = Field(sa_type=BigInteger)
    routing: str


class BlacklistEntry(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("service_number_e164", "caller"),)
    id: int | None = Field(default=None, primary_key=True)
    # Keyed by the number, not its row id: plan applies replace rows, entries added live stay.
    service_number_e164: str = Field(index=True)
    caller: str  # E.164
    source: str = "plan"  # "plan", "cli", "api", "dtmf"
    added_at: datetime = Field(default_factory=_now)


class AppliedVersion(SQLModel, table=True):
    """One row per successful apply: what was loaded into Asterisk, and when."""

    id: int | None = Field(default=None, primary_key=True)
    applied_at: datetime = Field(default_factory=_now)
    tenant: str
    numbers: int
    files: int
    dialplan_dir: str
    summary: str
    plan_json: str | None = None  # the tenant's plan as applied: what `rollback` restores


class NumberDigest(SQLModel, table=True):
    """What a service number's dialplan was generated from at the last apply (domain/digest.py):
    an entry with the same digest is not parsed, checked or rendered again."""

    e164: str = Field(primary_key=True)
    tenant: str = Field(index=True)
    digest: str


class TenantDigest(SQLModel, table=True):
    """Digest of the tenant-level part of the plan last applied (announcements, call centres, ...):
    while it holds, only changed number entries need rendering."""

    tenant: str = Field(primary_key=True)
    salt: str
    # The whole list of number entries (digest.numbers_digest) and the E.164 of each entry in
    # order: a list as applied before needs no per-number digest (migration 0005).
    numbers: str | None = None
    order_json: str | None = None


class CommittedDialplan(SQLModel, table=True):
    """The dialplan version the database committed with the stored plans, the generator that
    wrote it, and whether Asterisk was loaded with it (False after an offline apply). The
    ``svc`` link and what Asterisk runs must agree with this row; where they do not (a crashed
    apply), the next apply, ``asterisk up`` and ``status`` repair or report it (docs/apply.md).
    Only while all holds may an apply render just the numbers that changed."""

    id: int = Field(default=1, primary_key=True)
    dialplan_dir: str
    generator: str
    loaded: bool = False
    committed_at: datetime = Field(default_factory=_now)


# --- REST API (orchestrator/api) -------------------------------------------------------------


class ApiToken(SQLModel, table=True):
    """A bearer token of the REST API. Only its SHA-256 is kept: the token is 256 random bits, so
    a plain hash cannot be brute-forced and needs no slow KDF (unlike a password)."""

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(unique=True, index=True)  # hex SHA-256 of the whole token
    tenant: str | None = Field(default=None, index=True)  # None only for admin tokens
    role: str  # "tenant" or "admin"
    label: str | None = None
    created_at: datetime = Field(default_factory=_now)
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None


class AuditEntry(SQLModel, table=True):
    """Who changed what, when, through the API (written in the same transaction as the change)."""

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=_now, index=True)
    token_id: int | None = None
    actor: str  # e.g. "token 3 (tenant acme)"
    tenant: str | None = Field(default=None, index=True)  # whose data changed
    action: str  # e.g. "plan.apply", "blacklist.add", "announcement.upload"
    target: str | None = None  # the number, caller or announcement concerned
    outcome: str = "ok"  # "ok", or "failed" when Asterisk refused and the change was rolled back
    detail: str | None = None  # JSON


class UploadedAnnouncement(SQLModel, table=True):
    """An audio file uploaded through the API, converted to 8 kHz mono WAV and kept per tenant.
    Plans reference it by name (``announcements: {welcome: {file: NAME}}``)."""

    __table_args__ = (UniqueConstraint("tenant", "name"),)
    id: int | None = Field(default=None, primary_key=True)
    tenant: str = Field(index=True)
    name: str
    path: str  # the converted WAV on the host
    source_type: str  # "audio/wav" or "audio/mpeg", detected from the bytes
    source_bytes: int
    seconds: float
    created_at: datetime = Field(default_factory=_now)


class CallRecord(SQLModel, table=True):
    """One row per call to a service number, written by the live controller (orchestrator/live)."""

    # Reports read one tenant's calls by start time; the caller hash makes distinct counts index-only.
    __table_args__ = (Index("ix_callrecord_tenant_started", "tenant", "started_at", "caller_hash"),)

    id: int | None = Field(default=None, primary_key=True)
    call_id: str = Field(unique=True, index=True)  # the caller channel's Uniqueid in Asterisk
    service_number: str = Field(index=True)  # E.164
    tenant: str = Field(index=True)
    caller: str  # E.164; "" when withheld
    started_at: datetime = Field(index=True)  # UTC
    answered_at: datetime | None = None
    ended_at: datetime
    routing: str | None = None
    destination: str | None = None  # the destination that answered, else the last one tried
    outcome: str = Field(index=True)  # answered | busy | no_answer | unreachable | blocked | abandoned | max_duration
    reason: str | None = None  # blocked: anonymous/blacklist/foreign/mobile; busy: limit/destination
    wait_s: float  # until answered, or until the end when nobody answered
    talk_s: float = 0.0
    dial_status: str = ""
    end_observed: bool = True  # False: the end happened while the controller was disconnected
    note: str = ""
    # --- for reports (docs/reports.md) ---
    # HMAC-SHA256 of the caller with the tenant's key: unique and repeat callers are counted from
    # this; the raw ``caller`` is emptied after the retention period, this stays. "" when withheld.
    caller_hash: str = ""
    origin: str = ""  # "010" (Dutch area code), "mobile", "NL" (other Dutch), "BE" (country), "withheld"
    queue: str | None = None  # the plan queue the call waited in (the last one, if several)
    queue_result: str | None = None  # answered | abandoned | full | timeout | joinempty | leaveempty | ...
    queue_wait_s: float | None = None  # seconds in the queue until an agent answered or it left
    agent: str | None = None  # the agent (queue member) who answered
    agent_wrapup_s: float = 0.0  # the answering agent's wrap-up after this call (its queue setting then)
    flow: str | None = None  # the Premium call flow the call ran
    path: str = ""  # JSON list of [block, exit]: every flow block and routing step the call took
    tariff_per_call: str | None = None  # 090x: the tariff in force when the call was made (euros)
    tariff_per_minute: str | None = None
    revenue_cents: int = 0  # 090x: per-call + per-minute charge of this call (cents, half-up)
    revenue_call_cents: int = 0  # of which the per-call tariff


class CallRollup(SQLModel, table=True):
    """Call records summed per 15 minutes (UTC; Europe/Amsterdam is a whole number of hours off
    UTC, so these are also its wall-clock quarters), tenant, number, queue, flow and outcome.
    Maintained in the transaction that stores the records, so a month's volume or finance report
    reads ~3,000 rows per number instead of every call."""

    __table_args__ = (UniqueConstraint("bucket", "tenant", "service_number", "queue", "flow", "outcome",
                                       "reason"),)
    id: int | None = Field(default=None, primary_key=True)
    bucket: datetime = Field(index=True)  # UTC start of the quarter hour the calls started in
    tenant: str = Field(index=True)
    service_number: str
    queue: str = ""
    flow: str = ""
    outcome: str
    reason: str = ""
    calls: int = 0
    wait_s: float = 0.0
    talk_s: float = 0.0
    revenue_cents: int = 0
    revenue_call_cents: int = 0


class AgentPause(SQLModel, table=True):
    """One finished pause of a call-centre agent (unavailable, with its reason), written by the
    live controller from app_queue's QueueMemberPause events; the queues report sums them."""

    __table_args__ = (Index("ix_agentpause_tenant_started", "tenant", "started_at"),)
    id: int | None = Field(default=None, primary_key=True)
    tenant: str
    agent: str
    started_at: datetime  # UTC
    ended_at: datetime
    reason: str = ""


class TenantRollup(SQLModel, table=True):
    """``CallRollup`` summed over numbers, queues and flows: what an unfiltered volume report reads
    (one row per quarter hour and outcome, however many numbers the tenant has)."""

    __table_args__ = (UniqueConstraint("bucket", "tenant", "outcome", "reason"),)
    id: int | None = Field(default=None, primary_key=True)
    bucket: datetime
    tenant: str
    outcome: str
    reason: str = ""
    calls: int = 0
    wait_s: float = 0.0
    talk_s: float = 0.0
    revenue_cents: int = 0
    revenue_call_cents: int = 0


class ReportLayout(SQLModel, table=True):
    """A tenant's saved report layout: kinds, filters and interval, run on demand by name."""

    __table_args__ = (UniqueConstraint("tenant", "name"),)
    id: int | None = Field(default=None, primary_key=True)
    tenant: str = Field(index=True)
    name: str
    spec_json: str  # {"kinds": [...], "interval": "day", "number": ..., "queue": ..., "flow": ...}
    updated_at: datetime = Field(default_factory=_now)


# --- Call recording (orchestrator/recordings) -------------------------------------------------
# Own tables rather than columns on ServiceNumber/Tenant: create_all adds new tables to an
# existing database, never new columns (there is no migration tool yet).


class NumberRecordingPolicy(SQLModel, table=True):
    """A service number's recording policy from the plan (``recording:``)."""

    id: int | None = Field(default=None, primary_key=True)
    service_number_e164: str = Field(unique=True, index=True)
    tenant: str = Field(index=True)
    policy: str  # RecordingPolicy value
    announce: str | None = None


class TenantRecordingSettings(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    tenant: str = Field(unique=True, index=True)
    retention: str = "90d"  # the plan's recording_retention ("90d", "7y")


class Recording(SQLModel, table=True):
    """One encrypted call recording. The audio is in ``path`` (AES-256-GCM, key ``key_id``)."""

    id: int | None = Field(default=None, primary_key=True)
    call_id: str = Field(unique=True, index=True)  # the caller channel's Uniqueid
    tenant: str = Field(index=True)
    service_number: str = Field(index=True)  # E.164
    caller: str  # E.164; "" when withheld
    agent: str | None = None  # the destination that answered, when known
    started_at: datetime = Field(index=True)  # UTC, when the recording started (answer)
    duration_s: float
    policy: str
    key_id: str
    retention_until: datetime = Field(index=True)  # UTC; purge deletes it from then on
    path: str  # the encrypted file on the host
    size_bytes: int
    pauses_json: str = "[]"  # [[start_s, end_s], ...] from the start of the recording
    kept_by: str | None = None  # on_demand: who marked it to keep ("dtmf", "api", "cli")
    created_at: datetime = Field(default_factory=_now)


class RecordingKeep(SQLModel, table=True):
    """An on_demand call marked to keep (by the API or the CLI) while it was in progress."""

    id: int | None = Field(default=None, primary_key=True)
    call_id: str = Field(unique=True, index=True)
    source: str = "api"
    at: datetime = Field(default_factory=_now)


class TenantCallCentre(SQLModel, table=True):
    """The plan's agents, queues and hunt groups as JSON: they are read and written as a whole,
    and a table of their own leaves existing databases as they were (create_all adds it)."""

    id: int | None = Field(default=None, primary_key=True)
    tenant: str = Field(unique=True, index=True)
    plan_json: str  # {"agents": …, "queues": …, "hunt_groups": …}


class TenantFlows(SQLModel, table=True):
    """The plan's Premium call flows, their builder layout and the names of its digit lists, as
    JSON: read and written whole, in a table of its own (migration 0003 adds it to old databases)."""

    id: int | None = Field(default=None, primary_key=True)
    tenant: str = Field(unique=True, index=True)
    plan_json: str  # {"flows": …, "layout": …, "lists": […]}


class FlowListEntry(SQLModel, table=True):
    """One member of a tenant's digit list (input blocks check membership). AstDB holds the same
    entries for the calls; this table is the record."""

    __table_args__ = (UniqueConstraint("tenant", "list_name", "value"),)
    id: int | None = Field(default=None, primary_key=True)
    tenant: str = Field(index=True)
    list_name: str
    value: str
    added_at: datetime = Field(default_factory=_now)


# --- Tenancy (issue 14) -----------------------------------------------------------------------


class NumberAllocation(SQLModel, table=True):
    """Which tenant a service number is allocated to, by the operator. A plan may only use the
    numbers allocated to its tenant; a number is released only while no plan uses it."""

    e164: str = Field(primary_key=True)
    tenant: str = Field(index=True)
    allocated_at: datetime = Field(default_factory=_now)
    allocated_by: str  # "cli", "apply" (an operator's apply claimed it), "token 1 (admin)"


class PlanHead(SQLModel, table=True):
    """The applied version (AppliedVersion.id) a tenant's stored plan is at: the API's ETag and
    the CLI's ``apply --if-version``. Updated in the apply's transaction with a compare-and-set,
    so two changes based on the same version can never both commit."""

    tenant: str = Field(primary_key=True)
    version_id: int
