"""device_day: each device's contacts per WIB date (the device-outage proposals read it)

Revision ID: c5d1e7a09b42
Revises: a14e0c3d5b21
Create Date: 2026-12-01 08:05:00
"""

from datetime import UTC, timedelta, timezone

import sqlalchemy as sa
import sqlmodel
from alembic import op

import services.shared.db

revision = 'c5d1e7a09b42'
down_revision = 'a14e0c3d5b21'
branch_labels = None
depends_on = None

WIB = timezone(timedelta(hours=7))


def upgrade() -> None:
    day_table = op.create_table('device_day',
    sa.Column('sn', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('first_contact', services.shared.db.Utc(timezone=True), nullable=False),
    sa.Column('last_contact', services.shared.db.Utc(timezone=True), nullable=False),
    sa.Column('heartbeats', sa.Integer(), nullable=False),
    sa.Column('scans', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('sn', 'day')
    )
    with op.batch_alter_table('device_day', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_device_day_day'), ['day'], unique=False)
    # The one contact known so far: each device's last, on its WIB date (as a heartbeat).
    device = sa.table(
        'device',
        sa.column('sn', sa.String()),
        sa.column('last_seen_at', services.shared.db.Utc(timezone=True)),
    )
    rows = op.get_bind().execute(
        sa.select(device.c.sn, device.c.last_seen_at).where(device.c.last_seen_at.is_not(None))
    ).all()
    if rows:
        op.bulk_insert(day_table, [
            {
                'sn': sn,
                'day': seen.astimezone(WIB).date(),
                'first_contact': seen,
                'last_contact': seen,
                'heartbeats': 1,
                'scans': 0,
            }
            for sn, seen in ((sn, seen if seen.tzinfo else seen.replace(tzinfo=UTC)) for sn, seen in rows)
        ])


def downgrade() -> None:
    with op.batch_alter_table('device_day', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_device_day_day'))
    op.drop_table('device_day')
