"""The kit's tables (employee projection, inbox, outbox, relay lease), as every service's
first migration creates them: one definition instead of one copy per service."""

from datetime import datetime

import sqlalchemy as sa
import sqlmodel
import sqlmodel.sql.sqltypes
from alembic import op

import services.shared.db

KIT_TABLES = ("employee", "inbox", "outbox", "relay_lease")


def upgrade_kit() -> None:
    op.create_table(
        "employee",
        sa.Column("nip", sqlmodel.sql.sqltypes.AutoString(length=18), nullable=False),
        sa.Column("nama", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("opd", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("jabatan", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("kelas_jabatan", sa.Integer(), nullable=False),
        sa.Column("atasan_nip", sqlmodel.sql.sqltypes.AutoString(length=18), nullable=True),
        sa.Column("tpp_pagu", sa.Integer(), nullable=False),
        sa.Column("pin", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("updated_at", services.shared.db.Utc(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("nip"),
    )
    with op.batch_alter_table("employee", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_employee_atasan_nip"), ["atasan_nip"], unique=False)
        batch_op.create_index(batch_op.f("ix_employee_opd"), ["opd"], unique=False)
        batch_op.create_index(batch_op.f("ix_employee_pin"), ["pin"], unique=False)

    op.create_table(
        "inbox",
        sa.Column("event_id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column("event_type", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("handled_at", services.shared.db.Utc(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("event_id"),
    )
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column("event_type", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("topic", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("payload", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("created_at", services.shared.db.Utc(timezone=True), nullable=False),
        sa.Column("sent_at", services.shared.db.Utc(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_outbox_event_id"), ["event_id"], unique=True)
        batch_op.create_index(batch_op.f("ix_outbox_sent_at"), ["sent_at"], unique=False)

    op.create_table(
        "relay_lease",
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("owner", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("expires_at", services.shared.db.Utc(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )


def downgrade_kit() -> None:
    op.drop_table("relay_lease")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outbox_sent_at"))
        batch_op.drop_index(batch_op.f("ix_outbox_event_id"))

    op.drop_table("outbox")
    op.drop_table("inbox")
    with op.batch_alter_table("employee", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_employee_pin"))
        batch_op.drop_index(batch_op.f("ix_employee_opd"))
        batch_op.drop_index(batch_op.f("ix_employee_atasan_nip"))

    op.drop_table("employee")


def upgrade_calendar_year() -> None:
    """The city calendar's projection (services.shared.calendar_book), for the services
    that keep one: one definition for their migrations."""
    op.create_table(
        "calendar_year",
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("holidays", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("working_days", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("changed_at", services.shared.db.Utc(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("year"),
    )


def downgrade_calendar_year() -> None:
    op.drop_table("calendar_year")


def upgrade_employee_period() -> None:
    """The employee master's periods (services.shared.employees), every service: one
    definition for their migrations. Each known employee gets one period open at both
    ends, the single-row master it had before; a deactivated one's period ends on the
    date of its last update (the best the old row knows)."""
    op.create_table(
        "employee_period",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("nip", sqlmodel.sql.sqltypes.AutoString(length=18), nullable=False),
        sa.Column("first_day", sa.Date(), nullable=True),
        sa.Column("last_day", sa.Date(), nullable=True),
        sa.Column("nama", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("opd", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("jabatan", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("kelas_jabatan", sa.Integer(), nullable=False),
        sa.Column("atasan_nip", sqlmodel.sql.sqltypes.AutoString(length=18), nullable=True),
        sa.Column("tpp_pagu", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("employee_period", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_employee_period_atasan_nip"), ["atasan_nip"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_employee_period_nip"), ["nip"], unique=False)
        batch_op.create_index(batch_op.f("ix_employee_period_opd"), ["opd"], unique=False)
    bind = op.get_bind()
    rows = bind.execute(
        sa.text(
            "SELECT nip, nama, opd, jabatan, kelas_jabatan, atasan_nip, tpp_pagu, active, "
            "updated_at FROM employee"
        )
    ).all()
    period = sa.table(
        "employee_period",
        *(
            sa.column(name)
            for name in (
                "nip", "first_day", "last_day", "nama", "opd", "jabatan",
                "kelas_jabatan", "atasan_nip", "tpp_pagu",
            )
        ),
    )  # fmt: skip
    values = []
    for nip, nama, opd, jabatan, kelas, atasan, pagu, active, updated_at in rows:
        last_day = None
        if not active and updated_at is not None:
            stamp = (
                updated_at
                if isinstance(updated_at, datetime)
                else datetime.fromisoformat(str(updated_at))
            )
            last_day = stamp.date()
        values.append(
            {
                "nip": nip, "first_day": None, "last_day": last_day, "nama": nama, "opd": opd,
                "jabatan": jabatan, "kelas_jabatan": kelas, "atasan_nip": atasan,
                "tpp_pagu": pagu,
            }
        )  # fmt: skip
    if values:
        op.bulk_insert(period, values)


def downgrade_employee_period() -> None:
    op.drop_table("employee_period")
