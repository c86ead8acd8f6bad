"""Handler tests on FastStream's in-memory TestKafkaBroker: no real broker, real stores."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.shared.settings import Settings
from tests.support import key_settings


@pytest.fixture
def memory_settings(tmp_path: Path) -> Settings:
    return Settings(
        kafka_bootstrap="127.0.0.1:1",  # never dialled: TestKafkaBroker patches the broker
        data_dir=tmp_path,
        database_url=f"sqlite:///{tmp_path}/{{service}}.db",
        retry_backoff_s=0.0,
        **key_settings(),  # tokens of tests.support.who verify
    )
