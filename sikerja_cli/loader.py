"""Load a demo city into the running services through their public APIs (the same paths
real data takes: siasn import -> EmployeeUpserted, attendance scans -> FingerprintRecorded)."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import httpx
import typer

from services.shared.settings import get_settings


def _last_month(today: date) -> str:
    year, month = (today.year, today.month - 1) if today.month > 1 else (today.year - 1, 12)
    return f"{year:04d}-{month:02d}"


def _batches(path: Path, size: int) -> list[list[dict[str, str]]]:
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    return [rows[i : i + size] for i in range(0, len(rows), size)]


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
    with httpx.Client(timeout=120) as client:
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
            accepted += sum(1 for line in r.json() if line["status"] != "rejected")
        typer.echo(f"scan: {accepted} diterima")
        _optional(
            client,
            f"{url('attendance')}/api/v1/absences/import",
            folder / "absences.csv",
            "ketidakhadiran",
        )
        _optional(
            client, f"{url('activity')}/api/v1/reports/import", folder / "reports.csv", "laporan"
        )
    marker.write_text(period)


def _optional(client: httpx.Client, endpoint: str, path: Path, label: str) -> None:
    """Routes that later services add; until then the demo says what it skipped."""
    if not path.exists():
        return
    r = client.post(
        endpoint,
        content=path.read_bytes(),
        headers={"content-type": "text/csv", "x-actor-role": "bkpsdm"},
    )
    if r.status_code == 404:
        typer.echo(f"{label}: dilewati (belum ada {endpoint})")
        return
    r.raise_for_status()
    typer.echo(f"{label}: {r.json()}")
