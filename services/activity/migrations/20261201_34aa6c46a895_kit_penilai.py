"""the penilai projection is the kit's (services.shared.penilai): an index on nip too

Revision ID: 34aa6c46a895
Revises: df049e7a15da
Create Date: 2026-12-01 08:25:00
"""

from alembic import op

revision = '34aa6c46a895'
down_revision = 'df049e7a15da'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("penilai_assignment", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_penilai_assignment_nip"), ["nip"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("penilai_assignment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_penilai_assignment_nip"))
