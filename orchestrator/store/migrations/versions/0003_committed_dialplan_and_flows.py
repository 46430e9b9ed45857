"""The committed dialplan (apply-pipeline: DialplanState becomes CommittedDialplan, with whether
Asterisk was loaded with it and when it was committed) and the Premium call flows' tables
(TenantFlows, FlowListEntry).

The one DialplanState row moves: its version and generator are kept, ``loaded`` starts false
(whether Asterisk runs that version is not recorded in the old row; false makes the next apply,
``asterisk up`` or ``status`` check and reload it once), ``committed_at`` the moment of the
upgrade. Builds of main between 9e66f28 and the migrations made the new tables with create_all:
kept when present, as in 0001 and 0002.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-06 01:04:23.803937
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def _missing(table: str) -> bool:
    return not sa.inspect(op.get_bind()).has_table(table)


def upgrade() -> None:
    if _missing('committeddialplan'):
        op.create_table('committeddialplan',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('dialplan_dir', sa.String(), nullable=False),
        sa.Column('generator', sa.String(), nullable=False),
        sa.Column('loaded', sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column('committed_at', sa.DateTime(timezone=True), nullable=False, server_default=sa.func.current_timestamp()),
        sa.PrimaryKeyConstraint('id')
        )
    if not _missing('dialplanstate'):
        op.execute("INSERT INTO committeddialplan (id, dialplan_dir, generator) "
                   "SELECT id, dialplan_dir, generator FROM dialplanstate "
                   "WHERE id NOT IN (SELECT id FROM committeddialplan)")
        op.drop_table('dialplanstate')
    if _missing('flowlistentry'):
        op.create_table('flowlistentry',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('tenant', sa.String(), nullable=False),
        sa.Column('list_name', sa.String(), nullable=False),
        sa.Column('value', sa.String(), nullable=False),
        sa.Column('added_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('tenant', 'list_name', 'value')
        )
        with op.batch_alter_table('flowlistentry', schema=None) as batch_op:
            batch_op.create_index(batch_op.f('ix_flowlistentry_tenant'), ['tenant'], unique=False)
    if _missing('tenantflows'):
        op.create_table('tenantflows',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('tenant', sa.String(), nullable=False),
        sa.Column('plan_json', sa.String(), nullable=False),
        sa.PrimaryKeyConstraint('id')
        )
        with op.batch_alter_table('tenantflows', schema=None) as batch_op:
            batch_op.create_index(batch_op.f('ix_tenantflows_tenant'), ['tenant'], unique=True)


def downgrade() -> None:
    with op.batch_alter_table('tenantflows', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tenantflows_tenant'))
    op.drop_table('tenantflows')
    with op.batch_alter_table('flowlistentry', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_flowlistentry_tenant'))
    op.drop_table('flowlistentry')
    op.create_table('dialplanstate',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('dialplan_dir', sa.String(), nullable=False),
    sa.Column('generator', sa.String(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.execute("INSERT INTO dialplanstate (id, dialplan_dir, generator) "
               "SELECT id, dialplan_dir, generator FROM committeddialplan")
    op.drop_table('committeddialplan')
