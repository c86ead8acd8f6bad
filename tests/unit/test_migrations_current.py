"""Every service's migrations, applied to an empty store, give exactly its models' schema:
a model changed without a migration fails here."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from services.shared.db import make_engine
from services.shared.migrations import upgrade

SERVICES = ["attendance", "activity", "approval", "tpp", "notifier", "siasn", "portal"]


@pytest.mark.parametrize("service", SERVICES)
def test_migrations_match_the_models(service: str, tmp_path: Path) -> None:
    metadata = importlib.import_module(f"services.{service}.models").Base.metadata
    engine = make_engine(f"sqlite:///{tmp_path}/{service}.db")
    upgrade(engine, service, metadata)
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = [d for d in compare_metadata(ctx, metadata) if "alembic_version" not in str(d)]
    assert diff == []
    engine.dispose()
