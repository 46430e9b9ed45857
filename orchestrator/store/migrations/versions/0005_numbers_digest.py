"""The digest of a tenant's whole list of number entries as last applied, and the E.164 of each
entry in order: an apply whose list is the same (a flow change, a call-centre change) neither
reads the 10,000 per-number digests nor digests 10,000 entries (domain/digest.py). Empty for
tenants applied before: their next apply takes the per-number path and fills them.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06 04:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('tenantdigest', schema=None) as batch_op:
        batch_op.add_column(sa.Column('numbers', sa.String(), nullable=True))
        batch_op.add_column(sa.Column('order_json', sa.String(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('tenantdigest', schema=None) as batch_op:
        batch_op.drop_column('order_json')
        batch_op.drop_column('numbers')
