"""employee periods (RULES.md "Employment within a month")

Revision ID: 10d22ffbe70e
Revises: 2c25c7d11897
Create Date: 2026-12-01 06:45:00
"""

from services.shared.kit_migration import downgrade_employee_period, upgrade_employee_period

revision = '10d22ffbe70e'
down_revision = '2c25c7d11897'
branch_labels = None
depends_on = None


def upgrade() -> None:
    upgrade_employee_period()


def downgrade() -> None:
    downgrade_employee_period()
