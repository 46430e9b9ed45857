"""The schema of the release before migrations (git 9e66f28), whose databases were made by
SQLModel's create_all. Such a database has some or all of these tables and no alembic_version:
only the missing tables are created, the others are kept as they are, with their rows.

Revision ID: 0001
Revises: (none: the first)
Create Date: 2026-12-05 23:38:50.475862
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def _missing(table: str) -> bool:
    return not sa.inspect(op.get_bind()).has_table(table)


def upgrade() -> None:
    _access_and_audit()
    _calls()
    _dialplan_state()
    _recordings()
    _tenants()
    _announcements()
    _service_numbers()
    _routings()


def _access_and_audit() -> None:
    """API tokens, applied versions, the audit log."""
    if _missing('apitoken'):
        op.create_table('apitoken',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('token_hash', sa.String(), nullable=False),
        sa.Column('tenant', sa.String(), nullable=True),
        sa.Column('role', sa.String(), nullable=False),
        sa.Column('label', sa.String(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('id')
        )
        with op.batch_alter_table('apitoken', schema=None) as batch_op:
            batch_op.create_index(batch_op.f('ix_apitoken_tenant'), ['tenant'], unique=False)
            batch_op.create_index(batch_op.f('ix_apitoken_token_hash'), ['token_hash'], unique=True)

    if _missing('appliedversion'):
        op.create_table('appliedversion',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('applied_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('tenant', sa.String(), nullable=False),
        sa.Column('numbers', sa.Integer(), nullable=False),
        sa.Column('files', sa.Integer(), nullable=False),
        sa.Column('dialplan_dir', sa.String(), nullable=False),
        sa.Column('summary', sa.String(), nullable=False),
        sa.Column('plan_json', sa.String(), nullable=True),
        sa.PrimaryKeyConstraint('id')
        )

    if _missing('auditentry'):
        op.create_table('auditentry',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('token_id', sa.Integer(), nullable=True),
        sa.Column('actor', sa.String(), nullable=False),
        sa.Column('tenant', sa.String(), nullable=True),
        sa.Column('action', sa.String(), nullable=False),
        sa.Column('target', sa.String(), nullable=True),
        sa.Column('outcome', sa.String(), nullable=False),
        sa.Column('detail', sa.String(), nullable=True),
        sa.PrimaryKeyConstraint('id')
        )
        with op.batch_alter_table('auditentry', schema=None) as batch_op:
            batch_op.create_index(batch_op.f('ix_auditentry_at'), ['at'], unique=False)
            batch_op.create_index(batch_op.f('ix_auditentry_tenant'), ['tenant'], unique=False)


def _calls() -> None:
    """Blacklists and call records."""
    if _missing('blacklistentry'):
        op.create_table('blacklistentry',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('service_number_e164', sa.String(), nullable=False),
        sa.Column('caller', sa.String(), nullable=False),
        sa.Column('source', sa.String(), nullable=False),
        sa.Column('added_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('service_number_e164', 'caller')
        )
        with op.batch_alter_table('blacklistentry', schema=None) as batch_op:
            batch_op.create_index(batch_op.f('ix_blacklistentry_service_number_e164'), ['service_number_e164'], unique=False)

    if _missing('callrecord'):
        op.create_table('callrecord',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('call_id', sa.String(), nullable=False),
        sa.Column('service_number', sa.String(), nullable=False),
        sa.Column('tenant', sa.String(), nullable=False),
        sa.Column('caller', sa.String(), nullable=False),
        sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('answered_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('ended_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('routing', sa.String(), nullable=True),
        sa.Column('destination', sa.String(), nullable=True),
        sa.Column('outcome', sa.String(), nullable=False),
        sa.Column('reason', sa.String(), nullable=True),
        sa.Column('wait_s', sa.Float(), nullable=False),
        sa.Column('talk_s', sa.Float(), nullable=False),
        sa.Column('dial_status', sa.String(), nullable=False),
        sa.Column('end_observed', sa.Boolean(), nullable=False),
        sa.Column('note', sa.String(), nullable=False),
        sa.PrimaryKeyConstraint('id')
        )
        with op.batch_alter_table('callrecord', schema=None) as batch_op:
            batch_op.create_index(batch_op.f('ix_callrecord_call_id'), ['call_id'], unique=True)
            batch_op.create_index(batch_op.f('ix_callrecord_outcome'), ['outcome'], unique=False)
            batch_op.create_index(batch_op.f('ix_callrecord_service_number'), ['service_number'], unique=False)
            batch_op.create_index(batch_op.f('ix_callrecord_started_at'), ['started_at'], unique=False)
            batch_op.create_index(batch_op.f('ix_callrecord_tenant'), ['tenant'], unique=False)


def _dialplan_state() -> None:
    """What was applied, per number."""
    if _missing('dialplanstate'):
        op.create_table('dialplanstate',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('dialplan_dir', sa.String(), nullable=False),
        sa.Column('generator', sa.String(), nullable=False),
        sa.PrimaryKeyConstraint('id')
        )

    if _missing('numberdigest'):
        op.create_table('numberdigest',
        sa.Column('e164', sa.String(), nullable=False),
        sa.Column('tenant', sa.String(), nullable=False),
        sa.Column('digest', sa.String(), nullable=False),
        sa.PrimaryKeyConstraint('e164')
        )
        with op.batch_alter_table('numberdigest', schema=None) as batch_op:
            batch_op.create_index(batch_op.f('ix_numberdigest_tenant'), ['tenant'], unique=False)


def _recordings() -> None:
    """Recording policies, recordings, keep marks."""
    if _missing('numberrecordingpolicy'):
        op.create_table('numberrecordingpolicy',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('service_number_e164', sa.String(), nullable=False),
        sa.Column('tenant', sa.String(), nullable=False),
        sa.Column('policy', sa.String(), nullable=False),
        sa.Column('announce', sa.String(), nullable=True),
        sa.PrimaryKeyConstraint('id')
        )
        with op.batch_alter_table('numberrecordingpolicy', schema=None) as batch_op:
            batch_op.create_index(batch_op.f('ix_numberrecordingpolicy_service_number_e164'), ['service_number_e164'], unique=True)
            batch_op.create_index(batch_op.f('ix_numberrecordingpolicy_tenant'), ['tenant'], unique=False)

    if _missing('recording'):
        op.create_table('recording',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('call_id', sa.String(), nullable=False),
        sa.Column('tenant', sa.String(), nullable=False),
        sa.Column('service_number', sa.String(), nullable=False),
        sa.Column('caller', sa.String(), nullable=False),
        sa.Column('agent', sa.String(), nullable=True),
        sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('duration_s', sa.Float(), nullable=False),
        sa.Column('policy', sa.String(), nullable=False),
        sa.Column('key_id', sa.String(), nullable=False),
        sa.Column('retention_until', sa.DateTime(timezone=True), nullable=False),
        sa.Column('path', sa.String(), nullable=False),
        sa.Column('size_bytes', sa.Integer(), nullable=False),
        sa.Column('pauses_json', sa.String(), nullable=False),
        sa.Column('kept_by', sa.String(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id')
        )
        with op.batch_alter_table('recording', schema=None) as batch_op:
            batch_op.create_index(batch_op.f('ix_recording_call_id'), ['call_id'], unique=True)
            batch_op.create_index(batch_op.f('ix_recording_retention_until'), ['retention_until'], unique=False)
            batch_op.create_index(batch_op.f('ix_recording_service_number'), ['service_number'], unique=False)
            batch_op.create_index(batch_op.f('ix_recording_started_at'), ['started_at'], unique=False)
            batch_op.create_index(batch_op.f('ix_recording_tenant'), ['tenant'], unique=False)

    if _missing('recordingkeep'):
        op.create_table('recordingkeep',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('call_id', sa.String(), nullable=False),
        sa.Column('source', sa.String(), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id')
        )
        with op.batch_alter_table('recordingkeep', schema=None) as batch_op:
            batch_op.create_index(batch_op.f('ix_recordingkeep_call_id'), ['call_id'], unique=True)


def _tenants() -> None:
    """Tenants and their tenant-wide settings."""
    if _missing('tenant'):
        op.create_table('tenant',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('test_number', sa.String(), nullable=True),
        sa.PrimaryKeyConstraint('id')
        )
        with op.batch_alter_table('tenant', schema=None) as batch_op:
            batch_op.create_index(batch_op.f('ix_tenant_name'), ['name'], unique=True)

    if _missing('tenantcallcentre'):
        op.create_table('tenantcallcentre',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('tenant', sa.String(), nullable=False),
        sa.Column('plan_json', sa.String(), nullable=False),
        sa.PrimaryKeyConstraint('id')
        )
        with op.batch_alter_table('tenantcallcentre', schema=None) as batch_op:
            batch_op.create_index(batch_op.f('ix_tenantcallcentre_tenant'), ['tenant'], unique=True)

    if _missing('tenantdigest'):
        op.create_table('tenantdigest',
        sa.Column('tenant', sa.String(), nullable=False),
        sa.Column('salt', sa.String(), nullable=False),
        sa.PrimaryKeyConstraint('tenant')
        )

    if _missing('tenantrecordingsettings'):
        op.create_table('tenantrecordingsettings',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('tenant', sa.String(), nullable=False),
        sa.Column('retention', sa.String(), nullable=False),
        sa.PrimaryKeyConstraint('id')
        )
        with op.batch_alter_table('tenantrecordingsettings', schema=None) as batch_op:
            batch_op.create_index(batch_op.f('ix_tenantrecordingsettings_tenant'), ['tenant'], unique=True)


def _announcements() -> None:
    """Uploaded and named announcements (after tenant: a foreign key)."""
    if _missing('uploadedannouncement'):
        op.create_table('uploadedannouncement',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('tenant', sa.String(), nullable=False),
        sa.Column('name', sa.String(), nullable=False),
        sa.Column('path', sa.String(), nullable=False),
        sa.Column('source_type', sa.String(), nullable=False),
        sa.Column('source_bytes', sa.Integer(), nullable=False),
        sa.Column('seconds', sa.Float(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('tenant', 'name')
        )
        with op.batch_alter_table('uploadedannouncement', schema=None) as batch_op:
            batch_op.create_index(batch_op.f('ix_uploadedannouncement_tenant'), ['tenant'], unique=False)

    if _missing('announcement'):
        op.create_table('announcement',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('tenant_id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(), nullable=False),
        sa.Column('sound', sa.String(), nullable=True),
        sa.Column('file', sa.String(), nullable=True),
        sa.Column('text', sa.String(), nullable=True),
        sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], ),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('tenant_id', 'name')
        )
        with op.batch_alter_table('announcement', schema=None) as batch_op:
            batch_op.create_index(batch_op.f('ix_announcement_tenant_id'), ['tenant_id'], unique=False)


def _service_numbers() -> None:
    """Service numbers (after tenant)."""
    if _missing('servicenumber'):
        op.create_table('servicenumber',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('tenant_id', sa.Integer(), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('e164', sa.String(), nullable=False),
        sa.Column('national', sa.String(), nullable=False),
        sa.Column('kind', sa.String(), nullable=False),
        sa.Column('package', sa.String(), nullable=False),
        sa.Column('active_routing', sa.String(), nullable=False),
        sa.Column('block_anonymous', sa.Boolean(), nullable=False),
        sa.Column('block_foreign', sa.Boolean(), nullable=False),
        sa.Column('block_mobile', sa.Boolean(), nullable=False),
        sa.Column('rejection_announcement', sa.String(), nullable=True),
        sa.Column('welcome_announcement', sa.String(), nullable=True),
        sa.Column('whisper_announcement', sa.String(), nullable=True),
        sa.Column('final_announcement', sa.String(), nullable=True),
        sa.Column('max_concurrent_calls', sa.Integer(), nullable=True),
        sa.Column('tariff_per_call', sa.String(), nullable=True),
        sa.Column('tariff_per_minute', sa.String(), nullable=True),
        sa.Column('max_call_cost', sa.String(), nullable=True),
        sa.Column('max_duration', sa.Integer(), nullable=True),
        sa.Column('warning_before', sa.Integer(), nullable=True),
        sa.Column('tariff_announcement', sa.String(), nullable=True),
        sa.Column('allow_foreign', sa.Boolean(), nullable=False),
        sa.Column('steps_json', sa.String(), nullable=True),
        sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], ),
        sa.PrimaryKeyConstraint('id')
        )
        with op.batch_alter_table('servicenumber', schema=None) as batch_op:
            batch_op.create_index(batch_op.f('ix_servicenumber_e164'), ['e164'], unique=True)
            batch_op.create_index(batch_op.f('ix_servicenumber_tenant_id'), ['tenant_id'], unique=False)


def _routings() -> None:
    """Routings, switch moments, destinations (after servicenumber)."""
    if _missing('routing'):
        op.create_table('routing',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('service_number_id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['service_number_id'], ['servicenumber.id'], ),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('service_number_id', 'name')
        )
        with op.batch_alter_table('routing', schema=None) as batch_op:
            batch_op.create_index(batch_op.f('ix_routing_service_number_id'), ['service_number_id'], unique=False)

    if _missing('switchmoment'):
        op.create_table('switchmoment',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('service_number_id', sa.Integer(), nullable=False),
        sa.Column('at_epoch', sa.Integer(), nullable=False),
        sa.Column('routing', sa.String(), nullable=False),
        sa.ForeignKeyConstraint(['service_number_id'], ['servicenumber.id'], ),
        sa.PrimaryKeyConstraint('id')
        )
        with op.batch_alter_table('switchmoment', schema=None) as batch_op:
            batch_op.create_index(batch_op.f('ix_switchmoment_service_number_id'), ['service_number_id'], unique=False)

    if _missing('destination'):
        op.create_table('destination',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('routing_id', sa.Integer(), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('e164', sa.String(), nullable=False),
        sa.Column('ring_time', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['routing_id'], ['routing.id'], ),
        sa.PrimaryKeyConstraint('id')
        )
        with op.batch_alter_table('destination', schema=None) as batch_op:
            batch_op.create_index(batch_op.f('ix_destination_routing_id'), ['routing_id'], unique=False)


def downgrade() -> None:
    # Dropping a table drops its indexes (SQLite and PostgreSQL); children before parents.
    tables = (
        'apitoken', 'appliedversion', 'auditentry', 'blacklistentry', 'callrecord', 'dialplanstate',
        'numberdigest', 'numberrecordingpolicy', 'recording', 'recordingkeep', 'tenant',
        'tenantcallcentre', 'tenantdigest', 'tenantrecordingsettings', 'uploadedannouncement',
        'announcement', 'servicenumber', 'routing', 'switchmoment', 'destination'
    )
    for table in reversed(tables):
        op.drop_table(table)
