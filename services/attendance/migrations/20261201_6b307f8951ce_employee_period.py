"""employee periods (RULES.md "Employment within a month")

Revision ID: 6b307f8951ce
Revises: 376f5a9f9a3b
Create Date: 2026-12-01 06:45:00
"""

from services.shared.kit_migration import downgrade_employee_period, upgrade_employee_period

revision = '6b307f8951ce'
down_revision = '376f5a9f9a3b'
branch_labels = None
depends_on = None


def upgrade() -> None:
    upgrade_employee_period()


def downgrade() -> None:
    downgrade_employee_period()
