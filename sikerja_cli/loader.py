"""Load a demo city into the running services through their public APIs (the same paths
real data takes: siasn import -> EmployeeUpserted, attendance scans -> FingerprintRecorded,
absences, day closing -> AttendanceDayClosed, reports import -> ActivityReported ->
approval -> ReportApproved -> tpp)."""

from __future__ import annotations

import calendar
import csv
import re
import time
from datetime import date
from pathlib import Path

import httpx
import typer

from services.shared.settings import get_settings

# The demo is loaded as BKPSDM would (the NIP is a demo operator's).
BKPSDM = {"x-actor-role": "bkpsdm", "x-actor-nip": "197001011990031001"}


def _last_month(today: date) -> str:
    year, month = (today.year, today.month - 1) if today.month > 1 else (today.year - 1, 12)
    return f"{year:04d}-{month:02d}"


def _batches(path: Path, size: int) -> list[list[dict[str, str]]]:
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    return [rows[i : i + size] for i in range(0, len(rows), size)]


def _count(path: Path) -> int:
    with path.open(encoding="utf-8") as fh:
        return sum(1 for _ in fh) - 1


def load_demo(employees: int = 120, opds: int = 3, period: str | None = None) -> None:
    from sikerja_cli.demo_data import generate

    settings = get_settings()
    period = period or _last_month(date.today())
    folder = settings.data_dir / "demo" / f"{period}-{employees}-{opds}"
    marker = folder / ".loaded"
    if marker.exists():
        typer.echo(f"data demo sudah dimuat ({folder})")
        return
    generate(folder, employees=employees, opds=opds, period=period, seed=7)
    url = settings.service_url
    with httpx.Client(timeout=300) as client:
        body = (folder / "employees.csv").read_bytes()
        r = client.post(
            f"{url('siasn')}/api/v1/employees/import",
            content=body,
            headers={"content-type": "text/csv"},
        )
        r.raise_for_status()
        typer.echo(f"pegawai: {r.json()['accepted']} diterima")
        accepted = 0
        for batch in _batches(folder / "scans.csv", 5000):
            r = client.post(f"{url('attendance')}/api/v1/scans", json={"scans": batch})
            r.raise_for_status()
            # "menunggu": attendance has not consumed the employee yet; the scan waits in
            # quarantine and is published when it does (so it still counts here)
            accepted += sum(1 for line in r.json() if line["status"] != "rejected")
        typer.echo(f"scan: {accepted} diterima")
        _optional(
            client,
            f"{url('attendance')}/api/v1/absences/import",
            folder / "absences.csv",
            "ketidakhadiran",
        )
        # Day closing needs attendance's employee projection and report filing needs
        # activity's unlocks; both arrive through Kafka, so wait for them instead of guessing.
        _wait_consumed(client, "attendance", "EmployeeUpserted", _count(folder / "employees.csv"))
        year, month = (int(x) for x in period.split("-"))
        last = calendar.monthrange(year, month)[1]
        r = client.post(
            f"{url('attendance')}/api/v1/days/close-range",
            params={"start": f"{period}-01", "end": f"{period}-{last:02d}"},
            headers=BKPSDM,
        )
        if r.status_code != 404:
            r.raise_for_status()
            typer.echo(f"penutupan hari: {r.json()['emitted']} fakta hari dikirim")
        _wait_consumed(client, "activity", "FingerprintRecorded", accepted)
        _optional(
            client, f"{url('activity')}/api/v1/reports/import", folder / "reports.csv", "laporan"
        )
    marker.write_text(period)


def _wait_consumed(
    client: httpx.Client, service: str, event_type: str, n: int, timeout: float = 120
) -> None:
    """Poll the service's /metrics until it has handled `n` events of `event_type`."""
    endpoint = get_settings().service_url(service) + "/metrics"
    pattern = re.compile(
        r"^sikerja_events_consumed_total\{"
        + f'event_type="{event_type}",service="{service}"'
        + r"\} ([0-9.e+]+)$",
        re.M,
    )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = pattern.search(client.get(endpoint).text)
        if found and float(found.group(1)) >= n:
            return
        time.sleep(0.5)
    typer.echo(f"{service}: belum menerima {n} {event_type} setelah {timeout:.0f} detik", err=True)


def _optional(client: httpx.Client, endpoint: str, path: Path, label: str) -> None:
    """Routes a service may not have; the demo says what it skipped."""
    if not path.exists():
        return
    r = client.post(
        endpoint, content=path.read_bytes(), headers={"content-type": "text/csv", **BKPSDM}
    )
    if r.status_code == 404:
        typer.echo(f"{label}: dilewati (belum ada {endpoint})")
        return
    r.raise_for_status()
    summary = r.json()
    if isinstance(summary, dict):
        summary = {k: v if not isinstance(v, list) else len(v) for k, v in summary.items()}
    typer.echo(f"{label}: {summary}")
