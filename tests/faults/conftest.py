"""What fault tests kill: their own Kafka broker and services in subprocesses.

The broker is a second local one (deploy/local/kafka.sh on free ports, its data in the
test's folder), not the suite's: a fault test kill -9s it, and the suite's broker, shared
with every other test (and, on a developer's machine, with a running `./dev up`), would come
back slowly with all its partitions to recover, or not be there for the next test."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.faults.processes import OwnKafka
from tests.support import free_port


@pytest.fixture
def own_kafka(tmp_path: Path) -> Iterator[OwnKafka]:
    broker = OwnKafka(tmp_path / "kafka", free_port(), free_port())
    try:
        broker.start()
        yield broker
    finally:
        if (broker.run_dir / "kafka.pid").exists():
            broker.kill()  # its data goes next: no clean shutdown to wait for
        shutil.rmtree(broker.run_dir, ignore_errors=True)
