"""Number allocations and plan heads (tenancy, issue 14). Numbers that stored plans already use
are allocated to their tenant by the store itself (tenancy.adopt_held_numbers), and a tenant
without a plan head is at its last applied version (tenancy.plan_version): no rows to move here.
Builds between 9e66f28 and the migrations made these tables with create_all: kept when present.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-06 00:21:50.727189
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def _missing(table: str) -> bool:
    return not sa.inspect(op.get_bind()).has_table(table)


def upgrade() -> None:
    if _missing('numberallocation'):
        op.create_table('numberallocation',
        sa.Column('e164', sa.String(), nullable=False),
        sa.Column('tenant', sa.String(), nullable=False),
        sa.Column('allocated_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('allocated_by', sa.String(), nullable=False),
        sa.PrimaryKeyConstraint('e164')
        )
        with op.batch_alter_table('numberallocation', schema=None) as batch_op:
            batch_op.create_index(batch_op.f('ix_numberallocation_tenant'), ['tenant'], unique=False)
    if _missing('planhead'):
        op.create_table('planhead',
        sa.Column('tenant', sa.String(), nullable=False),
        sa.Column('version_id', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('tenant')
        )


def downgrade() -> None:
    op.drop_table('planhead')
    with op.batch_alter_table('numberallocation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_numberallocation_tenant'))
    op.drop_table('numberallocation')
