"""Every log line is one JSON object, the libraries' included."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest
import structlog

from services.shared.logs import configure_logging, get_logger


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    structlog.reset_defaults()
    structlog.contextvars.clear_contextvars()
    root.handlers[:], root.level = handlers, level


@pytest.mark.usefixtures("restore_logging")
def test_own_and_library_logs_are_json_lines(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("tpp")
    get_logger("sikerja.test").info("statement recomputed", nip="198503122010011001")
    logging.getLogger("aiokafka.consumer").warning("Heartbeat failed for group %s", "tpp")
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line]
    assert [(x["event"], x["level"], x["service"]) for x in lines] == [
        ("statement recomputed", "info", "tpp"),
        ("Heartbeat failed for group tpp", "warning", "tpp"),
    ]
    assert lines[0]["nip"] == "198503122010011001"
    assert lines[1]["logger"] == "aiokafka.consumer"
    assert all(x["timestamp"].endswith("Z") for x in lines)
