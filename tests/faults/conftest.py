"""What fault tests kill: their own Kafka broker and services in subprocesses.

The broker is a second local one (deploy/local/kafka.sh on free ports, its data in the
test's folder), not the suite's: a fault test kill -9s it, and the suite's broker, shared
with every other test (and, on a developer's machine, with a running `./dev up`), would come
back slowly with all its partitions to recover, or not be there for the next test."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bench.bench_reports import start_service
from tests.infra import LOCAL
from tests.support import free_port


@dataclass
class OwnKafka:
    """One KRaft node of our own: started, killed (-9) and restarted by the test."""

    run_dir: Path
    port: int
    controller_port: int

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def _script(self, command: str) -> None:
        env = {
            **os.environ,
            "KAFKA_PORT": str(self.port),
            "KAFKA_CONTROLLER_PORT": str(self.controller_port),
            "KAFKA_RUN_DIR": str(self.run_dir),
            "KAFKA_HEAP": "512m",
        }
        subprocess.run(
            [str(LOCAL / "kafka.sh"), command],
            env=env,
            check=True,
            capture_output=True,
            timeout=120,
        )

    def start(self) -> None:
        self._script("start")

    def kill(self) -> None:
        """SIGKILL: no clean shutdown, the log's tail is recovered at the next start."""
        pid = int((self.run_dir / "kafka.pid").read_text())
        os.kill(pid, signal.SIGKILL)
        for _ in range(100):
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.05)


@pytest.fixture
def own_kafka(tmp_path: Path) -> Iterator[OwnKafka]:
    broker = OwnKafka(tmp_path / "kafka", free_port(), free_port())
    broker.start()
    try:
        yield broker
    finally:
        if (broker.run_dir / "kafka.pid").exists():
            broker.kill()  # its data goes next: no clean shutdown to wait for
        shutil.rmtree(broker.run_dir, ignore_errors=True)


class Service:
    """A service as uvicorn in a subprocess (bench's start_service), restartable on its
    data folder; each life logs to its own file."""

    def __init__(self, name: str, env: dict[str, str], logs: Path) -> None:
        self.name, self.env, self.logs = name, env, logs
        self.port = free_port()
        self.lives = 0
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.lives += 1
        log = self.logs / f"{self.name}-{self.lives}.log"
        self.proc = start_service(self.name, self.port, self.env, log)

    def kill(self) -> None:
        """kill -9 of the service's one process (uvicorn without workers)."""
        assert self.proc is not None
        self.proc.kill()
        self.proc.wait(timeout=10)

    def restart(self) -> None:
        self.kill()
        self.start()

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def log_tail(self) -> str:
        return "\n".join(
            f"--- {p.name}\n{p.read_text(errors='replace')[-1500:]}"
            for p in sorted(self.logs.glob(f"{self.name}-*.log"))
        )
