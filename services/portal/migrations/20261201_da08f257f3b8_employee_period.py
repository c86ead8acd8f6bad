"""employee periods (RULES.md "Employment within a month")

Revision ID: da08f257f3b8
Revises: e657e2608bc9
Create Date: 2026-12-01 06:45:00
"""

from services.shared.kit_migration import downgrade_employee_period, upgrade_employee_period

revision = 'da08f257f3b8'
down_revision = 'e657e2608bc9'
branch_labels = None
depends_on = None


def upgrade() -> None:
    upgrade_employee_period()


def downgrade() -> None:
    downgrade_employee_period()
