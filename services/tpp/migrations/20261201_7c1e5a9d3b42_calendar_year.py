"""calendar year (the month's working days: pro rata pagu, RULES.md "Employment within a month")

Revision ID: 7c1e5a9d3b42
Revises: 5d4bd09ab696
Create Date: 2026-12-01 06:40:00
"""

from services.shared.kit_migration import downgrade_calendar_year, upgrade_calendar_year

revision = '7c1e5a9d3b42'
down_revision = '5d4bd09ab696'
branch_labels = None
depends_on = None


def upgrade() -> None:
    upgrade_calendar_year()


def downgrade() -> None:
    downgrade_calendar_year()
