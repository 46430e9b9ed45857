"""Switch moments as 64-bit epochs: PostgreSQL's INTEGER ends at 2038-01-19 03:14:07 UTC, so a
switch moment after that could not be stored ("integer out of range"). SQLite's INTEGER is
64-bit already; the change is a no-op there apart from the declared type.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06 06:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('switchmoment', schema=None) as batch_op:
        batch_op.alter_column('at_epoch', existing_type=sa.Integer(), type_=sa.BigInteger(), existing_nullable=False)


def downgrade() -> None:
    with op.batch_alter_table('switchmoment', schema=None) as batch_op:
        batch_op.alter_column('at_epoch', existing_type=sa.BigInteger(), type_=sa.Integer(), existing_nullable=False)
