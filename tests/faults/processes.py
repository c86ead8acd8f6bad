"""Processes a fault test kills: a Kafka broker of its own and services as uvicorn
subprocesses."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

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
        done = subprocess.run(
            [str(LOCAL / "kafka.sh"), command],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, f"kafka.sh {command}: {done.stderr[-2000:]}"

    def start(self) -> None:
        self._script("start")

    def kill(self) -> None:
        """SIGKILL: no clean shutdown, the log's tail is recovered at the next start."""
        pid = int((self.run_dir / "kafka.pid").read_text())
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            return
        for _ in range(100):
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.05)


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
