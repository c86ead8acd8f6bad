"""calendar year

Revision ID: d38780afb96d
Revises: f4ca5431fb45
Create Date: 2026-11-25 16:51:36.393485
"""

from services.shared.kit_migration import downgrade_calendar_year, upgrade_calendar_year

revision = 'd38780afb96d'
down_revision = 'f4ca5431fb45'
branch_labels = None
depends_on = None


def upgrade() -> None:
    upgrade_calendar_year()


def downgrade() -> None:
    downgrade_calendar_year()
