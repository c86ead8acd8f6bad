"""Alembic migrations per service, applied on start.

uv run python -m services.shared.migrations revision SERVICE -m "what changed"

A service's first revision calls services.shared.kit_migration.upgrade_kit() for the kit's
own tables; later revisions hold only the service's changes (autogenerate sees the kit's
tables as present).
"""

from __future__ import annotations

import argparse
import importlib
import tempfile
import zlib
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, MetaData, text

from services.shared.db import make_engine

HERE = Path(__file__).parent


def _config(service: str, metadata: MetaData) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(HERE / "alembic"))
    versions = HERE.parent / service / "migrations"
    versions.mkdir(exist_ok=True)
    cfg.set_main_option("path_separator", "os")
    cfg.set_main_option("version_locations", str(versions))
    cfg.set_main_option("file_template", "%%(year)d%%(month).2d%%(day).2d_%%(rev)s_%%(slug)s")
    cfg.attributes["metadata"] = metadata
    cfg.attributes["version_table"] = f"alembic_version_{service}"
    return cfg


def upgrade(engine: Engine, service: str, metadata: MetaData) -> None:
    """Bring the store to head. Replicas starting together queue on a PostgreSQL advisory
    lock (transaction-scoped) so only one runs the migration; the others find it done."""
    cfg = _config(service, metadata)
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            key = zlib.crc32(f"sikerja-migrate-{service}".encode())
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


def revision(service: str, message: str) -> None:
    """Autogenerate a revision against a scratch SQLite at the current head."""
    metadata = importlib.import_module(f"services.{service}.models").Base.metadata
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{tmp}/scratch.db")
        upgrade(engine, service, metadata)
        cfg = _config(service, metadata)
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.revision(cfg, message=message, autogenerate=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="cmd", required=True)
    rev = sub.add_parser("revision")
    rev.add_argument("service")
    rev.add_argument("-m", "--message", required=True)
    args = parser.parse_args()
    revision(args.service, args.message)
