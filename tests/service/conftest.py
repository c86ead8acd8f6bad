"""Handler tests on FastStream's in-memory TestKafkaBroker: no real broker, real stores."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from services.shared.settings import Settings
from tests.service.test_attendance_support import Harness, make_harness
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


@pytest.fixture
async def harness(tmp_path: Path) -> AsyncIterator[Harness]:
    """The attendance app on the in-memory broker (tests/service/test_attendance_support.py)."""
    async with make_harness(tmp_path) as h:
        yield h
