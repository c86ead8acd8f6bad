"""scan_quarantine.migration: a waiting line of a BKPSDM migration import stays one

Revision ID: a14e0c3d5b21
Revises: 6b307f8951ce
Create Date: 2026-12-01 07:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = 'a14e0c3d5b21'
down_revision = '6b307f8951ce'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('scan_quarantine', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('migration', sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table('scan_quarantine', schema=None) as batch_op:
        batch_op.drop_column('migration')
