"""statement.pagu_basis_json (how the month's pagu came from the employment periods,
RULES.md "Employment within a month")

Revision ID: 8d2f6a1c4e07
Revises: 6c1201ce69e4
Create Date: 2026-12-01 08:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = '8d2f6a1c4e07'
down_revision = '6c1201ce69e4'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('statement', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('pagu_basis_json', sa.Text(), server_default='', nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table('statement', schema=None) as batch_op:
        batch_op.drop_column('pagu_basis_json')
