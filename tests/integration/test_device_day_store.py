"""attendance's device_day (each device's contacts per WIB date) on the real stores: the
upsert adds up on SQLite and PostgreSQL, and the migration carries each device's last
contact over as that date's record."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from sqlmodel import select

from services.attendance import store
from services.attendance.app import build_kit
from services.attendance.models import Base, DeviceDay
from services.shared.db import make_engine
from services.shared.migrations import _config
from services.shared.settings import Settings

pytestmark = pytest.mark.integration

TUE = date(2026, 2, 3)


def test_contacts_add_up_per_wib_date(store_url: str, tmp_path: Path) -> None:
    kit = build_kit(Settings(data_dir=tmp_path, database_url=store_url))
    kit.migrate()
    # Tuesday WIB: heartbeats at 07:00 and 12:00, an upload of 3 lines at 09:00, and a
    # heartbeat of 08:00 committed last (another worker); 23:30 UTC is Wednesday 06:30 WIB.
    for at, beats, lines in (
        (datetime(2026, 2, 3, 0, 0, tzinfo=UTC), 1, 0),
        (datetime(2026, 2, 3, 2, 0, tzinfo=UTC), 0, 3),
        (datetime(2026, 2, 3, 5, 0, tzinfo=UTC), 1, 0),
        (datetime(2026, 2, 3, 1, 0, tzinfo=UTC), 1, 0),
        (datetime(2026, 2, 3, 23, 30, tzinfo=UTC), 1, 0),
    ):
        with kit.uow() as uow:
            store.note_contact(uow, "DEV-X", at, heartbeats=beats, scans=lines)
            uow.commit()
    with kit.uow() as uow:
        rows = {r.day: r for r in uow.session.exec(select(DeviceDay)).all()}
        assert set(rows) == {TUE, date(2026, 2, 4)}
        tue = rows[TUE]
        assert (tue.heartbeats, tue.scans) == (3, 3)
        assert tue.first_contact == datetime(2026, 2, 3, 0, 0, tzinfo=UTC)
        assert tue.last_contact == datetime(2026, 2, 3, 5, 0, tzinfo=UTC)  # not moved back
        assert (rows[date(2026, 2, 4)].heartbeats, rows[date(2026, 2, 4)].scans) == (1, 0)
        assert store.contact_days(uow, ["DEV-X", "DEV-Y"], TUE, TUE) == {("DEV-X", TUE)}
    kit.engine.dispose()


def test_the_migration_keeps_each_device_last_contact(store_url: str, tmp_path: Path) -> None:
    engine = make_engine(store_url.replace("{service}", "attendance"))
    cfg = _config("attendance", Base.metadata)
    seen = datetime(2026, 2, 3, 18, 0, tzinfo=UTC)  # Wednesday 01:00 WIB
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "a14e0c3d5b21")
        device = sa.table(
            "device",
            *(sa.column(c) for c in ("sn", "opd", "location", "name", "timezone")),
            *(sa.column(c) for c in ("attlog_stamp", "op_stamp")),
            sa.column("registered_at", Base.metadata.tables["device"].c.registered_at.type),
            sa.column("last_seen_at", Base.metadata.tables["device"].c.last_seen_at.type),
        )
        common = {"opd": "X", "location": "", "name": "", "timezone": "7"}
        common |= {"attlog_stamp": "0", "op_stamp": "0", "registered_at": seen}
        conn.execute(sa.insert(device).values(sn="SEEN", last_seen_at=seen, **common))
        conn.execute(sa.insert(device).values(sn="NEVER", last_seen_at=None, **common))
        command.upgrade(cfg, "head")
        rows = conn.execute(sa.select(DeviceDay.__table__)).mappings().all()
    assert [(r["sn"], r["day"], r["heartbeats"], r["scans"]) for r in rows] == [
        ("SEEN", date(2026, 2, 4), 1, 0)
    ]
    assert rows[0]["first_contact"] == rows[0]["last_contact"] == seen
    engine.dispose()
