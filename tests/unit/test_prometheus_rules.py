"""The Prometheus scrape configs and alert rules are valid and the alerts really fire.

Uses the real promtool (deploy/local/prometheus.sh install). A missing promtool is a
failure, not a skip: CI installs it, and a silently skipped check proves nothing.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

PROM_DIR = Path(__file__).resolve().parents[2] / "deploy" / "prometheus"
SERVICE_PORTS = {
    "attendance": 8101,
    "activity": 8102,
    "approval": 8103,
    "tpp": 8104,
    "notifier": 8105,
    "siasn": 8106,
    "portal": 8000,
}


def _promtool() -> str:
    path = shutil.which("promtool")
    if path is None:
        pytest.fail("promtool tidak ditemukan; jalankan deploy/local/prometheus.sh install")
    return path


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [_promtool(), *args], cwd=PROM_DIR, capture_output=True, text=True, timeout=60
    )


@pytest.mark.parametrize("config", ["prometheus.yml", "prometheus.docker.yml"])
def test_config_is_valid(config: str) -> None:
    result = _run("check", "config", config)
    assert result.returncode == 0, result.stdout + result.stderr


def test_rules_are_valid() -> None:
    result = _run("check", "rules", "alerts.yml")
    assert result.returncode == 0, result.stdout + result.stderr


def test_alert_unit_tests_pass() -> None:
    result = _run("test", "rules", "alerts_test.yml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_broken_alert_expectation_is_caught(tmp_path: Path) -> None:
    # The unit tests must be able to fail: expect tpp to be fine while it is down.
    shutil.copy(PROM_DIR / "alerts.yml", tmp_path / "alerts.yml")
    broken = yaml.safe_load((PROM_DIR / "alerts_test.yml").read_text())
    first = broken["tests"][0]["alert_rule_test"]
    firing = next(case for case in first if case["exp_alerts"])
    firing["exp_alerts"] = []
    (tmp_path / "alerts_test.yml").write_text(yaml.safe_dump(broken))
    result = subprocess.run(
        [_promtool(), "test", "rules", "alerts_test.yml"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "SikerjaServiceDown" in result.stdout + result.stderr


@pytest.mark.parametrize(
    ("config", "by_host_name"), [("prometheus.yml", False), ("prometheus.docker.yml", True)]
)
def test_every_service_is_scraped(config: str, by_host_name: bool) -> None:
    doc = yaml.safe_load((PROM_DIR / config).read_text())
    job = next(j for j in doc["scrape_configs"] if j["job_name"] == "sikerja")
    assert job.get("metrics_path", "/metrics") == "/metrics"
    scraped = {sc["labels"]["service"]: sc["targets"] for sc in job["static_configs"]}
    # Locally every service listens on 127.0.0.1; in Compose each is reached by its name.
    expected = {
        s: [f"{s if by_host_name else '127.0.0.1'}:{port}"] for s, port in SERVICE_PORTS.items()
    }
    assert scraped == expected


def test_required_alerts_exist() -> None:
    doc = yaml.safe_load((PROM_DIR / "alerts.yml").read_text())
    rules = {r["alert"]: r for g in doc["groups"] for r in g["rules"] if "alert" in r}
    assert {
        "SikerjaServiceDown",
        "SikerjaOutboxBacklogHigh",
        "SikerjaOutboxBacklogGrowing",
        "SikerjaDeadLetter",
        "SikerjaConsumerLagHigh",
        "SikerjaHandlerSlow",
        "SikerjaDeviceOffline",
        "SikerjaNotifierDeadLetters",
        "SikerjaNotifierChannelDown",
        "SikerjaSiasnBacklogStuck",
    } <= set(rules)
    for name, rule in rules.items():
        assert rule["labels"]["severity"] in {"critical", "warning"}, name
        assert rule["annotations"]["summary"], name
