"""What a newcomer meets on the command line: `up`, `status`, `demo-data` and the demo loader
say what is true, in Bahasa lines a person reads (typer's CliRunner; no service runs)."""

from __future__ import annotations

import csv
import json
import os
import socket
import subprocess
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from services.shared import identity
from services.shared.settings import REPO_ROOT, get_settings
from sikerja_cli import main
from sikerja_cli.loader import BKPSDM_NIP, load_demo

KAFKA_SH = REPO_ROOT / "deploy" / "local" / "kafka.sh"
runner = CliRunner()


@pytest.fixture
def foreign_broker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[int]:
    """Something listens where kafka.sh looks, but kafka.sh's cache never started it."""
    with socket.socket() as srv:
        srv.bind(("127.0.0.1", 0))
        srv.listen()
        port = srv.getsockname()[1]
        monkeypatch.setenv("SIKERJA_CACHE", str(tmp_path / "cache"))
        monkeypatch.setenv("KAFKA_PORT", str(port))
        monkeypatch.delenv("KAFKA_RUN_DIR", raising=False)
        yield port


def _kafka_status() -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(KAFKA_SH), "status"], capture_output=True, text=True, env=os.environ)


def test_kafka_status_names_a_broker_it_did_not_start(foreign_broker: int) -> None:
    # `up` uses such a broker ("something already listens ...; using it"): status must not
    # call it stopped.
    out = _kafka_status()
    assert out.returncode == 0, out.stdout
    assert out.stdout.strip() == (
        f"kafka: berjalan di 127.0.0.1:{foreign_broker} (dimulai di luar SIKERJA ini; "
        "`down` tidak menghentikannya)"
    )


def test_kafka_status_stopped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # free again once closed
    monkeypatch.setenv("SIKERJA_CACHE", str(tmp_path))
    monkeypatch.setenv("KAFKA_PORT", str(port))
    monkeypatch.delenv("KAFKA_RUN_DIR", raising=False)
    out = _kafka_status()
    assert (out.returncode, out.stdout.strip()) == (1, "kafka: berhenti")


@pytest.fixture
def services_down(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(main, "available_services", lambda: ["tpp"])
    monkeypatch.setattr(main, "_pid", lambda name: None)
    monkeypatch.setattr(main, "_healthy", lambda name, path="/healthz", timeout=1.0: False)


def test_status_command_shows_the_kafka_line(foreign_broker: int, services_down: None) -> None:
    result = runner.invoke(main.app, ["status"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith(f"kafka: berjalan di 127.0.0.1:{foreign_broker}")
    assert lines[1].startswith("redis: ")  # `up` starts it too
    assert lines[2].split()[:2] == ["tpp", "berhenti"]


def test_second_up_says_already_running(
    foreign_broker: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(main, "available_services", lambda: ["tpp"])
    monkeypatch.setattr(main, "_pid", lambda name: 4242)
    monkeypatch.setattr(main, "_healthy", lambda name, path="/healthz", timeout=1.0: True)

    def must_not_start(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"up started something although all runs: {args}")

    monkeypatch.setattr(main, "_script", must_not_start)  # kafka.sh/redis.sh start
    result = runner.invoke(main.app, ["up"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("SIKERJA sudah berjalan")
    assert f"kafka: berjalan di 127.0.0.1:{foreign_broker}" in result.output


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_demo_data_defaults_to_last_month_and_speaks_bahasa(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(main, "_today", lambda: date(2026, 12, 1))
    out = tmp_path / "demo"
    result = runner.invoke(
        main.app, ["demo-data", "--employees", "20", "--opds", "2", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    # `up` loads last month; demo-data writes the same month unless told otherwise.
    assert {s["waktu"][:7] for s in _rows(out / "scans.csv")} == {"2026-11"}
    text = result.output.strip()
    assert "{" not in text and len(text.splitlines()) == 1
    scans = len(_rows(out / "scans.csv"))
    assert text.startswith(f"Data contoh ditulis ke {out}: 20 pegawai di 2 OPD, periode November")
    assert f"{scans:,} pindaian".replace(",", ".") in text


def test_demo_data_refuses_a_bad_period_in_one_line(tmp_path: Path) -> None:
    result = runner.invoke(main.app, ["demo-data", "--period", "2026-13", "--out", str(tmp_path)])
    assert result.exit_code == 1
    assert result.output.strip() == "periode '2026-13' tidak valid; gunakan format YYYY-MM"


# -- the demo loader -------------------------------------------------------------------------


class FakeServices:
    """The routes the loader calls, answering as the services do; one scan and one report
    refused so the loader has something to report."""

    def __init__(self) -> None:
        self.scan_batches = 0
        self.callers: set[tuple[str | None, str]] = set()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path.startswith("/api/v1/"):
            # as a service would: a token signed by the data folder's development key
            keys = identity.Jwks(get_settings().jwks_source())
            try:
                who = identity.verify(
                    identity.bearer(request.headers.get("authorization")), "attendance", keys
                )
            except identity.IdentityError as exc:
                return httpx.Response(401, json={"code": exc.code})
            self.callers.add((who.nip, who.role))
        if path.endswith("/metrics"):
            consumed = (("attendance", "EmployeeUpserted"), ("activity", "FingerprintRecorded"))
            text = "".join(
                f'sikerja_events_consumed_total{{event_type="{t}",service="{s}"}} 1e9\n'
                for s, t in consumed
            )
            return httpx.Response(200, text=text)
        if path == "/api/v1/employees/import":
            n = len(request.content.decode().splitlines()) - 1
            return httpx.Response(200, json={"accepted": n, "changed": n, "rejected": []})
        if path == "/api/v1/scans":
            scans = json.loads(request.content)["scans"]
            lines: list[dict[str, Any]] = [
                {"line": i, "nip": s["nip"], "status": "accepted"}
                for i, s in enumerate(scans, start=1)
            ]
            if self.scan_batches == 0:
                lines[1] = {**lines[1], "status": "rejected", "reason": "waktu tidak masuk akal"}
            self.scan_batches += 1
            return httpx.Response(200, json=lines)
        if path == "/api/v1/absences/import":
            n = len(request.content.decode().splitlines()) - 1
            body = {"accepted": n, "duplicate": 0, "rejected": 0, "lines": []}
            return httpx.Response(200, json=body)
        if path == "/api/v1/days/close-range":
            # 21 working days of 20 employees, a weekend day, some closed before (emitted < all)
            days = [{"working_day": True, "employees": 20, "emitted": 3}] * 21
            days.append({"working_day": False, "employees": 0, "emitted": 0})
            return httpx.Response(200, json={"days": days, "emitted": 63, "not_ended": []})
        if path == "/api/v1/reports/import":
            n = len(request.content.decode().splitlines()) - 1
            error = {"line": 5, "nip": "x", "tanggal": "x", "code": "no_scan_yet"}
            error["reason"] = "tidak ada sidik jari atau dinas luar pada tanggal itu"
            body = {"accepted": n - 1, "duplicate": 0, "rejected": 1, "errors": [error]}
            return httpx.Response(200, json=body)
        return httpx.Response(404)


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("SIKERJA_DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


def test_demo_loader_reports_in_sentences(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    services = FakeServices()
    client = httpx.Client(transport=httpx.MockTransport(services))
    load_demo(employees=20, opds=2, period="2026-11", client=client)
    assert services.callers == {(BKPSDM_NIP, "bkpsdm")}
    out, err = capsys.readouterr()
    folder = data_dir / "demo" / "2026-11-20-2"
    scans, reports = len(_rows(folder / "scans.csv")), len(_rows(folder / "reports.csv"))
    absences = len(_rows(folder / "absences.csv"))
    last = out.strip().splitlines()[-1]
    assert "{" not in out + err
    assert last == (
        f"Data contoh dimuat: 20 pegawai di 2 OPD, periode November 2026 (21 hari kerja): "
        f"{scans - 1} pindaian, {absences} ketidakhadiran, {reports - 1} laporan; "
        "420 hari kerja pegawai ditutup."
    )
    # The refused lines are named with their line in the file (scan 2 of the batch = line 3).
    assert err.splitlines() == [
        "Ditolak 1 pindaian, misalnya:",
        "  baris 3: waktu tidak masuk akal",
        "Ditolak 1 laporan, misalnya:",
        "  baris 5: tidak ada sidik jari atau dinas luar pada tanggal itu",
    ]
    # A second load of the same month says so and posts nothing.
    load_demo(employees=20, opds=2, period="2026-11", client=httpx.Client(transport=None))
    assert capsys.readouterr().out.startswith("Data contoh sudah dimuat")


def test_redis_status_names_a_server_it_did_not_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # ./dev test starts the shared local Redis (56379); seen from an empty cache it is
    # another's server, and `up` uses it ("something already listens ...; using it").
    monkeypatch.setenv("SIKERJA_CACHE", str(tmp_path))
    port = os.environ.get("SIKERJA_REDIS_PORT", "56379")
    out = subprocess.run(
        [str(REPO_ROOT / "deploy" / "local" / "redis.sh"), "status"],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stdout
    assert out.stdout.strip() == (
        f"redis: berjalan di 127.0.0.1:{port} (dimulai di luar SIKERJA ini; "
        "`down` tidak menghentikannya)"
    )


def test_up_gives_the_services_the_development_keys(data_dir: Path) -> None:
    """`up` writes the key pair under the data folder once and points every service at it:
    a token signed with the private key verifies against the JWKS the services read."""
    from services.shared.keys import service_token
    from services.shared.settings import Settings
    from sikerja_cli.main import identity_env

    env = identity_env()
    assert Path(env["SIKERJA_JWKS"]).is_relative_to(data_dir)
    assert Path(env["SIKERJA_SIGNING_KEY"]).is_relative_to(data_dir)
    private = Path(env["SIKERJA_SIGNING_KEY"]).read_text()
    assert identity_env() == env  # made once: a second `up` keeps the key
    assert Path(env["SIKERJA_SIGNING_KEY"]).read_text() == private
    served = Settings(jwks=env["SIKERJA_JWKS"], signing_key=Path(env["SIKERJA_SIGNING_KEY"]))
    signed = service_token(served, "bkpsdm", "tpp")
    who = identity.verify(signed, "tpp", identity.Jwks(env["SIKERJA_JWKS"]))
    assert (who.role, who.nip) == ("bkpsdm", None)


def test_the_demo_logins_are_four_different_people_an_asn_their_atasan_and_two_staff(
    tmp_path: Path,
) -> None:
    from sikerja_cli.demo_data import generate
    from sikerja_cli.loader import _demo_people

    generate(tmp_path, employees=60, opds=3, period="2026-10", seed=3)
    people = _demo_people(tmp_path)
    with (tmp_path / "employees.csv").open(encoding="utf-8", newline="") as fh:
        rows = {r["nip"]: r for r in csv.DictReader(fh)}
    (_, asn, _, r1), (_, boss, _, r2), (_, operator, _, r3), (_, bkpsdm, _, r4) = people
    assert len({asn, boss, operator, bkpsdm}) == 4
    assert rows[asn]["atasan_nip"] == boss
    assert all(r["atasan_nip"] != asn for r in rows.values())  # an ASN with no subordinates
    assert rows[operator]["opd"] == rows[asn]["opd"]
    assert (r1, r2, r3, r4) == (None, None, "operator", "bkpsdm")
