"""employee periods (RULES.md "Employment within a month")

Revision ID: 74abe023570c
Revises: d38780afb96d
Create Date: 2026-12-01 06:45:00
"""

from services.shared.kit_migration import downgrade_employee_period, upgrade_employee_period

revision = '74abe023570c'
down_revision = 'd38780afb96d'
branch_labels = None
depends_on = None


def upgrade() -> None:
    upgrade_employee_period()


def downgrade() -> None:
    downgrade_employee_period()
