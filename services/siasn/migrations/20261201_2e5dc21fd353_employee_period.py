"""employee periods (RULES.md "Employment within a month")

Revision ID: 2e5dc21fd353
Revises: 4c85cd2ae42a
Create Date: 2026-12-01 06:45:00
"""

from services.shared.kit_migration import downgrade_employee_period, upgrade_employee_period

revision = '2e5dc21fd353'
down_revision = '4c85cd2ae42a'
branch_labels = None
depends_on = None


def upgrade() -> None:
    upgrade_employee_period()


def downgrade() -> None:
    downgrade_employee_period()
