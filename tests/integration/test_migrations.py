"""Replicas of one service starting at the same moment on one PostgreSQL database: exactly
one migrates, none crashes."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa

from services.attendance.models import Base
from services.shared.db import make_engine
from services.shared.migrations import upgrade
from tests.infra import fresh_postgres_database

pytestmark = pytest.mark.integration


def test_concurrent_starts_migrate_once(postgres_admin_url: str, run_id: str) -> None:
    url = fresh_postgres_database(postgres_admin_url, f"t{run_id}_migrate")
    engines = [make_engine(url) for _ in range(4)]
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda e: upgrade(e, "attendance", Base.metadata), engines))
    assert results == [None] * 4  # nobody raised
    with engines[0].connect() as conn:
        versions = conn.execute(sa.text("SELECT count(*) FROM alembic_version_attendance"))
        assert versions.scalar_one() == 1
        tables = set(sa.inspect(conn).get_table_names())
    assert set(Base.metadata.tables) <= tables
    for engine in engines:
        engine.dispose()
