"""the penilai projection is the kit's (services.shared.penilai): table penilai_assignment

Revision ID: 4e947c1f81d7
Revises: c5c16213e4f2
Create Date: 2026-12-01 08:25:00
"""

from alembic import op

revision = '4e947c1f81d7'
down_revision = 'c5c16213e4f2'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("penilai", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_penilai_nip"))
    op.rename_table("penilai", "penilai_assignment")
    with op.batch_alter_table("penilai_assignment", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_penilai_assignment_nip"), ["nip"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_penilai_assignment_penilai_nip"), ["penilai_nip"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("penilai_assignment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_penilai_assignment_penilai_nip"))
        batch_op.drop_index(batch_op.f("ix_penilai_assignment_nip"))
    op.rename_table("penilai_assignment", "penilai")
    with op.batch_alter_table("penilai", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_penilai_nip"), ["nip"], unique=False)
