"""employee periods (RULES.md "Employment within a month")

Revision ID: 5d4bd09ab696
Revises: 2bc7945c2441
Create Date: 2026-12-01 06:45:00
"""

from services.shared.kit_migration import downgrade_employee_period, upgrade_employee_period

revision = '5d4bd09ab696'
down_revision = '2bc7945c2441'
branch_labels = None
depends_on = None


def upgrade() -> None:
    upgrade_employee_period()


def downgrade() -> None:
    downgrade_employee_period()
