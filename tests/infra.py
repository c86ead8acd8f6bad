"""Find the real infrastructure for tests, in DESIGN.md's order: addresses in the
environment, then testcontainers when a Docker engine answers, then deploy/local scripts."""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient

ROOT = Path(__file__).resolve().parents[1]
LOCAL = ROOT / "deploy" / "local"


def docker_available() -> bool:
    try:
        import docker

        docker.from_env(timeout=3).ping()
        return True
    except Exception:  # noqa: BLE001
        return False


def local(script: str, *args: str) -> str:
    out = subprocess.run(
        [str(LOCAL / script), *args], check=True, capture_output=True, text=True, timeout=900
    )
    return out.stdout.strip()


@dataclass
class Kafka:
    """The broker the tests use; `controllable` when tests may stop and start it."""

    bootstrap: str
    how: str
    container: Any = None
    controllable: bool = False

    def stop(self) -> None:
        if self.how == "local":
            local("kafka.sh", "stop")
        elif self.container is not None:
            self.container.get_wrapped_container().stop()

    def start(self) -> None:
        if self.how == "local":
            local("kafka.sh", "start")
        elif self.container is not None:
            self.container.get_wrapped_container().start()


@dataclass
class Infra:
    kafka: Kafka | None = None
    postgres_url: str | None = None
    redis_url: str | None = None
    _containers: list[Any] = field(default_factory=list)

    def close(self) -> None:
        for c in self._containers:
            c.stop()


def find_kafka(infra: Infra) -> Kafka:
    if addr := os.environ.get("SIKERJA_TEST_KAFKA_BOOTSTRAP"):
        return Kafka(addr, "env")
    if docker_available():
        from testcontainers.kafka import KafkaContainer

        container = KafkaContainer().with_kraft()
        container.start()
        infra._containers.append(container)
        return Kafka(container.get_bootstrap_server(), "docker", container, controllable=False)
    local("kafka.sh", "start")
    return Kafka(f"127.0.0.1:{os.environ.get('KAFKA_PORT', '9092')}", "local", controllable=True)


def find_postgres(infra: Infra) -> str:
    if url := os.environ.get("SIKERJA_TEST_POSTGRES_URL"):
        return url
    if docker_available():
        from testcontainers.postgres import PostgresContainer

        container = PostgresContainer("postgres:16", driver="psycopg")
        container.start()
        infra._containers.append(container)
        return container.get_connection_url()
    local("postgres.sh", "start")
    return local("postgres.sh", "url")


def find_redis(infra: Infra) -> str:
    if url := os.environ.get("SIKERJA_TEST_REDIS_URL"):
        return url
    if docker_available():
        from testcontainers.redis import RedisContainer

        container = RedisContainer()
        container.start()
        infra._containers.append(container)
        host, port = container.get_container_host_ip(), container.get_exposed_port(6379)
        return f"redis://{host}:{port}/0"
    local("redis.sh", "start")
    return local("redis.sh", "url")


CREATED_DATABASES: list[tuple[str, str]] = []  # (admin URL, name), dropped at the end


def fresh_postgres_database(admin_url: str, name: str) -> str:
    """CREATE DATABASE name on the server of admin_url; returns the URL of the new one."""
    import sqlalchemy as sa

    engine = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    CREATED_DATABASES.append((admin_url, name))
    base, _, _ = admin_url.rpartition("/")
    return f"{base}/{name}"


def drop_created_databases() -> None:
    """Drop the databases fresh_postgres_database made in this process (a local server that
    keeps every run's databases gets slower run after run)."""
    import sqlalchemy as sa

    while CREATED_DATABASES:
        admin_url, name = CREATED_DATABASES.pop()
        engine = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as conn:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        except sa.exc.SQLAlchemyError:
            pass  # best effort: a leftover database harms no test
        finally:
            engine.dispose()


async def drop_topics(bootstrap: str, prefix: str, group_suffix: str) -> None:
    """Delete this run's topics (its prefix, its groups' dead-letter topics): thousands of
    leftover partitions slow the shared local broker and blur the next measurement."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=60_000)
    await admin.start()
    try:
        mine = [
            t
            for t in await admin.list_topics()
            if t.startswith(prefix) or (group_suffix in t and t.endswith(".dlq"))
        ]
        if mine:
            await admin.delete_topics(mine, timeout_ms=60_000)
    finally:
        await admin.close()
