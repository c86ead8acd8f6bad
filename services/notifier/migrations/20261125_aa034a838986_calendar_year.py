"""calendar year

Revision ID: aa034a838986
Revises: d3e9e2d19771
Create Date: 2026-11-25 16:49:40.906587
"""

from services.shared.kit_migration import downgrade_calendar_year, upgrade_calendar_year

revision = 'aa034a838986'
down_revision = 'd3e9e2d19771'
branch_labels = None
depends_on = None


def upgrade() -> None:
    upgrade_calendar_year()


def downgrade() -> None:
    downgrade_calendar_year()
