"""Settings of every service (pydantic-settings, prefix SIKERJA_)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

from contracts.topics import Topic

REPO_ROOT = Path(__file__).resolve().parents[2]
_SYSTEM_TOPICS = frozenset(t.value for t in Topic)

DEFAULT_PORTS: dict[str, int] = {
    "portal": 8000,
    "attendance": 8101,
    "activity": 8102,
    "approval": 8103,
    "tpp": 8104,
    "notifier": 8105,
    "siasn": 8106,
}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SIKERJA_", env_file=".env", extra="ignore")

    kafka_bootstrap: str = "127.0.0.1:9092"
    data_dir: Path = REPO_ROOT / "var"
    # `{service}` is replaced by the service name: one store per service.
    database_url: str = "sqlite:///{data_dir}/{service}.db"
    redis_url: str = "redis://127.0.0.1:56379/0"
    host: str = "127.0.0.1"  # where services are reached (and listen, unless listen_host)
    listen_host: str | None = None  # e.g. 0.0.0.0 inside a container
    # name -> host where a service is reached, e.g. {"tpp": "tpp"} in docker-compose
    service_hosts: dict[str, str] = {}
    ports: dict[str, int] = DEFAULT_PORTS
    # name -> uvicorn worker processes (default 1), e.g. {"attendance": 2} for the month's
    # device bursts: a service's workers share one store (SQLite's writer through a file lock)
    workers: dict[str, int] = {}
    log_level: str = "INFO"
    log_json: bool = True

    # tests and side-by-side runs use their own consumer groups (group = service + suffix)
    group_suffix: str = ""
    # ... and may use their own topics: prefix + "sikerja.attendance" (empty in production)
    topic_prefix: str = ""
    # topics a service creates when missing (production provisions them with more replicas)
    topic_partitions: int = 6
    topic_replication: int = 1
    # consumer: bounded retries, then the dead-letter topic
    max_attempts: int = 3
    consumer_batch: int = 500
    retry_backoff_s: float = 0.2
    # outbox relay
    relay_interval_s: float = 0.5
    relay_batch: int = 500
    # how long the event loop may wait for SQLite's writer before a request goes to a thread
    inline_writer_wait_s: float = 0.02
    # how long a woken relay waits for more commits before a pass (latency for CPU)
    relay_linger_s: float = 0.01
    relay_max_backoff_s: float = 5.0
    relay_lease_s: float = 10.0
    # rule set in force unless a service is told otherwise
    ruleset: str = "bekasi-perwali-69-2019"
    # signed identity (services/shared/identity.py): where services read the portal's public
    # keys (a JWKS file path or an http(s) URL; default data_dir/keys/jwks.json) and where
    # the machine that signs (the portal, `sikerja token`) keeps its private key
    jwks: str | None = None
    signing_key: Path | None = None
    jwks_refresh_s: float = 300.0
    # development only (docker-compose): the portal makes its own key pair at start when
    # none exists, and serves the public half at /.well-known/jwks.json for the services
    dev_keys: bool = False

    def topic(self, name: str) -> str:
        """The real name of one of the system's topics (contracts.Topic) under the prefix."""
        return self.topic_prefix + name if name in _SYSTEM_TOPICS else name

    def db_url(self, service: str) -> str:
        return self.database_url.format(service=service, data_dir=self.data_dir)

    def port(self, service: str) -> int:
        return self.ports.get(service, DEFAULT_PORTS[service])

    def service_url(self, service: str) -> str:
        return f"http://{self.service_hosts.get(service, self.host)}:{self.port(service)}"

    def bind_host(self) -> str:
        return self.listen_host or self.host

    def jwks_source(self) -> str:
        return self.jwks or str(self.data_dir / "keys" / "jwks.json")

    def signing_key_path(self) -> Path:
        return self.signing_key or self.data_dir / "keys" / "signing.jwk.json"


@lru_cache
def get_settings() -> Settings:
    return Settings()
