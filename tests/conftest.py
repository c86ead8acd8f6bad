from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings as hypothesis_settings

from services.shared.settings import Settings
from tests.infra import (
    Infra,
    Kafka,
    drop_created_databases,
    drop_topics,
    find_kafka,
    find_postgres,
    find_redis,
)
from tests.support import key_settings

# CI runs the same property cases every time (a red CI is then a regression, not a new draw);
# a developer's run explores new ones. `HYPOTHESIS_PROFILE=explore` explores anywhere.
hypothesis_settings.register_profile("ci", derandomize=True, database=None)
hypothesis_settings.register_profile("explore")
hypothesis_settings.load_profile(
    os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "explore")
)


@pytest.fixture(scope="session")
def infra() -> Iterator[Infra]:
    found = Infra()
    yield found
    found.close()


@pytest.fixture(scope="session")
def kafka(infra: Infra) -> Kafka:
    if infra.kafka is None:
        infra.kafka = find_kafka(infra)
    return infra.kafka


@pytest.fixture(scope="session")
def postgres_admin_url(infra: Infra) -> Iterator[str]:
    if infra.postgres_url is None:
        infra.postgres_url = find_postgres(infra)
    yield infra.postgres_url
    drop_created_databases()


@pytest.fixture(scope="session")
def redis_url(infra: Infra) -> str:
    if infra.redis_url is None:
        infra.redis_url = find_redis(infra)
    return infra.redis_url


@pytest.fixture
def run_id() -> str:
    return uuid.uuid4().hex[:8]


@pytest.fixture
def settings(kafka: Kafka, tmp_path: Path, run_id: str) -> Iterator[Settings]:
    """Settings of one test: its own SQLite files, consumer groups and topics (deleted
    afterwards: a local broker that keeps every test's topics slows down run after run)."""
    yield Settings(
        kafka_bootstrap=kafka.bootstrap,
        data_dir=tmp_path,
        database_url=f"sqlite:///{tmp_path}/{{service}}.db",
        group_suffix=f"-t{run_id}",
        topic_prefix=f"t{run_id}.",  # own topics: no replay of other tests' history
        relay_interval_s=0.1,
        retry_backoff_s=0.05,
        log_json=True,
        **key_settings(),  # tokens of tests.support.who verify
    )
    asyncio.run(drop_topics(kafka.bootstrap, f"t{run_id}.", f"-t{run_id}"))


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path, run_id: str) -> str:
    """One service's store URL: its own SQLite file, or its own PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/{{service}}.db"
    from tests.infra import fresh_postgres_database

    admin = request.getfixturevalue("postgres_admin_url")
    return fresh_postgres_database(admin, f"t{run_id}_store")
