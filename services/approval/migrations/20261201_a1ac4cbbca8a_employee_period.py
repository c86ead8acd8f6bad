"""employee periods (RULES.md "Employment within a month")

Revision ID: a1ac4cbbca8a
Revises: 9ecf45415fc7
Create Date: 2026-12-01 06:45:00
"""

from services.shared.kit_migration import downgrade_employee_period, upgrade_employee_period

revision = 'a1ac4cbbca8a'
down_revision = '9ecf45415fc7'
branch_labels = None
depends_on = None


def upgrade() -> None:
    upgrade_employee_period()


def downgrade() -> None:
    downgrade_employee_period()
