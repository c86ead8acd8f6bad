"""calendar year

Revision ID: 520b913365d8
Revises: 40dad204d43b
Create Date: 2026-11-25 16:49:33.147839
"""

from services.shared.kit_migration import downgrade_calendar_year, upgrade_calendar_year

revision = '520b913365d8'
down_revision = '40dad204d43b'
branch_labels = None
depends_on = None


def upgrade() -> None:
    upgrade_calendar_year()


def downgrade() -> None:
    downgrade_calendar_year()
