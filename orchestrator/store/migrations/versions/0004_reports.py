"""Reports (issue 16): what the call record carries for them (caller hash, origin, queue, agent,
flow path, the 090x tariff at the time of the call), the per-quarter-hour rollups kept with the
records, agents' pauses, and saved report layouts.

Existing call records get empty report columns: they count in volume reports, not in unique
callers or origins (no hash or origin can be made for them without the key at that time; the
raw caller is there, so `orchestrator report rebuild-rollups` would count them; see docs/reports.md).
Their rollups are built here from the rows, so reports over old periods are complete.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06 02:40:00
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

def _columns() -> tuple[sa.Column[object], ...]:
    return (
    sa.Column('caller_hash', sa.String(), nullable=False, server_default=''),
    sa.Column('origin', sa.String(), nullable=False, server_default=''),
    sa.Column('queue', sa.String(), nullable=True),
    sa.Column('queue_result', sa.String(), nullable=True),
    sa.Column('queue_wait_s', sa.Float(), nullable=True),
    sa.Column('agent', sa.String(), nullable=True),
    sa.Column('agent_wrapup_s', sa.Float(), nullable=False, server_default='0'),
    sa.Column('flow', sa.String(), nullable=True),
    sa.Column('path', sa.String(), nullable=False, server_default=''),
    sa.Column('tariff_per_call', sa.String(), nullable=True),
    sa.Column('tariff_per_minute', sa.String(), nullable=True),
    sa.Column('revenue_cents', sa.Integer(), nullable=False, server_default='0'),
    sa.Column('revenue_call_cents', sa.Integer(), nullable=False, server_default='0'),
    )


def _measures() -> tuple[sa.Column[Any], ...]:
    """The measures every rollup row sums."""
    return (
        sa.Column('calls', sa.Integer(), nullable=False),
        sa.Column('wait_s', sa.Float(), nullable=False),
        sa.Column('talk_s', sa.Float(), nullable=False),
        sa.Column('revenue_cents', sa.Integer(), nullable=False),
        sa.Column('revenue_call_cents', sa.Integer(), nullable=False),
    )


def _rollup_tables() -> None:
    op.create_table('callrollup',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('bucket', sa.DateTime(timezone=True), nullable=False),
    sa.Column('tenant', sa.String(), nullable=False),
    sa.Column('service_number', sa.String(), nullable=False),
    sa.Column('queue', sa.String(), nullable=False),
    sa.Column('flow', sa.String(), nullable=False),
    sa.Column('outcome', sa.String(), nullable=False),
    sa.Column('reason', sa.String(), nullable=False),
    *_measures(),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('bucket', 'tenant', 'service_number', 'queue', 'flow', 'outcome', 'reason')
    )
    with op.batch_alter_table('callrollup', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_callrollup_bucket'), ['bucket'], unique=False)
        batch_op.create_index(batch_op.f('ix_callrollup_tenant'), ['tenant'], unique=False)
    op.create_table('tenantrollup',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('bucket', sa.DateTime(timezone=True), nullable=False),
    sa.Column('tenant', sa.String(), nullable=False),
    sa.Column('outcome', sa.String(), nullable=False),
    sa.Column('reason', sa.String(), nullable=False),
    *_measures(),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('bucket', 'tenant', 'outcome', 'reason')
    )


def upgrade() -> None:
    with op.batch_alter_table('callrecord', schema=None) as batch_op:
        for column in _columns():
            batch_op.add_column(column)
        batch_op.create_index('ix_callrecord_tenant_started', ['tenant', 'started_at', 'caller_hash'], unique=False)
    _rollup_tables()
    op.create_table('reportlayout',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tenant', sa.String(), nullable=False),
    sa.Column('name', sa.String(), nullable=False),
    sa.Column('spec_json', sa.String(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('tenant', 'name')
    )
    with op.batch_alter_table('reportlayout', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reportlayout_tenant'), ['tenant'], unique=False)
    op.create_table('agentpause',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tenant', sa.String(), nullable=False),
    sa.Column('agent', sa.String(), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reason', sa.String(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('agentpause', schema=None) as batch_op:
        batch_op.create_index('ix_agentpause_tenant_started', ['tenant', 'started_at'], unique=False)
    _rollup_existing()


def _rollup_existing() -> None:
    """The rollups of the records already there (bucket arithmetic per dialect: the one place
    outside store/ code that spells it, because a migration must not import the app's modules)."""
    dialect = op.get_bind().dialect.name
    if dialect == 'postgresql':
        bucket = "date_bin('15 minutes', started_at, TIMESTAMPTZ '2000-01-01 00:00:00+00')"
    else:
        bucket = ("strftime('%Y-%m-%d %H:', started_at) || printf('%02d', "
                  "(CAST(strftime('%M', started_at) AS INTEGER) / 15) * 15) || '\\:00.000000'")
    op.execute(sa.text(
        "INSERT INTO callrollup (bucket, tenant, service_number, queue, flow, outcome, reason, calls, "
        "wait_s, talk_s, revenue_cents, revenue_call_cents) "
        f"SELECT {bucket}, tenant, service_number, '', '', outcome, COALESCE(reason, ''), COUNT(*), "
        "SUM(wait_s), SUM(talk_s), 0, 0 FROM callrecord "
        f"GROUP BY {bucket}, tenant, service_number, outcome, COALESCE(reason, '')"))
    op.execute(sa.text(
        "INSERT INTO tenantrollup (bucket, tenant, outcome, reason, calls, wait_s, talk_s, revenue_cents, "
        "revenue_call_cents) SELECT bucket, tenant, outcome, reason, SUM(calls), SUM(wait_s), SUM(talk_s), "
        "SUM(revenue_cents), SUM(revenue_call_cents) FROM callrollup GROUP BY bucket, tenant, outcome, reason"))


def downgrade() -> None:
    op.drop_table('tenantrollup')
    with op.batch_alter_table('agentpause', schema=None) as batch_op:
        batch_op.drop_index('ix_agentpause_tenant_started')
    op.drop_table('agentpause')
    with op.batch_alter_table('reportlayout', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reportlayout_tenant'))
    op.drop_table('reportlayout')
    with op.batch_alter_table('callrollup', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_callrollup_tenant'))
        batch_op.drop_index(batch_op.f('ix_callrollup_bucket'))
    op.drop_table('callrollup')
    with op.batch_alter_table('callrecord', schema=None) as batch_op:
        batch_op.drop_index('ix_callrecord_tenant_started')
        for column in reversed(_columns()):
            batch_op.drop_column(column.name)
